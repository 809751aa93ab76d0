/**
 * The `Detector`: a network plus the spec that says how to feed it and read it. Every model
 * (tiny YOLOv3, YOLOv4-tiny, any Darknet cfg, YOLO-FastestV2, EfficientDet) is a Detector; the
 * model-specific parts are the LayersModel and the `ModelSpec` data.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec, checkInputSide, headOutputs } from './spec';
import { Detection } from './decode/nms';
import { postprocessOutputs, PostprocessOptions } from './decode/postprocess';
import { resolveClassFilter } from './decode/classFilter';
import { preprocessImage, ImageInput, loadImage, PreprocessResult } from './decode/preprocess';
import type { LoadImageOptions } from './decode/image';
import { backendInfo, ready } from './backend';
import { disposeLayersModel } from './models/disposeLayersModel';
import { compileInference, CompiledInference } from './infer/compileInference';
import { compileWasmInference, KernelTrapError, PlanTooLargeError } from './engine/wasmInference';
import { UnsupportedGraphError } from './engine/planInference';
import { wasmSimdSupported, wasmThreadsSupported } from './engine/kernelModule';
import { isNode } from './backend/backendOptions';
import { detectVideo, DetectVideoOptions, VideoResultCallback, VideoSource, VideoStopHandle } from './video/detectVideo';

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

/** What {@link Detector.inferenceInfo} reports. */
export interface InferenceInfo {
  /** `'wasm-kernels'`, `'tfjs-graph'` (compiled tfjs ops), `'layers'` (model.predict) or `'custom'`. */
  engine: 'wasm-kernels' | 'tfjs-graph' | 'layers' | 'custom';
  /** Threads of the wasm kernels (1 otherwise). */
  threads: number;
  /** Why the wasm kernels are not used, when they were asked for (or chosen by `auto`). */
  fallbackReason?: string;
}

export type { Detection } from './decode/nms';
export type { PostprocessOptions } from './decode/postprocess';

/** Options of {@link Detector.detect}: postprocessing, plus the decoder's pixel limit. */
export type DetectOptions = Omit<PostprocessOptions, 'imageSize'> & Pick<LoadImageOptions, 'maxPixels'>;

/** A network (LayersModel, raw head outputs NHWC) and its spec. */
export class Detector {
  /** The trainable tfjs LayersModel; outputs are the raw head tensors, NHWC. */
  readonly model: tf.LayersModel;
  /** Input, head, class and NMS description (plain data). */
  readonly spec: ModelSpec;
  /**
   * A custom inference function. When set, `predict` uses it instead of the built-in paths; it
   * must return the same tensors as `model.predict`. `disposeInference` is called by `dispose`.
   */
  inference?: (x: tf.Tensor4D) => tf.Tensor[];
  disposeInference?: () => void;
  /**
   * Run `predict`/`detect` on the compiled inference graph (BatchNorm folded into the convs, each
   * conv + bias + activation one fused call; equal to `model.predict` within 1e-4). Default true.
   * The graph is compiled on first use and recompiled automatically when the model's weights
   * change (e.g. after training). Set to false to always use the LayersModel.
   */
  fastInference = true;
  /**
   * Engine of the compiled path (see {@link InferenceEngine}); default `'auto'`. Changing it
   * takes effect on the next `predict`.
   */
  engine: InferenceEngine = 'auto';
  /** Threads for the wasm kernels (default: the wasm backend's thread count, else all cores). */
  engineThreads?: number;
  private compiled: { c: CompiledInference; weights: unknown[]; engine: InferenceInfo['engine']; key: string; threads: number } | null = null;
  private compileFailed = false;
  private fallbackReason?: string;
  private disposed = false;

  constructor(model: tf.LayersModel, spec: ModelSpec) {
    this.model = model;
    this.spec = spec;
    // A spec read from a file may claim any size; every image is resized to it.
    const size = spec.input?.size;
    if (!Array.isArray(size) || size.length !== 2) throw new Error(`spec '${spec.name}': input.size must be [height, width], got ${JSON.stringify(size)}`);
    size.forEach((s, i) => checkInputSide(s, `spec '${spec.name}': input.size[${i}]`));
    const nOut = model.outputs.length;
    const needed = Math.max(...spec.heads.flatMap(headOutputs));
    if (needed >= nOut) {
      throw new Error(`spec '${spec.name}' refers to output ${needed} but the model has ${nOut} outputs`);
    }
  }

  /** Class labels (index = classId). */
  get classNames(): string[] {
    return this.spec.classNames;
  }

