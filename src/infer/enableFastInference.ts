/**
 * Install an explicitly compiled inference function (`detector.inference`) with custom
 * `CompileOptions` (e.g. the leaky-ReLU form). Detectors already use a compiled graph by default
 * (`detector.fastInference`); this is for choosing the options. The returned handle undoes it and
 * frees the folded weights; `detector.dispose()` frees them too.
 */
import * as tf from '@tensorflow/tfjs';
import { compileInference, CompileOptions, CompiledInference } from './compileInference';

/** What this needs of a Detector: its model and its custom-inference hook. */
export interface InferenceHost {
  readonly model: tf.LayersModel;
  inference?: (x: tf.Tensor4D) => tf.Tensor[];
  disposeInference?: () => void;
}

const compiledOf = new WeakMap<InferenceHost, CompiledInference>();

/**
 * Compile `detector.model` and set `detector.inference` to it. Calling it again recompiles
 * (e.g. after training changed the weights) and frees the previous compilation.
 */
export function enableFastInference(detector: InferenceHost, opts: CompileOptions = {}): CompiledInference {
  const compiled = compileInference(detector.model, opts);
  disposeFastInference(detector);
  compiledOf.set(detector, compiled);
  detector.inference = (x) => compiled.run(x);
  detector.disposeInference = () => compiled.dispose();
  const dispose = compiled.dispose.bind(compiled);
  compiled.dispose = () => {
    if (compiledOf.get(detector) === compiled) {
      compiledOf.delete(detector);
      detector.inference = undefined;
      detector.disposeInference = undefined;
    }
    dispose();
  };
  return compiled;
}

/** Undo {@link enableFastInference}: back to `model.predict`, folded weights freed. */
export function disposeFastInference(detector: InferenceHost): void {
  const c = compiledOf.get(detector);
  if (c) c.dispose();
}
