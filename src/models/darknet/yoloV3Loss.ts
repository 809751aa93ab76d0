/**
 * keras-yolo3's `yolo_loss` (tiny YOLOv3, YOLOv4-tiny, any Darknet [yolo] head), with CIoU
 * as an option for the box term.
 */
import * as tf from '@tensorflow/tfjs';
import { bboxIou, boxIouMatrix } from '../../loss/bboxIou';
import { bceWithLogits } from '../../loss/bceWithLogits';
import { noGrad } from '../../loss/noGrad';
import { resolveYoloV3TargetOptions, yoloV3TargetArrays, YoloV3TargetOptions } from './preprocessTrueBoxes';
import { checkHeadChannels, checkHeadOutputs, GroundTruthBox, LossTerms } from '../../loss/types';

/** Options of {@link yoloV3Loss}. */
export interface YoloV3LossOptions extends Omit<YoloV3TargetOptions, 'gridSizes' | 'inputSize'> {
  /** Network input `[height, width]`. Default: first output's grid * 32 (keras-yolo3). */
  inputSize?: [number, number];
  /** Predictions whose best IoU with a true box reaches this are not penalised as background. */
  ignoreThresh?: number;
  /**
   * `keras` (default): BCE on x, y offsets + squared error on log w, h, both scaled by
   * `2 - w*h`. `ciou`: `(1 - CIoU(pred, true)) * (2 - w*h)` instead (keras-yolo4 style).
   */
  boxLoss?: 'keras' | 'ciou';
}

/**
 * keras-yolo3's `yolo_loss` on raw head outputs. `outputs[l]` is the raw conv output of scale
 * `l`, NHWC `[N, H, W, A * (5 + C)]` (Darknet anchor-major channels), in the order of
 * `anchorMask`; `gt[b]` the boxes of image `b` in input pixels. Per scale, summed over scales
 * and divided by the batch size:
 * - box: `obj * (2 - w*h) * BCE(true xy offset, raw xy)` + `obj * (2 - w*h) * 0.5 * (log(w / anchor) - raw wh)^2`
 * - obj: `BCE(obj, raw obj)`, the background part only where the prediction's best IoU with the
 *   scale's true boxes is below `ignoreThresh`
 * - cls: `obj * BCE(one-hot, raw classes)`
 * Targets follow {@link preprocessTrueBoxes}. Returns the terms and their sum.
 */
