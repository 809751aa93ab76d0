/**
 * Non-maximum suppression: greedy IoU, DIoU as Darknet's greedynms / diounms, Gaussian
 * soft-NMS; per class or class-agnostic. Runs on the few candidates above the score threshold.
 */
import { NmsSpec } from '../spec';

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
  const overlap = overlapFunction(nms);
  for (const list of byGroup.values()) {
    if (nms.kind === 'soft') {
      softSuppress(list, boxes, scores, nms.sigma ?? 0.5, scoreThreshold, keep, nms.pixelOffset ?? 0);
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

function overlapFunction(nms: NmsSpec): Overlap {
  if (nms.kind === 'diou') {
    if (nms.pixelOffset) throw new Error('NMS: pixelOffset applies to IoU NMS, not DIoU');
    const beta = nms.beta ?? 0.6;
    return (boxes, a, b) => boxDiou(boxes, a, b, beta);
  }
  const offset = nms.pixelOffset ?? 0;
  return offset ? (boxes, a, b) => boxIou(boxes, a, b, offset) : boxIou;
}

/**
 * IoU of boxes `a` and `b` (indices into flat `[x1, y1, x2, y2]` data). `pixelOffset` (default 0)
 * is added to every width and height, intersections included: 1 gives `py_cpu_nms`'s
 * `(x2 - x1 + 1) * (y2 - y1 + 1)` areas and `max(0, min(x2) - max(x1) + 1)` overlaps.
 */
export function boxIou(boxes: ArrayLike<number>, a: number, b: number, pixelOffset = 0): number {
  const ax1 = boxes[a * 4], ay1 = boxes[a * 4 + 1], ax2 = boxes[a * 4 + 2], ay2 = boxes[a * 4 + 3];
  const bx1 = boxes[b * 4], by1 = boxes[b * 4 + 1], bx2 = boxes[b * 4 + 2], by2 = boxes[b * 4 + 3];
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1) + pixelOffset;
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1) + pixelOffset;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1 + pixelOffset) * (ay2 - ay1 + pixelOffset) + (bx2 - bx1 + pixelOffset) * (by2 - by1 + pixelOffset) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Darknet's DIoU for NMS: IoU - (d^2 / c^2)^beta, with d the centre distance and c the diagonal
 * of the smallest enclosing box.
 */
export function boxDiou(boxes: ArrayLike<number>, a: number, b: number, beta: number): number {
  const iou = boxIou(boxes, a, b);
  const ax1 = boxes[a * 4], ay1 = boxes[a * 4 + 1], ax2 = boxes[a * 4 + 2], ay2 = boxes[a * 4 + 3];
  const bx1 = boxes[b * 4], by1 = boxes[b * 4 + 1], bx2 = boxes[b * 4 + 2], by2 = boxes[b * 4 + 3];
  const cw = Math.max(ax2, bx2) - Math.min(ax1, bx1);
  const ch = Math.max(ay2, by2) - Math.min(ay1, by1);
  const c = cw * cw + ch * ch;
  if (c === 0) return iou;
  const dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2;
  const dy = (ay1 + ay2) / 2 - (by1 + by2) / 2;
  return iou - Math.pow((dx * dx + dy * dy) / c, beta);
}

/** IoU with every step rounded to float32, as torchvision's CPU `nms` kernel computes it. */
export function boxIouFloat32(boxes: ArrayLike<number>, a: number, b: number): number {
  const f = Math.fround;
  const ax1 = boxes[a * 4], ay1 = boxes[a * 4 + 1], ax2 = boxes[a * 4 + 2], ay2 = boxes[a * 4 + 3];
  const bx1 = boxes[b * 4], by1 = boxes[b * 4 + 1], bx2 = boxes[b * 4 + 2], by2 = boxes[b * 4 + 3];
  const w = Math.max(0, f(Math.min(ax2, bx2) - Math.max(ax1, bx1)));
  const h = Math.max(0, f(Math.min(ay2, by2) - Math.max(ay1, by1)));
  const inter = f(w * h);
  const areaA = f(f(ax2 - ax1) * f(ay2 - ay1));
  const areaB = f(f(bx2 - bx1) * f(by2 - by1));
  return f(inter / f(f(areaA + areaB) - inter));
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
