/**
 * @deprecated The first inference hook, kept as an alias of the one there is now: a Detector's
 * `engine` (`'tfjs'`: the compiled tfjs graph) and `compileOptions` (e.g. the leaky-ReLU form),
 * run by its engine cache (src/infer/engineCache.ts) like every other engine.
 * `enableFastInference(detector, opts)` sets them and returns a handle whose `dispose` puts the
 * previous settings back and frees the compiled graph.
 */
import * as tf from '@tensorflow/tfjs';
import { CompileOptions, CompiledInference } from './compileInference';
import type { InferenceEngine, InferenceInfo } from './engineCache';

/** What this needs of a Detector: its engine settings. */
export interface InferenceHost {
  engine: InferenceEngine;
  fastInference: boolean;
  compileOptions?: CompileOptions;
  inferenceInfo(): InferenceInfo;
  compiledInference(): CompiledInference | null;
  predict(x: tf.Tensor4D): tf.Tensor[];
  releaseEngine(): void;
}

const handleOf = new WeakMap<InferenceHost, CompiledInference>();

/**
 * @deprecated Set `detector.engine = 'tfjs'` and `detector.compileOptions = opts` instead.
 *
 * Run `detector` on the compiled tfjs graph built with `opts`. The returned handle's `run` is
 * the detector's `predict` on that graph and its `dispose` restores the detector's previous
 * engine settings (freeing the graph). Calling it again replaces the previous handle.
 * @throws when the model cannot be compiled (e.g. a layer with no converter).
 */
export function enableFastInference(detector: InferenceHost, opts: CompileOptions = {}): CompiledInference {
  disposeFastInference(detector);
  const previous = { engine: detector.engine, fastInference: detector.fastInference, compileOptions: detector.compileOptions };
  const restore = (): void => {
    detector.engine = previous.engine;
    detector.fastInference = previous.fastInference;
    detector.compileOptions = previous.compileOptions;
    detector.releaseEngine();
  };
  detector.engine = 'tfjs';
  detector.fastInference = true;
  detector.compileOptions = opts;
  const compiled = detector.compiledInference();
  const info = detector.inferenceInfo();
  if (!compiled || info.engine !== 'tfjs-graph') {
    restore();
    throw new Error(`enableFastInference: the model cannot be compiled (${info.fallbackReason ?? info.engine})`);
  }
  let live = true;
  const handle: CompiledInference = {
    graph: compiled.graph,
    run(x) {
      if (!live) throw new Error('enableFastInference: this compiled inference was disposed');
      return detector.predict(x);
    },
    dispose() {
      if (!live) return;
      live = false;
      if (handleOf.get(detector) === handle) handleOf.delete(detector);
      restore();
    },
  };
  handleOf.set(detector, handle);
  return handle;
}

/** @deprecated Undo {@link enableFastInference}: the previous engine settings, the graph freed. */
export function disposeFastInference(detector: InferenceHost): void {
  handleOf.get(detector)?.dispose();
}
