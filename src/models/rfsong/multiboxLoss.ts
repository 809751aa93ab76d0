/**
 * SSD's MultiBox loss as ssd.pytorch / RFBNet / RFSong-7993 `layers/modules/multibox_loss.py`
 * with `utils/box_utils.py::match` and `encode`:
 * - matching: IoU of every ground-truth box with every prior (point form, normalised); every
 *   prior takes its best box, every box claims its own best prior (forced, overlap 2, the last
 *   box wins a prior two boxes claim); priors whose best overlap is below `overlapThresh` are
 *   background (class 0), the others get the box's class + 1;
 * - localisation: smooth L1 (beta 1, summed) of the positive priors' predictions against the
 *   encoded offsets ((g_c - p_c) / (v0 p_wh), log(g_wh / p_wh) / v1);
 * - confidence: per-prior cross-entropy; hard negative mining keeps, per image, the
 *   `negPosRatio * positives` (at most P - 1) negatives with the highest loss; cross-entropy summed
 *   over positives and mined negatives;
 * - both sums divided by N = max(1, positives in the batch).
 */
import * as tf from '@tensorflow/tfjs';
import { SsdHeadSpec } from '../../spec';
import { cachedSsdPriors } from '../../decode/ssdPriors';
import { ssdFlatOutputs } from '../../decode/decode';
import { checkGroundTruth, GroundTruthBox, LossTerms } from '../../loss/types';
import { noGrad } from '../../loss/noGrad';

/** Options of {@link multiboxLoss} (defaults are RFSong's `train_RFB.py`). */
export interface MultiboxLossOptions {
  /** Priors whose best IoU is below this are background. RFSong 0.4 (ssd.pytorch 0.5). */
  overlapThresh?: number;
  /** Mined negatives per positive (3). */
  negPosRatio?: number;
}

/** Per-prior matching targets of a batch (plain arrays). */
export interface MultiboxTargets {
  /** `[N*P]`: 0 background, else class + 1. */
  conf: Int32Array;
  /** `[N*P*4]`: encoded offsets of the matched box (meaningful for positives). */
  loc: Float32Array;
  /** Positive priors per image. */
  numPositive: number[];
}

/**
 * upstream `match` + `encode` for every image: `gt` in network pixels, converted to
 * coordinates normalised by `inputSize` `[h, w]`; `priors` `[P, 4]` (cx, cy, w, h).
 */
export function matchPriors(
  priors: Float32Array,
  gt: GroundTruthBox[][],
  inputSize: [number, number],
  variances: [number, number],
  overlapThresh: number,
): MultiboxTargets {
  const P = priors.length / 4;
  const [H, W] = inputSize;
  const conf = new Int32Array(gt.length * P);
  const loc = new Float32Array(gt.length * P * 4);
  // Priors in point form, as upstream's point_form (float32 there; double here).
  const px1 = new Float64Array(P);
  const py1 = new Float64Array(P);
  const px2 = new Float64Array(P);
  const py2 = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const [cx, cy, w, h] = [priors[p * 4], priors[p * 4 + 1], priors[p * 4 + 2], priors[p * 4 + 3]];
    px1[p] = cx - w / 2;
    py1[p] = cy - h / 2;
    px2[p] = cx + w / 2;
    py2[p] = cy + h / 2;
  }
  const numPositive: number[] = [];
  gt.forEach((boxes, b) => {
    const G = boxes.length;
    if (G === 0) {
      numPositive.push(0);
      return;
    }
    const truths = boxes.map((g) => [g.x1 / W, g.y1 / H, g.x2 / W, g.y2 / H]);
    const bestTruth = new Int32Array(P);
    const bestTruthOverlap = new Float64Array(P).fill(-1);
    const bestPrior = new Int32Array(G);
    truths.forEach(([x1, y1, x2, y2], t) => {
      const area = (x2 - x1) * (y2 - y1);
      let bp = 0;
      let bpo = -1;
      for (let p = 0; p < P; p++) {
        const iw = Math.max(0, Math.min(x2, px2[p]) - Math.max(x1, px1[p]));
        const ih = Math.max(0, Math.min(y2, py2[p]) - Math.max(y1, py1[p]));
        const inter = iw * ih;
        const union = area + (px2[p] - px1[p]) * (py2[p] - py1[p]) - inter;
        const iou = union > 0 ? inter / union : 0;
        // torch max: the first index of the maximum
        if (iou > bpo) {
          bpo = iou;
          bp = p;
        }
        if (iou > bestTruthOverlap[p]) {
          bestTruthOverlap[p] = iou;
          bestTruth[p] = t;
        }
      }
      bestPrior[t] = bp;
    });
    // Every box keeps its best prior (index_fill with 2, then the loop: the last box wins).
    for (let t = 0; t < G; t++) bestTruthOverlap[bestPrior[t]] = 2;
    for (let t = 0; t < G; t++) bestTruth[bestPrior[t]] = t;
    let np = 0;
    const [v0, v1] = variances;
    for (let p = 0; p < P; p++) {
      const t = bestTruth[p];
      const [x1, y1, x2, y2] = truths[t];
      const i = b * P + p;
      conf[i] = bestTruthOverlap[p] < overlapThresh ? 0 : boxes[t].classId + 1;
      if (conf[i] > 0) np++;
      const [cx, cy, w, h] = [priors[p * 4], priors[p * 4 + 1], priors[p * 4 + 2], priors[p * 4 + 3]];
      // Degenerate boxes would give log(0): clamp their size (upstream drops them in preproc).
      const gw = Math.max(x2 - x1, 1e-6);
      const gh = Math.max(y2 - y1, 1e-6);
      loc[i * 4] = ((x1 + x2) / 2 - cx) / (v0 * w);
      loc[i * 4 + 1] = ((y1 + y2) / 2 - cy) / (v0 * h);
      loc[i * 4 + 2] = Math.log(gw / w) / v1;
      loc[i * 4 + 3] = Math.log(gh / h) / v1;
    }
    numPositive.push(np);
  });
  return { conf, loc, numPositive };
}

