/**
 * The one IoU module (src/boxes/iou.ts): each variant against hand-computed values, and against
 * the formulas NMS and the evaluators used before they shared it (written out here as they
 * were), bit for bit on overlapping boxes; on boxes that do not overlap the documented
 * difference only (0 where the evaluators computed 0 / union).
 */
import { cornerDiou, cornerIou, cornerIouFloat32, overlapRatio, xywhIou } from '../../src/boxes/iou';
import { mulberry32 } from '../../src/util/random';

// The formulas as they were (src/nms/nms.ts boxIou, src/eval/cocoEvaluate.ts bbIou,
// src/eval/vocEvaluate.ts chainercv iou), for the comparison.
function nmsIouBefore(a: number[], b: number[], p: number): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + p;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + p;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0] + p) * (a[3] - a[1] + p) + (b[2] - b[0] + p) * (b[3] - b[1] + p) - inter;
  return union > 0 ? inter / union : 0;
}
function cocoIouBefore(D: number[], G: number[], crowd: boolean): number {
  const da = D[2] * D[3];
  const ga = G[2] * G[3];
  let o = 0;
  const w = Math.min(D[2] + D[0], G[2] + G[0]) - Math.max(D[0], G[0]);
  if (w > 0) {
    const h = Math.min(D[3] + D[1], G[3] + G[1]) - Math.max(D[1], G[1]);
    if (h > 0) {
      const i = w * h;
      o = i / (crowd ? da : da + ga - i);
    }
  }
  return o;
}
function vocIouBefore(a: number[], b: number[]): number {
  const tlx = Math.max(a[0], b[0]);
  const tly = Math.max(a[1], b[1]);
  const brx = Math.min(a[2], b[2]);
  const bry = Math.min(a[3], b[3]);
  const inter = tlx < brx && tly < bry ? (brx - tlx) * (bry - tly) : 0;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

describe('boxes/iou', () => {
  it('corner IoU, with and without the +1 pixel convention', () => {
    expect(cornerIou(0, 0, 10, 10, 5, 5, 15, 15)).toBeCloseTo(25 / 175, 15);
    // py_cpu_nms: widths x2 - x1 + 1 = 10, overlap 14 - ... : [0,9] and [5,14] share 5 pixels
    expect(cornerIou(0, 0, 9, 9, 5, 5, 14, 14, 1)).toBeCloseTo(25 / 175, 15);
    expect(cornerIou(0, 0, 9, 9, 5, 5, 14, 14, 0)).toBeCloseTo(16 / 146, 15);
    expect(cornerIou(0, 0, 1, 1, 1, 0, 2, 1)).toBe(0); // touching edges
    expect(cornerIou(0, 0, 1, 1, 1, 0, 2, 1, 1)).toBeCloseTo(2 / 6, 15); // ... share a pixel column with +1
  });

  it('xywh IoU takes the areas from w * h; crowd: over the first box only', () => {
    expect(xywhIou([0, 0, 10, 10], [5, 5, 10, 10])).toBeCloseTo(25 / 175, 15);
    expect(xywhIou([0, 0, 10, 10], [5, 5, 10, 10], true)).toBeCloseTo(25 / 100, 15);
    expect(xywhIou([2, 2, 2, 2], [0, 0, 100, 100], true)).toBe(1);
  });

  it('degenerate boxes give 0 (the float32 variant keeps torchvision NaN for two empty boxes)', () => {
    expect(cornerIou(3, 3, 3, 3, 3, 3, 3, 3)).toBe(0);
    expect(cornerIou(5, 5, 0, 0, 0, 0, 5, 5)).toBe(0); // inverted
    expect(xywhIou([1, 1, 0, 0], [1, 1, 0, 0], true)).toBe(0);
    expect(overlapRatio(NaN, 1, 1, 1)).toBe(0);
    expect(cornerIouFloat32(3, 3, 3, 3, 3, 3, 3, 3)).toBeNaN();
  });

  it('float32 variant rounds every step; DIoU subtracts the normalised centre distance', () => {
    const a = [0.1, 0.2, 10.3, 10.7];
    const b = [5.1, 5.3, 15.9, 15.2];
    const f = cornerIouFloat32(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
    expect(f).toBe(Math.fround(f));
    expect(Math.abs(f - cornerIou(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]))).toBeLessThan(1e-6);
    // same centre: DIoU = IoU; apart: smaller
    expect(cornerDiou(0, 0, 10, 10, 2, 2, 8, 8, 0.6)).toBe(cornerIou(0, 0, 10, 10, 2, 2, 8, 8));
    const d = cornerDiou(0, 0, 10, 10, 5, 5, 15, 15, 1);
    expect(d).toBeCloseTo(25 / 175 - 50 / 450, 15);
  });

  it('bit-identical to the formulas NMS and both evaluators used before, on overlapping boxes', () => {
    const rnd = mulberry32(7);
    const box = (): number[] => {
      // pixel-ish and fractional coordinates, some boxes tiny, some large
      const x = Math.round(rnd() * 200) / (rnd() < 0.5 ? 1 : 7);
      const y = Math.round(rnd() * 200) / (rnd() < 0.5 ? 1 : 3);
      const w = rnd() < 0.1 ? rnd() * 1e-3 : rnd() * 120;
      const h = rnd() < 0.1 ? rnd() * 1e-3 : rnd() * 120;
      return [x, y, w, h];
    };
    let overlapping = 0;
    let separate = 0;
    const differ: string[] = [];
    const same = (what: () => string, now: number, before: number): void => {
      if (!Object.is(now, before)) differ.push(`${what()}: ${now} vs ${before}`);
    };
    for (let i = 0; i < 20000; i++) {
      const A = box();
      const B = box();
      const a = [A[0], A[1], A[0] + A[2], A[1] + A[3]];
      const b = [B[0], B[1], B[0] + B[2], B[1] + B[3]];
      for (const p of [0, 1]) same(() => `nms ${a} ${b} +${p}`, cornerIou(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], p), nmsIouBefore(a, b, p));
      for (const crowd of [false, true]) same(() => `coco ${A} ${B} ${crowd}`, xywhIou(A, B, crowd), cocoIouBefore(A, B, crowd));
      for (const off of [0, 1]) {
        const va = [A[0], A[1], A[0] + A[2] + off, A[1] + A[3] + off];
        const vb = [B[0], B[1], B[0] + B[2] + off, B[1] + B[3] + off];
        const now = cornerIou(va[0], va[1], va[2], va[3], vb[0], vb[1], vb[2], vb[3]);
        const before = vocIouBefore(va, vb);
        if (before > 0) {
          overlapping++;
          same(() => `voc ${va} ${vb}`, now, before);
        } else {
          separate++;
          same(() => `voc apart ${va} ${vb}`, now, 0); // was 0 / union: 0, -0 or NaN; below any threshold either way
        }
      }
    }
    expect(differ.slice(0, 5)).toEqual([]);
    expect(overlapping).toBeGreaterThan(1000);
    expect(separate).toBeGreaterThan(1000);
  });
});
