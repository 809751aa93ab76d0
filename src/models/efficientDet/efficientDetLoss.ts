/**
 * EfficientDet's training loss as zylo117/Yet-Another-EfficientDet-Pytorch `efficientdet/loss.py`
 * (`FocalLoss`): focal classification loss and smooth-L1 box regression.
 */
import * as tf from '@tensorflow/tfjs';
import { checkGroundTruth, GroundTruthBox, LossTerms } from '../../loss/types';
import { focalLossPerImage } from './focalLoss';

/** Options of {@link efficientDetLoss} (defaults are upstream's). */
export interface EfficientDetLossOptions {
  /** Focal alpha (0.25). */
  alpha?: number;
  /** Focal gamma (2). */
  gamma?: number;
  /** Anchors with best IoU >= this are positive (0.5). */
  positiveIou?: number;
  /** Anchors with best IoU < this are negative (0.4); in between they are ignored. */
  negativeIou?: number;
  /** Smooth-L1 beta: quadratic below it (1/9). */
  beta?: number;
}

/** Per-anchor assignment of one batch, in plain arrays. */
export interface EfficientDetAssignment {
  /** `[N*A]`: 1 positive, 0 negative, -1 ignored. */
  state: Int8Array;
  /** `[N*A]`: class of positive anchors, -1 otherwise. */
  classId: Int32Array;
  /** `[N*A*4]`: (dy, dx, dh, dw) regression targets of positive anchors, 0 otherwise. */
  regression: Float32Array;
  /** Positive anchors per image. */
  numPositive: number[];
}

/**
 * upstream anchor assignment: IoU of every anchor (y1, x1, y2, x2) with every box (x1, y1,
 * x2, y2; union clamped at 1e-8), best box per anchor (first on ties); best IoU >= 0.5 ->
 * positive with that box's class and regression targets `((gy - ay) / ah, (gx - ax) / aw,
 * log(gh / ah), log(gw / aw))` (box sizes clamped to >= 1 px), < 0.4 -> negative, else ignored.
 */
export function assignEfficientDetAnchors(
  anchors: Float32Array | number[], gt: GroundTruthBox[][], opts: EfficientDetLossOptions = {},
): EfficientDetAssignment {
  const pos = opts.positiveIou ?? 0.5;
  const neg = opts.negativeIou ?? 0.4;
  const A = anchors.length / 4;
  const n = gt.length;
  const state = new Int8Array(n * A);
  const classId = new Int32Array(n * A).fill(-1);
  const regression = new Float32Array(n * A * 4);
  const numPositive: number[] = [];
  gt.forEach((boxes, b) => {
    let np = 0;
    for (let a = 0; a < A; a++) {
      const ay1 = anchors[a * 4];
      const ax1 = anchors[a * 4 + 1];
      const ay2 = anchors[a * 4 + 2];
      const ax2 = anchors[a * 4 + 3];
      let best = -1;
      let bestIou = -Infinity;
      boxes.forEach((g, t) => {
        const area = (g.x2 - g.x1) * (g.y2 - g.y1);
        const iw = Math.max(0, Math.min(ax2, g.x2) - Math.max(ax1, g.x1));
        const ih = Math.max(0, Math.min(ay2, g.y2) - Math.max(ay1, g.y1));
        const ua = Math.max((ay2 - ay1) * (ax2 - ax1) + area - iw * ih, 1e-8);
        const iou = (iw * ih) / ua;
        if (iou > bestIou) {
          bestIou = iou;
          best = t;
        }
      });
      const i = b * A + a;
      if (best < 0 || bestIou < neg) continue; // negative (state 0); no boxes: all negative
      if (bestIou < pos) {
        state[i] = -1;
        continue;
      }
      state[i] = 1;
      np++;
      const g = boxes[best];
      classId[i] = g.classId;
      const aw = ax2 - ax1;
      const ah = ay2 - ay1;
      const acx = ax1 + 0.5 * aw;
      const acy = ay1 + 0.5 * ah;
      const gw0 = g.x2 - g.x1;
      const gh0 = g.y2 - g.y1;
      const gcx = g.x1 + 0.5 * gw0;
      const gcy = g.y1 + 0.5 * gh0;
      const gw = Math.max(gw0, 1);
      const gh = Math.max(gh0, 1);
      regression.set([(gcy - acy) / ah, (gcx - acx) / aw, Math.log(gh / ah), Math.log(gw / aw)], i * 4);
    }
    numPositive.push(np);
  });
  return { state, classId, regression, numPositive };
}

