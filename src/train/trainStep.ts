/**
 * One optimisation step of `train` (forward, loss, gradients, update, weight decay), and the
 * learning-rate setter the loop calls before it.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { TrainBox } from './augment';
import { LossTerms, TrainLoss } from './lossForSpec';
import { bnGammaVariables } from './gammaHistogram';

/** The weights that get decoupled weight decay: conv / dense kernels. */
export const KERNEL_NAME = /(^|\/)(kernel|depthwise_kernel|pointwise_kernel)(_\d+)?$/;

/**
 * Set the optimiser's learning rate for the next step.
 */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  // SGD / Momentum keep a -lr scalar that setLearningRate refreshes; Adam reads the field
  if (typeof o.setLearningRate === 'function' && opt.getClassName() !== 'Adam') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/**
 * One optimisation step: forward in training mode, loss, gradients of the trainable weights
 * (plus `sparsity * sign(gamma)` on the BatchNorm gammas when `sparsity` > 0), optimizer update,
 * decoupled weight decay. Returns the loss terms as numbers.
 */
export function trainStep(
  detector: Detector,
  images: tf.Tensor4D,
  boxes: TrainBox[][],
  loss: TrainLoss,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  lr: number,
  weightDecay: number,
  sparsity = 0,
): { total: number; box: number; obj: number; cls: number } {
  const kept: tf.Tensor[] = [];
  try {
    const terms = tf.tidy(() => {
      let parts: LossTerms | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const out = detector.model.apply(images, { training: true }) as tf.Tensor | tf.Tensor[];
        parts = loss(Array.isArray(out) ? out : [out], boxes, detector.spec);
        kept.push(tf.keep(parts.box), tf.keep(parts.obj), tf.keep(parts.cls));
        return parts.total;
      }, vars);
      if (sparsity > 0) {
        for (const g of bnGammaVariables(vars)) {
          if (grads[g.name]) grads[g.name] = tf.add(grads[g.name], tf.mul(tf.sign(g), sparsity));
        }
      }
      optimizer.applyGradients(grads);
      if (weightDecay > 0) {
        const f = 1 - lr * weightDecay;
        for (const v of vars) if (KERNEL_NAME.test(v.name)) v.assign(tf.mul(v, f));
      }
      return tf.stack([value, ...kept.map((k) => tf.reshape(k, []))]);
    });
    const [total, box, obj, cls] = Array.from(terms.dataSync());
    terms.dispose();
    if (!Number.isFinite(total)) throw new Error(`train: the loss became ${total} (box ${box}, obj ${obj}, cls ${cls}); lower the learning rate`);
    return { total, box, obj, cls };
  } finally {
    tf.dispose(kept);
  }
}
