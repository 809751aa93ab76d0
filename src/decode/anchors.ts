/**
 * Anchor boxes for anchor + delta heads (EfficientDet / RetinaNet style), exactly as zylo117's
 * `Anchors` computes them: for each level (stride 2^level), for each (scale, ratio) in
 * product(scales, ratios) (anchor index a = scaleIdx * nRatios + ratioIdx),
 * base = anchorScale * stride * scale, half-width = base * ratio[0] / 2,
 * half-height = base * ratio[1] / 2, centres at stride/2 + i*stride (i while < size). Boxes are
 * (y1, x1, y2, x2) in network-input pixels, computed in float64 and rounded once to float32;
 * order level -> y -> x -> anchor.
 */
import { AnchorDeltasHeadSpec } from '../spec';

/** Options of {@link gridAnchors}. */
export interface AnchorGridOptions {
  /** Pyramid levels, e.g. [3, 4, 5, 6, 7]. */
  levels: number[];
  /** Base anchor size multiplier (4, or 5 for D7). */
  anchorScale: number;
  /** Octave scales, e.g. [2^0, 2^(1/3), 2^(2/3)]. */
  scales: number[];
  /** Aspect ratios `[rx, ry]`: rx scales the width, ry the height. */
  ratios: [number, number][];
  /** Network input size: a square side or `[height, width]`. */
  inputSize: number | [number, number];
}

/** Number of anchors {@link gridAnchors} returns (without computing them). */
export function anchorCount(o: AnchorGridOptions): number {
  const [h, w] = checkOptions(o);
  const A = o.scales.length * o.ratios.length;
  let n = 0;
  for (const level of o.levels) {
    const s = 2 ** level;
    n += Math.ceil((h - s / 2) / s) * Math.ceil((w - s / 2) / s) * A;
  }
  return n;
}

/** All anchors as a flat Float32Array `[K * 4]` of (y1, x1, y2, x2). */
export function gridAnchors(o: AnchorGridOptions): Float32Array {
  const [h, w] = checkOptions(o);
  const out = new Float32Array(anchorCount(o) * 4);
  let p = 0;
  for (const level of o.levels) {
    const stride = 2 ** level;
    // Per (scale, ratio): half sizes, in upstream's operation order (float64).
    const halves: [number, number][] = [];
    for (const scale of o.scales) {
      for (const ratio of o.ratios) {
        const base = o.anchorScale * stride * scale;
        halves.push([(base * ratio[1]) / 2.0, (base * ratio[0]) / 2.0]);
      }
    }
    for (let y = stride / 2; y < h; y += stride) {
      for (let x = stride / 2; x < w; x += stride) {
        for (const [hy, hx] of halves) {
          out[p++] = y - hy;
          out[p++] = x - hx;
          out[p++] = y + hy;
          out[p++] = x + hx;
        }
      }
    }
  }
  return out;
}

function checkOptions(o: AnchorGridOptions): [number, number] {
  const [h, w] = typeof o.inputSize === 'number' ? [o.inputSize, o.inputSize] : o.inputSize;
  if (!(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) {
    throw new Error(`gridAnchors: inputSize must be positive integers, got ${JSON.stringify(o.inputSize)}`);
  }
  if (!Array.isArray(o.levels) || o.levels.length === 0 || o.levels.some((l) => !Number.isInteger(l) || l < 0)) {
    throw new Error(`gridAnchors: levels must be non-negative integers, got ${JSON.stringify(o.levels)}`);
  }
  if (!(o.anchorScale > 0)) throw new Error(`gridAnchors: anchorScale must be > 0, got ${o.anchorScale}`);
  if (!o.scales?.length || o.scales.some((s) => !(s > 0))) throw new Error(`gridAnchors: scales must be positive numbers, got ${JSON.stringify(o.scales)}`);
  if (!o.ratios?.length || o.ratios.some((r) => r.length !== 2 || !(r[0] > 0 && r[1] > 0))) {
    throw new Error(`gridAnchors: ratios must be [rx, ry] pairs > 0, got ${JSON.stringify(o.ratios)}`);
  }
  for (const level of o.levels) {
    // Upstream raises on width % stride; the heights would also break the head/anchor alignment.
    const s = 2 ** level;
    if (w % s !== 0 || h % s !== 0) throw new Error(`gridAnchors: input ${h}x${w} must be divisible by the stride ${s} of level ${level}`);
  }
  return [h, w];
}

/** The anchors of an anchor-deltas head for a network input size. */
export function generateAnchors(
  head: Pick<AnchorDeltasHeadSpec, 'levels' | 'anchorScale' | 'scales' | 'ratios'>,
  inputSize: [number, number],
): Float32Array {
  return gridAnchors({ ...head, inputSize });
}