  /**
   * Raw head outputs (one tensor per output, NHWC, the original channel order) for a
   * preprocessed `[N, H, W, 3]` float input. The caller owns (and disposes) the result.
   */
  predict(x: tf.Tensor4D | tf.Tensor): tf.Tensor[] {
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new Error(`predict expects a preprocessed [N, H, W, 3] tensor, got shape [${x.shape.join(', ')}]`);
    }
    const [h, w] = this.spec.input.size;
    if (x.shape[1] !== h || x.shape[2] !== w) {
      throw new Error(`predict expects input ${h}x${w} (spec '${this.spec.name}'), got ${x.shape[1]}x${x.shape[2]}`);
    }
    if (this.disposed) throw new Error(`Detector '${this.spec.name}' has been disposed`);
    const run = this.inference ?? this.compiledRun();
    try {
      return tf.tidy(() => {
        const out = run ? run(x as tf.Tensor4D) : this.model.predict(x as tf.Tensor4D);
        return Array.isArray(out) ? out : [out];
      });
    } catch (e) {
      if (!(e instanceof KernelTrapError)) throw e;
      // The trapped engine instance (its memory and worker threads) is discarded; the next call
      // compiles a fresh one. Other models have their own instances and are not affected.
      this.releaseCompiled();
      throw new Error(`model '${this.spec.name}': ${e.message} (the engine instance was discarded and is rebuilt on the next call)`);
    }
  }

  /** The compiled graph's run function, (re)compiled when the weights changed; null if unavailable. */
  private compiledRun(): ((x: tf.Tensor4D) => tf.Tensor[]) | null {
    if (!this.fastInference || this.compileFailed) return null;
    const weights = this.model.weights.map((w) => (w.read() as unknown as { dataId: unknown }).dataId);
    const key = `${this.engine}|${this.engineThreads ?? ''}|${tf.getBackend()}`;
    const c = this.compiled;
    if (c && c.key === key && c.weights.length === weights.length && c.weights.every((id, i) => id === weights[i])) {
      return (x) => c.c.run(x);
    }
    this.releaseCompiled();
    try {
      const compiled = this.compileEngine();
      this.compiled = { ...compiled, weights, key };
      return (x) => compiled.c.run(x);
    } catch (e) {
      // Too big for wasm memory: the LayersModel path would need even more, so no fallback.
      if (e instanceof PlanTooLargeError) throw new Error(`model '${this.spec.name}': ${e.message}`);
      this.compileFailed = true;
      this.fallbackReason = (e as Error).message;
      // eslint-disable-next-line no-console
      console.warn(`yolo-tfjs: fast inference unavailable for '${this.spec.name}' (${(e as Error).message}); using the LayersModel`);
      return null;
    }
  }

  private compileEngine(): { c: CompiledInference; engine: InferenceInfo['engine']; threads: number } {
    this.fallbackReason = undefined;
    const backend = tf.getBackend();
    const wanted = this.engine === 'wasm-kernels' || (this.engine === 'auto' && (backend === 'wasm' || backend === 'cpu'));
    if (wanted) {
      if (!wasmSimdSupported()) this.fallbackReason = 'this JavaScript engine has no WebAssembly SIMD';
      else {
        try {
          // Node: as many threads as the wasm backend was given (all cores, YOLO_TFJS_THREADS,
          // setBackend's option); browsers: all cores (tfjs-wasm reports fewer there).
          const info = backendInfo();
          const threads = this.engineThreads ?? (isNode() && info.name === 'wasm' ? info.threads : undefined);
          const c = compileWasmInference(this.model, { threads });
          if ((threads === undefined || threads > 1) && c.threads === 1 && !wasmThreadsSupported()) {
            this.fallbackReason = 'one thread: no shared wasm memory here (browsers need a cross-origin isolated page: COOP/COEP headers)';
          }
          return { c, engine: 'wasm-kernels', threads: c.threads };
        } catch (e) {
          if (!(e instanceof UnsupportedGraphError)) throw e;
          this.fallbackReason = e.message;
          if (this.engine === 'wasm-kernels') {
            // eslint-disable-next-line no-console
            console.warn(`yolo-tfjs: wasm kernels unavailable for '${this.spec.name}' (${e.message}); using tfjs ops`);
          }
        }
      }
    }
    return { c: compileInference(this.model), engine: 'tfjs-graph', threads: 1 };
  }

  /**
   * Resolves when the engine's worker threads are running (the first calls after compiling may
   * use fewer threads). Compiles the fast path if it was not yet.
   */
  async engineReady(): Promise<void> {
    this.compiledRun();
    const c = this.compiled?.c as { ready?: () => Promise<void> } | undefined;
    if (c && typeof c.ready === 'function') await c.ready();
  }

  /** Which engine runs `predict` (compiles the fast path if it was not yet). */
  inferenceInfo(): InferenceInfo {
    if (this.inference) return { engine: 'custom', threads: 1 };
    this.compiledRun();
    const c = this.compiled;
    if (!c) return { engine: 'layers', threads: 1, fallbackReason: this.fallbackReason };
    return { engine: c.engine, threads: c.threads, ...(this.fallbackReason ? { fallbackReason: this.fallbackReason } : {}) };
  }

  private releaseCompiled(): void {
    if (this.compiled) this.compiled.c.dispose();
    this.compiled = null;
  }

  /**
   * Decode raw outputs into detections in original-image pixels: grid/anchor decode as the
   * spec says, score threshold, NMS, inverse of the resize. Synchronous (one data read).
   * With a batch of N > 1, use `postprocessBatch`.
   */
  postprocess(raw: tf.Tensor[], opts: PostprocessOptions): Detection[] {
    const n = raw[0].shape[0];
    if (n !== 1) throw new Error(`postprocess takes a batch of 1 (got ${n}); use postprocessBatch for batches`);
    return this.postprocessBatch(raw, opts)[0];
  }

  /** `postprocess` for a batch: one detection list per batch item. */
  postprocessBatch(raw: tf.Tensor[], opts: PostprocessOptions): Detection[][] {
    return postprocessOutputs(this.spec, raw, opts);
  }

  /**
   * Detect objects in an image (file path, encoded Buffer, RGB `tf.Tensor3D`, or ImageData-like
   * `{data, width, height}`), or in an array of them (batched; returns one list per image).
   */
  async detect(image: ImageInput, opts?: DetectOptions): Promise<Detection[]>;
  async detect(images: ImageInput[], opts?: DetectOptions): Promise<Detection[][]>;
  async detect(image: ImageInput | ImageInput[], opts: DetectOptions = {}): Promise<Detection[] | Detection[][]> {
    await ready();
    // a bad class name fails before the image is read and the network runs
    if (opts.classes !== undefined) resolveClassFilter(this.spec.classNames, opts.classes);
    const list = Array.isArray(image) ? image : [image];
    if (list.length === 0) return [];
    const { maxPixels, ...post } = opts;
    const resize = post.resize ?? this.spec.input.resize;
    const input = { ...this.spec.input, resize };
    const pre: PreprocessResult[] = [];
    try {
      for (const img of list) {
        // Encoded images far larger than the network are shrunk by the decoder (bounded memory).
        const pixels = await loadImage(img, { maxPixels, fitTo: input });
        try {
          pre.push(preprocessImage(pixels.tensor, input, pixels.originalSize));
        } finally {
          if (pixels.owned) pixels.tensor.dispose();
        }
      }
      const batch = tf.tidy(() => (pre.length === 1 ? pre[0].tensor : tf.concat(pre.map((p) => p.tensor), 0)));
      let raw: tf.Tensor[] = [];
      try {
        raw = this.predict(batch);
        const dets = this.postprocessBatch(raw, { ...post, resize, imageSize: pre.map((p) => p.imageSize) });
        return Array.isArray(image) ? dets : dets[0];
      } finally {
        if (batch !== pre[0].tensor) batch.dispose();
        tf.dispose(raw);
      }
    } finally {
      for (const p of pre) p.tensor.dispose();
    }
  }

  /**
   * Detect objects on a stream of frames: a `<video>` element (each new frame, e.g. a webcam
   * from `getUserMedia`), a canvas (its pixels at every animation frame), or any async iterable
   * of images (Node: a decoder, a camera library; tensor frames are disposed once used unless
   * `keepFrames`). One frame at a time, never two detections at once; frames that arrive while
   * busy (or faster than `maxFps`) are skipped. `onResult` gets the detections and
   * `{frame, skipped, ms, fps, timestamp}`; the next frame waits for a promise it returns.
   *
   * ```ts
   * const run = detector.detectVideo(videoElement, (dets, { fps }) => draw(dets, fps), { maxFps: 15 });
   * // later
   * run.stop();
   * await run.done; // { frames, skipped, reason }
   * ```
   * @returns a handle: `stop()`, and `done`, which settles once no detection runs any more
   * (rejects with the error of `detect` or `onResult` unless `opts.onError` is given).
   */
  detectVideo(source: VideoSource, onResult: VideoResultCallback, opts: DetectVideoOptions = {}): VideoStopHandle {
    return detectVideo((image, o) => this.detect(image, o), source, onResult, opts);
  }

  /** Free the model's weights (shared layers included). Calling it again does nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.releaseCompiled();
    if (this.disposeInference) this.disposeInference();
    this.inference = undefined;
    disposeLayersModel(this.model);
  }
}
