/**
 * The registry of inference functions for layer classes the compiler does not know. A new custom
 * layer plugs into `compileInference` with one call:
 *
 * ```ts
 * registerInferenceOp('MyLayer', (layer, [x]) => tf.mul(x, (layer as MyLayer).factor));
 * ```
 *
 * The function receives the layer instance and its input tensors and returns the output
 * tensor(s); it runs inside the compiled function's `tf.tidy`. Such nodes cannot be exported to
 * ONNX (the exporter names them).
 */
import * as tf from '@tensorflow/tfjs';

/** An inference function for one layer class. */
export type InferenceOpFn = (layer: tf.layers.Layer, inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

const ops = new Map<string, InferenceOpFn>();

/**
 * Register (or replace) the inference function of a layer class, keyed by its `className`
 * (the static `className` the class is registered under, e.g. `'YoloTfjsMish'`).
 */
export function registerInferenceOp(className: string, fn: InferenceOpFn): void {
  if (typeof className !== 'string' || className.length === 0) throw new Error('registerInferenceOp: className must be a non-empty string');
  if (typeof fn !== 'function') throw new Error(`registerInferenceOp('${className}'): fn must be a function`);
  ops.set(className, fn);
}

/** The registered function for a class, if any. */
export function registeredInferenceOp(className: string): InferenceOpFn | undefined {
  return ops.get(className);
}

/** Remove a registration (returns whether one existed). */
export function unregisterInferenceOp(className: string): boolean {
  return ops.delete(className);
}
