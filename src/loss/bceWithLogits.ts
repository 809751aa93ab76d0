/**
 * Binary cross-entropy on logits.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Element-wise `-(z log sigmoid(x) + (1 - z) log(1 - sigmoid(x)))` in the overflow-safe form
 * `max(x, 0) - x z + log(1 + exp(-|x|))` (TensorFlow's `sigmoid_cross_entropy_with_logits`,
 * PyTorch's `BCEWithLogitsLoss` without reduction). `targets` broadcasts against `logits`.
 */
export function bceWithLogits(targets: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.softplus(tf.neg(tf.abs(logits)))));
}
