/**
 * Evaluate a function of tensors without recording it for gradients (a stop-gradient).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Runs `fn(...inputs)` as one custom-gradient op whose gradient is zero for every input, so
 * comparisons, argmax and other non-differentiable ops can be used on tensors that depend on
 * trainable weights (tfjs throws when backprop meets a kernel without a gradient, and has no
 * `stopGradient`). Also how PyTorch's `.detach()` / `torch.no_grad()` parts of the upstream
 * losses are expressed.
 */
export function noGrad<T extends tf.Tensor>(fn: (...xs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  if (inputs.length === 0) return fn();
  const op = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    return { value: fn(...xs), gradFunc: () => xs.map((x) => tf.zerosLike(x)) };
  });
  return (op as unknown as (...xs: tf.Tensor[]) => T)(...inputs);
}