/**
 * EfficientDet's loss (upstream `FocalLoss` + `train.py`: `cls.mean() + reg.mean()` over the
 * batch). `regression`: `[N, A, 4]` (dy, dx, dh, dw); `classification`: `[N, A, C]`
 * probabilities (after the sigmoid); `anchors`: `[A, 4]` (y1, x1, y2, x2) in input pixels;
 * `gt[b]`: boxes in input pixels. Per image:
 * - cls: focal loss `alpha_t * (1 - p_t)^gamma * BCE` on probabilities clamped to
 *   [1e-4, 1 - 1e-4], zero on ignored anchors, MEAN over all A*C entries, then divided by
 *   max(1, positives) (upstream divides the mean, not the sum);
 * - box: smooth-L1 (beta 1/9) between targets and predictions of the positive anchors, mean
 *   over their 4 coordinates (0 without positives).
 * Both averaged over the batch; `obj` is 0.
 */
export function efficientDetLoss(
  regression: tf.Tensor3D, classification: tf.Tensor3D, anchors: tf.Tensor2D | Float32Array,
  gt: GroundTruthBox[][], opts: EfficientDetLossOptions = {},
): LossTerms {
  const who = 'efficientDetLoss';
  if (regression.rank !== 3 || regression.shape[2] !== 4) throw new Error(`${who}: regression must be [N, A, 4], got [${regression.shape}]`);
  if (classification.rank !== 3) throw new Error(`${who}: classification must be [N, A, C], got [${classification.shape}]`);
  const [n, A] = regression.shape;
  const C = classification.shape[2];
  if (classification.shape[0] !== n || classification.shape[1] !== A) {
    throw new Error(`${who}: classification [${classification.shape}] does not match regression [${regression.shape}]`);
  }
  const anchorData = anchors instanceof Float32Array ? anchors : (anchors.dataSync() as Float32Array);
  if (anchorData.length !== A * 4) throw new Error(`${who}: ${anchorData.length / 4} anchors for ${A} predictions per image`);
  checkGroundTruth(gt, n, C, who);
  const alpha = opts.alpha ?? 0.25;
  const gamma = opts.gamma ?? 2;
  const beta = opts.beta ?? 1 / 9;
  const asg = assignEfficientDetAnchors(anchorData, gt, opts);

  return tf.tidy(() => {
    // The focal term in one fused pass with its analytic gradient (./focalLoss.ts).
    const clsPerImage = focalLossPerImage(classification, {
      state: asg.state, classId: asg.classId, divisor: asg.numPositive.map((k) => Math.max(k, 1) * A * C), alpha, gamma,
    });

    const posMask = tf.tensor3d(Float32Array.from(asg.state, (s) => (s > 0 ? 1 : 0)), [n, A, 1]);
    const d = tf.abs(tf.sub(tf.tensor3d(asg.regression, [n, A, 4]), regression));
    // smooth L1 without a data-dependent branch: 0.5/beta * min(d, beta)^2 + max(d - beta, 0)
    const sl1 = tf.add(tf.mul(0.5 / beta, tf.square(tf.minimum(d, beta))), tf.relu(tf.sub(d, beta)));
    const regDiv = tf.tensor1d(asg.numPositive.map((k) => Math.max(k, 1) * 4));
    const regPerImage = tf.div(tf.sum(tf.mul(sl1, posMask), [1, 2]), regDiv);

    const cls = tf.mean(clsPerImage) as tf.Scalar;
    const box = tf.mean(regPerImage) as tf.Scalar;
    return { box, cls, obj: tf.scalar(0), total: tf.add(cls, box) as tf.Scalar };
  });
}
