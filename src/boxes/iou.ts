/**
 * Intersection over union of axis-aligned boxes: the one implementation behind NMS
 * (src/nms) and the COCO and VOC evaluators (src/eval). Each caller must reproduce an original
 * to the bit, so the conventions are explicit variants rather than options hidden in one
 * formula:
 *
 * - the box form: corners `[x1, y1, x2, y2]` ({@link cornerIou}: NMS, VOC) or `[x, y, w, h]`
 *   ({@link xywhIou}: COCO, whose areas are `w * h` of the given sizes, not `(x + w) - x`);
 * - the +1 pixel convention, applied where each original applies it: `py_cpu_nms` adds it to
 *   every width and height (`pixelOffset` 1), the VOC devkit / chainercv add it to `x2`, `y2`
 *   before the IoU (the VOC evaluator shifts its corners, then calls `cornerIou` without offset);
 * - crowd regions (COCO): intersection over the first box's area ({@link xywhIou}'s `crowd`);
 * - float32 rounding of every step (torchvision's CPU nms, {@link cornerIouFloat32});
 * - DIoU (Darknet's diounms, {@link cornerDiou}).
 *
 * Degenerate boxes: where the boxes do not overlap (intersection width or height <= 0, NaN
 * included) or the union is not positive, the IoU is 0 in every variant except the float32
 * one, which keeps torchvision's arithmetic (0 / 0 = NaN for two empty boxes, which suppresses
 * nothing, like 0). The evaluators used to return `0 / union` there (NaN or -0 for empty or
 * inverted boxes); no match decision depends on the difference, since a match needs IoU >= a
 * threshold > 0.
 */

/**
 * Intersection over union from the intersection's width and height and the two areas:
 * `iw * ih / (areaA + areaB - iw * ih)`, or over `areaA` alone with `overFirstArea`.
 * 0 when the boxes do not overlap or the union is not positive.
 */
export function overlapRatio(iw: number, ih: number, areaA: number, areaB: number, overFirstArea = false): number {
  if (!(iw > 0 && ih > 0)) return 0;
  const inter = iw * ih;
  const union = overFirstArea ? areaA : areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * IoU of two boxes given by corners. `pixelOffset` (default 0) is added to every width and
 * height, intersections included: 1 gives `py_cpu_nms`'s `(x2 - x1 + 1) * (y2 - y1 + 1)` areas
 * and `min(x2) - max(x1) + 1` overlaps.
 */
export function cornerIou(
  ax1: number, ay1: number, ax2: number, ay2: number,
  bx1: number, by1: number, bx2: number, by2: number,
  pixelOffset = 0,
): number {
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1) + pixelOffset;
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1) + pixelOffset;
  return overlapRatio(iw, ih, (ax2 - ax1 + pixelOffset) * (ay2 - ay1 + pixelOffset), (bx2 - bx1 + pixelOffset) * (by2 - by1 + pixelOffset));
}

/**
 * IoU of two `[x, y, w, h]` boxes as pycocotools' maskApi `bbIou` computes it (areas `w * h`).
 * With `crowd` (the second box is a crowd region): intersection / area of the first box.
 */
export function xywhIou(a: ArrayLike<number>, b: ArrayLike<number>, crowd = false): number {
  const iw = Math.min(a[2] + a[0], b[2] + b[0]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3] + a[1], b[3] + b[1]) - Math.max(a[1], b[1]);
  return overlapRatio(iw, ih, a[2] * a[3], b[2] * b[3], crowd);
}

/** Corner IoU with every step rounded to float32, as torchvision's CPU `nms` kernel computes it. */
export function cornerIouFloat32(
  ax1: number, ay1: number, ax2: number, ay2: number,
  bx1: number, by1: number, bx2: number, by2: number,
): number {
  const f = Math.fround;
  const w = Math.max(0, f(Math.min(ax2, bx2) - Math.max(ax1, bx1)));
  const h = Math.max(0, f(Math.min(ay2, by2) - Math.max(ay1, by1)));
  const inter = f(w * h);
  const areaA = f(f(ax2 - ax1) * f(ay2 - ay1));
  const areaB = f(f(bx2 - bx1) * f(by2 - by1));
  return f(inter / f(f(areaA + areaB) - inter));
}

/**
 * Darknet's DIoU (for NMS): IoU - (d^2 / c^2)^beta, with d the centre distance and c the
 * diagonal of the smallest enclosing box.
 */
export function cornerDiou(
  ax1: number, ay1: number, ax2: number, ay2: number,
  bx1: number, by1: number, bx2: number, by2: number,
  beta: number,
): number {
  const iou = cornerIou(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2);
  const cw = Math.max(ax2, bx2) - Math.min(ax1, bx1);
  const ch = Math.max(ay2, by2) - Math.min(ay1, by1);
  const c = cw * cw + ch * ch;
  if (c === 0) return iou;
  const dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2;
  const dy = (ay1 + ay2) / 2 - (by1 + by2) / 2;
  return iou - Math.pow((dx * dx + dy * dy) / c, beta);
}
