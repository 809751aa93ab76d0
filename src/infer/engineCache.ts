/**
 * Which code runs a model's inference, and the compiled engine cached per model: compiled on
 * first use, recompiled when the engine, its thread count, the compile options, the tfjs backend
 * or the model's weights change, and dropped (the LayersModel used instead) when compiling
 * fails. This is the one place that decides: a custom function, the LayersModel, or a compiled
 * engine. The `Detector` holds one of these; nothing here knows of detectors.
 */
import * as tf from '@tensorflow/tfjs';
import { compileInference, CompiledInference, CompileOptions } from './compileInference';
import { compileWasmInference, PlanTooLargeError } from '../engine/wasmInference';
import { UnsupportedGraphError } from '../engine/planInference';
import { wasmSimdSupported, wasmThreadsSupported } from '../engine/kernelModule';
import { backendInfo } from '../backend';
import { isNode } from '../util/env';

/**
 * Which code runs `predict`:
 * - `'wasm-kernels'`: yolo-tfjs's own WebAssembly SIMD kernels on a precompiled plan
 *   (src/engine), multi-threaded where shared memory exists; the fastest path without a GPU or
 *   native TensorFlow;
 * - `'tfjs'`: the compiled graph of fused tfjs ops on the current tfjs backend (the path for
 *   tfjs-node, WebGL, WebGPU);
 * - `'auto'` (default): wasm kernels when the tfjs backend is `wasm` or `cpu` and the JS engine
 *   has WebAssembly SIMD, else tfjs. Models with layers the kernels do not cover (custom
 *   layers) use tfjs.
 */
export type InferenceEngine = 'auto' | 'wasm-kernels' | 'tfjs';

/** What `Detector.inferenceInfo` reports. */
export interface InferenceInfo {
  /** `'wasm-kernels'`, `'tfjs-graph'` (compiled tfjs ops), `'layers'` (model.predict) or `'custom'`. */
  engine: 'wasm-kernels' | 'tfjs-graph' | 'layers' | 'custom';
  /** Threads of the wasm kernels (1 otherwise). */
  threads: number;
  /** Why the wasm kernels are not used, when they were asked for (or chosen by `auto`). */
  fallbackReason?: string;
}

/** What the engine is asked for. */
export interface EngineRequest {
  engine: InferenceEngine;
  /** Threads for the wasm kernels (default: the wasm backend's thread count, else all cores). */
  threads?: number;
  /** Options of the compiled tfjs graph (the `'tfjs'` engine, and `'auto'`'s fallback to it). */
  compile?: CompileOptions;
  /** False: the LayersModel (`model.predict`), nothing compiled. Default true. */
  compiled?: boolean;
  /** A caller's own inference function: used as is, nothing compiled. */
  custom?: (x: tf.Tensor4D) => tf.Tensor[];
  /** Model name for warnings. */
  name: string;
}

interface Compiled {
  c: CompiledInference;
  engine: InferenceInfo['engine'];
  threads: number;
}

/**
 * Compile `model` for the requested engine: the wasm kernels when asked for (or chosen by
 * `auto`) and able to run it, else fused tfjs ops. Returns why the kernels were not used.
 */
