/**
 * Non-maximum suppression: greedy IoU, DIoU as Darknet's greedynms / diounms, Gaussian
 * soft-NMS; per class or class-agnostic. Runs on the few candidates above the score threshold.
 */
import { NmsSpec } from '../spec';
import { cornerDiou, cornerIou, cornerIouFloat32 } from '../boxes/iou';

/**
 * Greedy / soft NMS over boxes `[x1, y1, x2, y2]` (flat). Returns kept indices. With `groups`,
 * only boxes of the same group suppress each other. Soft-NMS rewrites `scores` in place and
 * drops boxes whose decayed score is no longer above `scoreThreshold`.
 */
export function suppress(
  boxes: ArrayLike<number>,
  scores: Float64Array | Float32Array,
  groups: ArrayLike<number> | null,
  nms: NmsSpec,
  scoreThreshold = -Infinity,
): number[] {
  const n = scores.length;
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups ? groups[i] : 0;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  }
  const keep: number[] = [];
  const pixelOffset = nms.pixelOffset ?? 0;
  const overlap = overlapFunction(nms, pixelOffset);
  for (const list of byGroup.values()) {
    if (nms.kind === 'soft') {
      softSuppress(list, boxes, scores, nms.sigma ?? 0.5, scoreThreshold, keep, pixelOffset);
      continue;
    }
    // Stable sort by descending score: ties keep decode order, as Darknet's and torch's sorts do
    // in practice.
    list.sort((a, b) => scores[b] - scores[a]);
    const removed = new Uint8Array(list.length);
    for (let i = 0; i < list.length; i++) {
      if (removed[i]) continue;
      const a = list[i];
      keep.push(a);
      for (let j = i + 1; j < list.length; j++) {
        if (!removed[j] && overlap(boxes, a, list[j]) > nms.iouThreshold) removed[j] = 1;
      }
    }
  }
  return keep;
}

function softSuppress(
  list: number[],
  boxes: ArrayLike<number>,
  scores: Float64Array | Float32Array,
  sigma: number,
  thr: number,
  keep: number[],
  pixelOffset: number,
): void {
  const alive = list.slice();
  while (alive.length) {
    let best = 0;
    for (let i = 1; i < alive.length; i++) if (scores[alive[i]] > scores[alive[best]]) best = i;
    const a = alive[best];
    alive.splice(best, 1);
    keep.push(a);
    for (let i = alive.length - 1; i >= 0; i--) {
      const j = alive[i];
      const iou = boxIou(boxes, a, j, pixelOffset);
      scores[j] *= Math.exp(-(iou * iou) / sigma);
      if (!(scores[j] > thr)) alive.splice(i, 1);
    }
  }
}

type Overlap = (boxes: ArrayLike<number>, a: number, b: number) => number;

function overlapFunction(nms: NmsSpec, offset: number): Overlap {
  if (nms.kind === 'diou') {
    if (offset) throw new Error('NMS: pixelOffset applies to IoU NMS, not DIoU');
    const beta = nms.beta ?? 0.6;
    return (boxes, a, b) => boxDiou(boxes, a, b, beta);
  }
  return offset ? (boxes, a, b) => boxIou(boxes, a, b, offset) : boxIou;
}

/**
 * IoU of boxes `a` and `b` (indices into flat `[x1, y1, x2, y2]` data); see `cornerIou`
 * (src/boxes/iou.ts) for `pixelOffset`.
 */
export function boxIou(boxes: ArrayLike<number>, a: number, b: number, pixelOffset = 0): number {
  return cornerIou(boxes[a * 4], boxes[a * 4 + 1], boxes[a * 4 + 2], boxes[a * 4 + 3], boxes[b * 4], boxes[b * 4 + 1], boxes[b * 4 + 2], boxes[b * 4 + 3], pixelOffset);
}

/** Darknet's DIoU of boxes `a` and `b` (indices into flat corner data); see `cornerDiou`. */
export function boxDiou(boxes: ArrayLike<number>, a: number, b: number, beta: number): number {
  return cornerDiou(boxes[a * 4], boxes[a * 4 + 1], boxes[a * 4 + 2], boxes[a * 4 + 3], boxes[b * 4], boxes[b * 4 + 1], boxes[b * 4 + 2], boxes[b * 4 + 3], beta);
}

/** torchvision's float32 IoU of boxes `a` and `b` (indices into flat corner data); see `cornerIouFloat32`. */
export function boxIouFloat32(boxes: ArrayLike<number>, a: number, b: number): number {
  return cornerIouFloat32(boxes[a * 4], boxes[a * 4 + 1], boxes[a * 4 + 2], boxes[a * 4 + 3], boxes[b * 4], boxes[b * 4 + 1], boxes[b * 4 + 2], boxes[b * 4 + 3]);
}

/**
 * torchvision's batched NMS input (`NmsSpec.classOffset`): boxes + class * offset in float32.
 * `separated` is true when no two classes' shifted boxes can overlap, so comparing only boxes of
 * one class gives the same result as one pass over all boxes.
 */
export function classOffsetBoxes(boxes: ArrayLike<number>, classes: ArrayLike<number>, offset: number): { boxes: Float32Array; separated: boolean } {
  const f = Math.fround;
  const out = new Float32Array(classes.length * 4);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < classes.length; i++) {
    const d = f(classes[i] * offset);
    for (let j = 0; j < 4; j++) out[i * 4 + j] = f(boxes[i * 4 + j]) + d;
    lo = Math.min(lo, boxes[i * 4], boxes[i * 4 + 1]);
    hi = Math.max(hi, boxes[i * 4 + 2], boxes[i * 4 + 3]);
  }
  return { boxes: out, separated: hi - lo < offset - 1 };
}

/**
 * torchvision's greedy NMS on float32 offset boxes, visiting boxes in descending score order
 * (stable): a box is kept unless a box kept before it overlaps it by more than `iouThr`.
 * Suppression only flows from higher to lower scores, so once `limit` boxes are kept the rest
 * cannot change them and the pass stops (upstream keeps the first max_det of the full result).
 * `groups` (classes) restricts comparisons to one class when the offsets keep classes apart.
 * Returns the kept indices in score order.
 */
export function suppressBatched(boxes: Float32Array, scores: ArrayLike<number>, groups: ArrayLike<number> | null, iouThr: number, limit: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const kept: number[] = [];
  const keptByGroup = new Map<number, number[]>();
  for (const i of order) {
    if (limit > 0 && kept.length >= limit) break;
    const g = groups ? groups[i] : 0;
    let rivals = keptByGroup.get(g);
    if (!rivals) keptByGroup.set(g, (rivals = []));
    let suppressed = false;
    for (const k of rivals) {
      if (boxIouFloat32(boxes, k, i) > iouThr) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept.push(i);
    rivals.push(i);
  }
  return kept;
}
