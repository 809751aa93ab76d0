/**
 * Anchor boxes for anchor + delta heads (EfficientDet / RetinaNet style).
 */
import { AnchorDeltasHeadSpec } from '../spec';

/**
 * Anchors `[y1, x1, y2, x2]` in network pixels, in the order level -> y -> x -> anchor, with
 * anchor index = scaleIndex * ratios.length + ratioIndex (itertools.product(scales, ratios)).
 * Computed in double precision and rounded to float32, as upstream (numpy float64 -> float32).
 */
export function generateAnchors(
  head: Pick<AnchorDeltasHeadSpec, 'levels' | 'anchorScale' | 'scales' | 'ratios'>,
  inputSize: [number, number],
): Float32Array {
  const [imgH, imgW] = inputSize;
  const out: number[] = [];
  for (const level of head.levels) {
    const stride = 2 ** level;
    if (imgW % stride !== 0 || imgH % stride !== 0) {
      throw new Error(`input size ${imgH}x${imgW} must be divisible by the stride ${stride} of level ${level}`);
    }
    const halves: [number, number][] = [];
    for (const scale of head.scales) {
      for (const [rx, ry] of head.ratios) {
        const base = head.anchorScale * stride * scale;
        halves.push([(base * ry) / 2, (base * rx) / 2]);
      }
    }
    for (let y = stride / 2; y < imgH; y += stride) {
      for (let x = stride / 2; x < imgW; x += stride) {
        for (const [hh, hw] of halves) out.push(y - hh, x - hw, y + hh, x + hw);
      }
    }
  }
  return new Float32Array(out);
}

/** Number of anchors `generateAnchors` yields. */
export function anchorCount(
  head: Pick<AnchorDeltasHeadSpec, 'levels' | 'scales' | 'ratios'>,
  inputSize: [number, number],
): number {
  const perCell = head.scales.length * head.ratios.length;
  return head.levels.reduce((n, l) => {
    const s = 2 ** l;
    return n + Math.ceil((inputSize[0] - s / 2) / s) * Math.ceil((inputSize[1] - s / 2) / s) * perCell;
  }, 0);
}
