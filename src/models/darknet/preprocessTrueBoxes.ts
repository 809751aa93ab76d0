/**
 * keras-yolo3's `preprocess_true_boxes`: ground-truth boxes -> per-scale YOLO targets.
 */
import * as tf from '@tensorflow/tfjs';
import { checkGroundTruth, GroundTruthBox } from '../../loss/types';

/** Options of {@link preprocessTrueBoxes}. */
export interface YoloV3TargetOptions {
  /** Network input `[height, width]` in pixels. */
  inputSize: [number, number];
  /** ALL anchors `[w, h]` in input pixels (e.g. the cfg's 6 or 9), in cfg order. */
  anchors: [number, number][];
  /**
   * Anchor indices of each output scale, in output order. Default as keras-yolo3:
   * 9 anchors -> `[[6,7,8],[3,4,5],[0,1,2]]`, 6 anchors -> `[[3,4,5],[1,2,3]]` (the tiny cfgs'
   * masks; anchor 0 belongs to no scale, so boxes it fits best are not assigned).
   */
  anchorMask?: number[][];
  numClasses: number;
  /** Grid `[height, width]` of each scale. Default: input size // 32, 16, 8 (keras-yolo3). */
  gridSizes?: [number, number][];
}

/** Per-scale targets in plain arrays: `[N, H, W, A, 5 + C]` (x, y, w, h relative to the input, obj, one-hot). */
export interface YoloV3TargetArrays {
  data: Float32Array[];
  shapes: [number, number, number, number, number][];
}

/** keras-yolo3's default anchor mask for `n` anchors. */
export function kerasAnchorMask(n: number): number[][] {
  if (n === 9) return [[6, 7, 8], [3, 4, 5], [0, 1, 2]];
  if (n === 6) return [[3, 4, 5], [1, 2, 3]];
  throw new Error(`kerasAnchorMask: no default mask for ${n} anchors (keras-yolo3 knows 6 and 9); pass anchorMask`);
}

/** Checks the options and fills in the defaults. */
export function resolveYoloV3TargetOptions(opts: YoloV3TargetOptions): Required<YoloV3TargetOptions> {
  const { inputSize, anchors, numClasses } = opts;
  if (!Array.isArray(inputSize) || inputSize.length !== 2 || !inputSize.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`preprocessTrueBoxes: inputSize must be [height, width] in pixels, got ${JSON.stringify(inputSize)}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`preprocessTrueBoxes: numClasses must be an integer >= 1, got ${numClasses}`);
  if (!Array.isArray(anchors) || anchors.length === 0 || !anchors.every((a) => a.length === 2 && a[0] > 0 && a[1] > 0)) {
    throw new Error('preprocessTrueBoxes: anchors must be a non-empty list of positive [w, h] pairs');
  }
  const anchorMask = opts.anchorMask ?? kerasAnchorMask(anchors.length);
  anchorMask.forEach((m, l) => m.forEach((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= anchors.length) throw new Error(`preprocessTrueBoxes: anchorMask[${l}] refers to anchor ${i}, but there are ${anchors.length} anchors`);
  }));
  const gridSizes = opts.gridSizes ?? anchorMask.map((_, l) => {
    const s = [32, 16, 8][l];
    if (s == null) throw new Error('preprocessTrueBoxes: pass gridSizes for more than 3 scales');
    return [Math.floor(inputSize[0] / s), Math.floor(inputSize[1] / s)] as [number, number];
  });
  if (gridSizes.length !== anchorMask.length) {
    throw new Error(`preprocessTrueBoxes: ${gridSizes.length} grid sizes for ${anchorMask.length} scales`);
  }
  return { inputSize, anchors, anchorMask, numClasses, gridSizes };
}

/**
 * The targets as arrays (see {@link preprocessTrueBoxes}).
 */
export function yoloV3TargetArrays(gt: GroundTruthBox[][], options: YoloV3TargetOptions): YoloV3TargetArrays {
  const { inputSize, anchors, anchorMask, numClasses, gridSizes } = resolveYoloV3TargetOptions(options);
  checkGroundTruth(gt, gt.length, numClasses, 'preprocessTrueBoxes');
  const m = gt.length;
  const [inH, inW] = inputSize;
  const D = 5 + numClasses;
  const shapes = anchorMask.map((mask, l) => [m, gridSizes[l][0], gridSizes[l][1], mask.length, D] as [number, number, number, number, number]);
  const data = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  gt.forEach((boxes, b) => {
    for (const box of boxes) {
      // keras-yolo3: centre = (min + max) // 2 (floor division), size = max - min.
      const cx = Math.floor((box.x1 + box.x2) / 2);
      const cy = Math.floor((box.y1 + box.y2) / 2);
      const w = box.x2 - box.x1;
      const h = box.y2 - box.y1;
      if (!(w > 0)) continue; // keras-yolo3 discards rows with zero width
      // Best anchor by IoU of (w, h) and the anchor, both centred at the origin.
      let best = 0;
      let bestIou = -1;
      anchors.forEach(([aw, ah], n) => {
        const inter = Math.max(Math.min(w, aw), 0) * Math.max(Math.min(h, ah), 0);
        const iou = inter / (w * h + aw * ah - inter);
        if (iou > bestIou) {
          bestIou = iou;
          best = n;
        }
      });
      anchorMask.forEach((mask, l) => {
        const k = mask.indexOf(best);
        if (k < 0) return;
        const [gh, gw] = gridSizes[l];
        const xr = cx / inW;
        const yr = cy / inH;
        // keras-yolo3 does not clamp; a centre on the far edge would index past the grid.
        const i = Math.min(gw - 1, Math.max(0, Math.floor(xr * gw)));
        const j = Math.min(gh - 1, Math.max(0, Math.floor(yr * gh)));
        const o = (((b * gh + j) * gw + i) * mask.length + k) * D;
        const y = data[l];
        y[o] = xr;
        y[o + 1] = yr;
        y[o + 2] = w / inW;
        y[o + 3] = h / inH;
        y[o + 4] = 1;
        y[o + 5 + box.classId] = 1; // (an earlier box's class bit in the same slot stays, as upstream)
      });
    }
  });
  return { data, shapes };
}

/**
 * keras-yolo3's `preprocess_true_boxes`: each ground-truth box goes to the anchor (among ALL
 * anchors) whose size has the best IoU with it, at every scale whose mask holds that anchor,
 * in the cell containing its centre. Returns one tensor per scale in the head layout of our
 * Darknet models, NHWC `[N, H, W, A * (5 + C)]`, anchor-major channels: x, y (box centre
 * relative to the input size), w, h (relative to the input size), objectness, one-hot class.
 */
export function preprocessTrueBoxes(gt: GroundTruthBox[][], options: YoloV3TargetOptions): tf.Tensor4D[] {
  const { data, shapes } = yoloV3TargetArrays(gt, options);
  return data.map((d, l) => {
    const [n, h, w, a, D] = shapes[l];
    return tf.tensor4d(d, [n, h, w, a * D]);
  });
}
