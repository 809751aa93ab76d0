/**
 * A closed-form gradient for Keras BatchNormalization in training mode (batch statistics).
 *
 * tfjs-layers normalises a training batch with `tf.moments` followed by `tf.batchNorm`, and
 * autodiff then differentiates both: the FusedBatchNorm gradient (about a dozen full-size
 * elementwise ops and tiles, with gradients for the mean and the variance) and the gradients of
 * the mean, the square and the subtraction of `moments`. In the profile of a YOLO-FastestV2
 * training step on tfjs-wasm this was half of all kernel time (73 BN layers). The same gradient
 * in closed form, with `xhat = (x - mean) / sqrt(var + eps)` over the N reduced positions:
 *
 *   dbeta  = sum(dy),   dgamma = sum(dy * xhat),
 *   dx     = gamma / sqrt(var + eps) * (dy - dbeta / N - xhat * dgamma / N)
 *
 * is 7 full-size ops and two reductions. The forward values (the normalised output and the
 * moving mean / variance updates) are computed exactly as tfjs-layers does, so outputs and
 * running statistics are unchanged; gradients agree to float rounding (tests).
 *
 * {@link installBatchNormTrainingGrad} patches `BatchNormalization.prototype.call` once, for
 * channels-last BN layers with both gamma and beta called with `training: true` on float32
 * input; every other call (inference, other axes, no gamma/beta) goes to tfjs-layers' own code.
 */
import * as tf from '@tensorflow/tfjs';

/** What the patch reads of a tfjs-layers BatchNormalization layer. */
interface BatchNormLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type LayerCall = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const PATCHED = Symbol.for('yolo-tfjs.batchNormTrainingGrad');

let originalCall: LayerCall | undefined;
let enabled = true;

function batchNormPrototype(): { call: LayerCall } & Record<symbol, unknown> {
  const layer = tf.layers.batchNormalization({});
  return Object.getPrototypeOf(layer) as { call: LayerCall } & Record<symbol, unknown>;
}

/**
 * Batch normalisation of a channels-last `x` with batch statistics over every axis but the last,
 * with the closed-form gradient for `x`, `gamma` and `beta`. `mean` and `variance` are the batch
 * moments of `x` (as `tf.moments` gives them); they are constants here (the closed form already
 * accounts for their dependence on `x`).
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, epsilon: number): tf.Tensor {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const count = x.size / x.shape[x.rank - 1];
  const op = tf.customGrad((xi, g, b, save) => {
    const xt = xi as tf.Tensor;
    const gt = g as tf.Tensor;
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    (save as tf.GradSaveFunc)([xt, gt, mean, rstd]);
    return {
      value: tf.batchNorm(xt, mean, variance, b as tf.Tensor, gt, epsilon),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => closedFormGrad(dy, saved, axes, count),
    };
  });
  return op(x, gamma, beta);
}

/**
 * {@link batchNormTraining} with the batch moments computed INSIDE the custom-gradient op: there
 * they are not recorded on the autodiff tape, so `tf.moments`' full-size intermediates (x - mean,
 * its square) are freed at once instead of living until the gradients are taken (two tensors the
 * size of the layer's input per BN layer: tiny YOLOv3 at 416 x 416 and batch 8 did not fit the
 * 4 GiB wasm heap with them). Returns the output and the moments (kept: the caller disposes them).
 */
function batchNormTrainingWithMoments(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const count = x.size / x.shape[x.rank - 1];
  let mean: tf.Tensor | undefined;
  let variance: tf.Tensor | undefined;
  const op = tf.customGrad((xi, g, b, save) => {
    const xt = xi as tf.Tensor;
    const gt = g as tf.Tensor;
    const m = tf.moments(xt, axes);
    mean = tf.keep(m.mean);
    variance = tf.keep(m.variance);
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    (save as tf.GradSaveFunc)([xt, gt, mean, rstd]);
    return {
      value: tf.batchNorm(xt, mean, variance, b as tf.Tensor, gt, epsilon),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => closedFormGrad(dy, saved, axes, count),
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

/** dx, dgamma, dbeta from dy and the saved [x, gamma, mean, 1/sqrt(var + eps)] (file comment). */
function closedFormGrad(dy: tf.Tensor, saved: tf.Tensor[], axes: number[], count: number): tf.Tensor[] {
  const [xs, gs, ms, rs] = saved;
  const xhat = tf.mul(tf.sub(xs, ms), rs);
  const dbeta = tf.sum(dy, axes);
  const dgamma = tf.sum(tf.mul(dy, xhat), axes);
  const centred = tf.sub(dy, tf.div(dbeta, count));
  const dx = tf.mul(tf.sub(centred, tf.mul(xhat, tf.div(dgamma, count))), tf.mul(gs, rs));
  return [dx, dgamma, dbeta];
}

function fastTrainingCall(layer: BatchNormLayer, input: tf.Tensor): tf.Tensor {
  const { y, mean, variance } = batchNormTrainingWithMoments(input, (layer.gamma as tf.LayerVariable).read(), (layer.beta as tf.LayerVariable).read(), layer.epsilon);
  try {
    // tfjs-layers' moving-average update, unchanged
    const update = (v: tf.LayerVariable, value: tf.Tensor): void => {
      tf.tidy(() => {
        const orig = v.read();
        v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - layer.momentum)));
      });
    };
    update(layer.movingMean, mean);
    update(layer.movingVariance, variance);
    return y;
  } finally {
    tf.dispose([mean, variance]);
  }
}

/**
 * Installs the closed-form training gradient for tfjs-layers BatchNormalization (see the file
 * comment). Idempotent; affects training-mode calls only.
 */
export function installBatchNormTrainingGrad(): void {
  const proto = batchNormPrototype();
  if (proto[PATCHED]) return;
  const original = proto.call;
  originalCall = original;
  proto.call = function patched(this: BatchNormLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    const lastAxis = input !== undefined && (this.axis === -1 || this.axis === input.rank - 1);
    if (!enabled || !kwargs?.training || input === undefined || !lastAxis || input.dtype !== 'float32' || input.rank < 2 ||
        !this.center || !this.scale || this.gamma == null || this.beta == null) {
      return original.call(this, inputs, kwargs);
    }
    return fastTrainingCall(this, input);
  };
  proto[PATCHED] = true;
}

/**
 * Turns the installed closed-form gradient off (tfjs-layers' own training call) or back on;
 * for comparisons and tests. Returns the previous setting.
 */
export function setBatchNormTrainingGrad(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether {@link installBatchNormTrainingGrad} has patched tfjs-layers (for tests). */
export function batchNormTrainingGradInstalled(): boolean {
  return originalCall !== undefined && !!batchNormPrototype()[PATCHED];
}
