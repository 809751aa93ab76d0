/**
 * Asserts tf.memory().numTensors is flat across repeated calls of `run`: one warm-up call, then
 * `repeats` more calls must leave the tensor count unchanged.
 */
import * as tf from '@tensorflow/tfjs';

export function expectFlatTensors(run: () => void, repeats = 3): void {
  run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) run();
  expect(tf.memory().numTensors).toBe(before);
}

/** Flat tensor count across repeated load + predict(x) + dispose of a detector. */
export function expectFlatLoadPredictDispose(
  load: () => { predict(x: tf.Tensor): tf.Tensor[]; dispose(): void },
  x: tf.Tensor,
): void {
  expectFlatTensors(() => {
    const det = load();
    tf.dispose(det.predict(x));
    det.dispose();
  });
}