export function yoloV3Loss(outputs: tf.Tensor[], gt: GroundTruthBox[][], options: YoloV3LossOptions): LossTerms {
  const n = checkHeadOutputs(outputs, 'yoloV3Loss');
  const [, h0, w0] = outputs[0].shape as number[];
  const inputSize = options.inputSize ?? ([h0 * 32, w0 * 32] as [number, number]);
  const resolved = resolveYoloV3TargetOptions({ ...options, inputSize, gridSizes: outputs.map((o) => [o.shape[1], o.shape[2]] as [number, number]) });
  const { anchors, anchorMask, numClasses } = resolved;
  if (anchorMask.length !== outputs.length) throw new Error(`yoloV3Loss: ${outputs.length} outputs but anchorMask has ${anchorMask.length} scales`);
  const D = 5 + numClasses;
  checkHeadChannels(outputs, 'yoloV3Loss', (l) => ({ count: anchorMask[l].length * D, formula: `${anchorMask[l].length} anchors x (5 + ${numClasses})` }));
  if (!Array.isArray(gt) || gt.length !== n) throw new Error(`yoloV3Loss: expected ground truth for ${n} image(s), got ${Array.isArray(gt) ? gt.length : typeof gt}`);
  const targets = yoloV3TargetArrays(gt, resolved);
  const ignoreThresh = options.ignoreThresh ?? 0.5;
  const [inH, inW] = inputSize;

  return tf.tidy(() => {
    let box: tf.Tensor = tf.scalar(0);
    let obj: tf.Tensor = tf.scalar(0);
    let cls: tf.Tensor = tf.scalar(0);
    outputs.forEach((out, l) => {
      const [, H, W] = out.shape;
      const mask = anchorMask[l];
      const A = mask.length;
      const yt = targets.data[l];
      // Target-side quantities, computed from the ground truth in plain arrays.
      const cells = n * H * W * A;
      const objM = new Float32Array(cells);
      const scale = new Float32Array(cells);
      const rawTrue = new Float32Array(cells * 4); // x, y offsets in the cell; log(w / anchor), log(h / anchor)
      const trueBox = new Float32Array(cells * 4); // x, y, w, h relative; a dummy unit box where empty (CIoU)
      const trueBoxesPerImage: number[][][] = Array.from({ length: n }, () => []);
      for (let c = 0; c < cells; c++) {
        const o = c * D;
        const k = c % A;
        const i = Math.floor(c / A) % W;
        const j = Math.floor(c / (A * W)) % H;
        const b = Math.floor(c / (A * W * H));
        if (yt[o + 4] > 0) {
          objM[c] = yt[o + 4];
          scale[c] = 2 - yt[o + 2] * yt[o + 3];
          const [aw, ah] = anchors[mask[k]];
          rawTrue[c * 4] = yt[o] * W - i;
          rawTrue[c * 4 + 1] = yt[o + 1] * H - j;
          rawTrue[c * 4 + 2] = Math.log((yt[o + 2] / aw) * inW);
          rawTrue[c * 4 + 3] = Math.log((yt[o + 3] / ah) * inH);
          trueBox.set(yt.subarray(o, o + 4), c * 4);
          trueBoxesPerImage[b].push(Array.from(yt.subarray(o, o + 4)));
        } else {
          trueBox.set([0.5, 0.5, 1, 1], c * 4);
        }
      }
      const shape5 = [n, H, W, A];
      const objT = tf.tensor(objM, [...shape5, 1]);
      const scaleT = tf.tensor(scale, [...shape5, 1]);
      const clsT = tf.tensor(yt, [...shape5, D]).slice([0, 0, 0, 0, 5], [-1, -1, -1, -1, numClasses]);
      const feats = tf.reshape(out, [...shape5, D]);
      const rawXY = tf.slice(feats, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 2]);
      const rawWH = tf.slice(feats, [0, 0, 0, 0, 2], [-1, -1, -1, -1, 2]);
      const rawObj = tf.slice(feats, [0, 0, 0, 0, 4], [-1, -1, -1, -1, 1]);
      const rawCls = tf.slice(feats, [0, 0, 0, 0, 5], [-1, -1, -1, -1, numClasses]);
      const gridXY = new Float32Array(H * W * 2);
      for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) gridXY.set([i, j], (j * W + i) * 2);
      const grid = tf.tensor(gridXY, [H, W, 1, 2]);
      const anchorsT = tf.tensor(mask.flatMap((a) => [anchors[a][0] / inW, anchors[a][1] / inH]), [A, 2]);
      const predXY = tf.div(tf.add(tf.sigmoid(rawXY), grid), tf.tensor1d([W, H]));
      const predWH = tf.mul(tf.exp(rawWH), anchorsT);
      const predBox = tf.concat([predXY, predWH], -1);

      // Ignore mask: 1 where the prediction's best IoU with this scale's true boxes < thresh.
      const T = Math.max(1, ...trueBoxesPerImage.map((t) => t.length));
      const tb = new Float32Array(n * T * 4); // zero-size padding boxes have IoU 0
      trueBoxesPerImage.forEach((list, b) => list.forEach((bx, t) => tb.set(bx, (b * T + t) * 4)));
      const tbT = tf.tensor3d(tb, [n, T, 4]);
      const ignore = noGrad((p) => {
        const iou = boxIouMatrix(tf.reshape(p, [n, H * W * A, 4]) as tf.Tensor3D, tbT);
        const best = tf.max(tf.where(tf.isNaN(iou), tf.zerosLike(iou), iou), -1);
        return tf.reshape(tf.cast(tf.less(best, ignoreThresh), 'float32'), [...shape5, 1]);
      }, predBox);

      const boxW = tf.mul(objT, scaleT);
      let boxL: tf.Tensor;
      if ((options.boxLoss ?? 'keras') === 'ciou') {
        const ciou = bboxIou(predBox, tf.tensor(trueBox, [...shape5, 4]), 'ciou');
        boxL = tf.sum(tf.mul(tf.squeeze(boxW, [4]), tf.sub(1, ciou)));
      } else {
        const rt = tf.tensor(rawTrue, [...shape5, 4]);
        const xyL = tf.mul(boxW, bceWithLogits(tf.slice(rt, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 2]), rawXY));
        const whL = tf.mul(tf.mul(boxW, 0.5), tf.square(tf.sub(tf.slice(rt, [0, 0, 0, 0, 2], [-1, -1, -1, -1, 2]), rawWH)));
        boxL = tf.add(tf.sum(xyL), tf.sum(whL));
      }
      const objBce = bceWithLogits(objT, rawObj);
      const objL = tf.sum(tf.add(tf.mul(objT, objBce), tf.mul(tf.mul(tf.sub(1, objT), objBce), ignore)));
      const clsL = tf.sum(tf.mul(objT, bceWithLogits(clsT, rawCls)));
      box = tf.add(box, boxL);
      obj = tf.add(obj, objL);
      cls = tf.add(cls, clsL);
    });
    const bx = tf.div(box, n) as tf.Scalar;
    const ob = tf.div(obj, n) as tf.Scalar;
    const cl = tf.div(cls, n) as tf.Scalar;
    return { box: bx, obj: ob, cls: cl, total: tf.addN([bx, ob, cl]) as tf.Scalar };
  });
}