/**
 * Hard negative mining: per image, the indices (as a 0/1 mask `[N*P]`) of the `ratio *
 * positives` (at most P - 1) non-positive priors with the largest `mining` loss.
 */
export function mineNegatives(mining: Float32Array, conf: Int32Array, numPositive: number[], ratio: number): Float32Array {
  const n = numPositive.length;
  const P = conf.length / n;
  const mask = new Float32Array(conf.length);
  for (let b = 0; b < n; b++) {
    const k = Math.min(ratio * numPositive[b], P - 1);
    if (k <= 0) continue;
    const idx: number[] = [];
    // positives count as loss 0 (upstream zeroes them), so they can be mined only after every
    // negative with a positive loss; they are never counted as negatives here
    for (let p = 0; p < P; p++) idx.push(p);
    const lossOf = (p: number) => (conf[b * P + p] > 0 ? 0 : mining[b * P + p]);
    idx.sort((a, c) => lossOf(c) - lossOf(a));
    for (let r = 0; r < k; r++) {
      const p = idx[r];
      if (conf[b * P + p] === 0) mask[b * P + p] = 1;
    }
  }
  return mask;
}

/**
 * The MultiBox loss of an SSD head: `outputs` are the raw model outputs (the head's loc and
 * conf convs, training mode), `gt` the boxes per image in network pixels.
 * `total = box + cls` (`box` = smooth L1, `cls` = cross-entropy, both / N; `obj` = 0).
 */
export function multiboxLoss(
  head: SsdHeadSpec,
  outputs: tf.Tensor[],
  gt: GroundTruthBox[][],
  inputSize: [number, number],
  numClasses: number,
  opts: MultiboxLossOptions = {},
): LossTerms {
  const ratio = opts.negPosRatio ?? 3;
  const priors = cachedSsdPriors(head.priors);
  return tf.tidy(() => {
    const { loc, conf } = ssdFlatOutputs(head, outputs, numClasses);
    const [n, P] = [loc.shape[0], loc.shape[1]];
    if (P * 4 !== priors.length) throw new Error(`multiboxLoss: ${P} predictions for ${priors.length / 4} priors`);
    checkGroundTruth(gt, n, numClasses, 'multiboxLoss');
    if (head.backgroundClass !== 0) throw new Error('multiboxLoss: the background must be conf channel 0');
    const t = matchPriors(priors, gt, inputSize, head.variances, opts.overlapThresh ?? 0.4);
    const K = numClasses + 1;
    const logp = tf.logSoftmax(conf); // [n, P, K]
    const onehot = tf.oneHot(tf.tensor1d(t.conf, 'int32'), K).reshape([n, P, K]);
    const ce = tf.neg(tf.sum(tf.mul(logp, onehot), -1)); // [n, P]
    const mining = noGrad((x) => x, ce).dataSync() as Float32Array;
    const neg = mineNegatives(mining, t.conf, t.numPositive, ratio);
    const posMask = Float32Array.from(t.conf, (c) => (c > 0 ? 1 : 0));
    const pos = tf.tensor2d(posMask, [n, P]);
    const used = tf.add(pos, tf.tensor2d(neg, [n, P]));
    const N = Math.max(1, t.numPositive.reduce((a, b) => a + b, 0));
    const cls = tf.div(tf.sum(tf.mul(ce, used)), N) as tf.Scalar;
    const d = tf.abs(tf.sub(loc, tf.tensor3d(t.loc, [n, P, 4])));
    // smooth L1 (beta 1): 0.5 d^2 below 1, d - 0.5 above; the branch mask carries no gradient
    const quad = noGrad((x) => tf.cast(tf.less(x, 1), 'float32'), d);
    const smooth = tf.add(tf.mul(quad, tf.mul(tf.square(d), 0.5)), tf.mul(tf.sub(1, quad), tf.sub(d, 0.5)));
    const box = tf.div(tf.sum(tf.mul(smooth, tf.expandDims(pos, -1))), N) as tf.Scalar;
    return { total: tf.add(box, cls) as tf.Scalar, box, obj: tf.scalar(0), cls };
  });
}