export function compileEngine(model: tf.LayersModel, req: EngineRequest): Compiled & { fallbackReason?: string } {
  const backend = tf.getBackend();
  const wanted = req.engine === 'wasm-kernels' || (req.engine === 'auto' && (backend === 'wasm' || backend === 'cpu'));
  let fallbackReason: string | undefined;
  if (wanted) {
    if (!wasmSimdSupported()) fallbackReason = 'this JavaScript engine has no WebAssembly SIMD';
    else {
      try {
        // Node: as many threads as the wasm backend was given (all cores, YOLO_TFJS_THREADS,
        // setBackend's option); browsers: all cores (tfjs-wasm reports fewer there).
        const info = backendInfo();
        const threads = req.threads ?? (isNode() && info.name === 'wasm' ? info.threads : undefined);
        const c = compileWasmInference(model, { threads });
        if ((threads === undefined || threads > 1) && c.threads === 1 && !wasmThreadsSupported()) {
          fallbackReason = 'one thread: no shared wasm memory here (browsers need a cross-origin isolated page: COOP/COEP headers)';
        }
        return { c, engine: 'wasm-kernels', threads: c.threads, fallbackReason };
      } catch (e) {
        if (!(e instanceof UnsupportedGraphError)) throw e;
        fallbackReason = e.message;
        if (req.engine === 'wasm-kernels') {
          // eslint-disable-next-line no-console
          console.warn(`yolo-tfjs: wasm kernels unavailable for '${req.name}' (${e.message}); using tfjs ops`);
        }
      }
    }
  }
  return { c: compileInference(model, req.compile), engine: 'tfjs-graph', threads: 1, fallbackReason };
}

/** The compiled engine of one model, cached (see the file comment). */
export class EngineCache {
  private compiled: (Compiled & { weights: unknown[]; key: string }) | null = null;
  /** The request key whose compilation failed (that request then uses the LayersModel). */
  private failedKey?: string;
  private fallbackReason?: string;

  constructor(private readonly model: tf.LayersModel) {}

  /**
   * The function that runs the model for `req`: the custom one, or the compiled engine
   * ((re)compiled when needed); null for the LayersModel (asked for, or compiling failed before).
   */
  run(req: EngineRequest): ((x: tf.Tensor4D) => tf.Tensor[]) | null {
    if (req.custom) return req.custom;
    if (req.compiled === false) return null;
    const key = `${req.engine}|${req.threads ?? ''}|${tf.getBackend()}|${JSON.stringify(req.compile ?? {})}`;
    if (this.failedKey === key) return null;
    const weights = this.model.weights.map((w) => (w.read() as unknown as { dataId: unknown }).dataId);
    const c = this.compiled;
    if (c && c.key === key && c.weights.length === weights.length && c.weights.every((id, i) => id === weights[i])) {
      return (x) => c.c.run(x);
    }
    this.release();
    try {
      this.fallbackReason = undefined;
      const { fallbackReason, ...compiled } = compileEngine(this.model, req);
      this.fallbackReason = fallbackReason;
      this.compiled = { ...compiled, weights, key };
      return (x) => compiled.c.run(x);
    } catch (e) {
      // Too big for wasm memory: the LayersModel path would need even more, so no fallback.
      if (e instanceof PlanTooLargeError) throw new Error(`model '${req.name}': ${e.message}`);
      this.failedKey = key;
      this.fallbackReason = (e as Error).message;
      // eslint-disable-next-line no-console
      console.warn(`yolo-tfjs: fast inference unavailable for '${req.name}' (${(e as Error).message}); using the LayersModel`);
      return null;
    }
  }

  /** The compiled engine now cached, if any (for inspection: its `c` is the compiled inference). */
  get current(): Readonly<Compiled> | null {
    return this.compiled;
  }

  /** Resolves when the compiled engine's worker threads are running (no-op without one). */
  async ready(): Promise<void> {
    const c = this.compiled?.c as { ready?: () => Promise<void> } | undefined;
    if (c && typeof c.ready === 'function') await c.ready();
  }

  /** What runs `req` now: the custom function, the compiled engine, or `layers` when there is none. */
  info(req: Pick<EngineRequest, 'custom' | 'compiled'> = {}): InferenceInfo {
    if (req.custom) return { engine: 'custom', threads: 1 };
    const c = req.compiled === false ? null : this.compiled;
    if (!c) return { engine: 'layers', threads: 1, fallbackReason: this.fallbackReason };
    return { engine: c.engine, threads: c.threads, ...(this.fallbackReason ? { fallbackReason: this.fallbackReason } : {}) };
  }

  /** Free the compiled engine (a later `run` compiles again). */
  release(): void {
    if (this.compiled) this.compiled.c.dispose();
    this.compiled = null;
  }
}
