/**
 * The `Detector`: a network plus the spec that says how to feed it and read it. Every model
 * (tiny YOLOv3, YOLOv4-tiny, any Darknet cfg, YOLO-FastestV2, EfficientDet) is a Detector; the
 * model-specific parts are the LayersModel and the `ModelSpec` data.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec, checkInputSide, headOutputs } from './spec';
import { Detection } from './detection';
import { postprocessOutputs, PostprocessOptions } from './postprocess/postprocess';
import { resolveClassFilter } from './select/classFilter';
import { preprocessImage, ImageInput, loadImage, PreprocessResult } from './preprocess/preprocess';
import type { LoadImageOptions } from './image/loadImage';
import { ready } from './backend';
import { disposeLayersModel } from './layers/disposeLayersModel';
import { KernelTrapError } from './engine/wasmInference';
import { EngineCache, EngineRequest, InferenceEngine, InferenceInfo } from './infer/engineCache';
import type { CompileOptions, CompiledInference } from './infer/compileInference';
import { detectVideo, DetectVideoOptions, VideoResultCallback, VideoSource, VideoStopHandle } from './video/detectVideo';

export type { InferenceEngine, InferenceInfo } from './infer/engineCache';
export type { Detection } from './detection';
export type { PostprocessOptions } from './postprocess/postprocess';

/** Options of {@link Detector.detect}: postprocessing, plus the decoder's pixel limit. */
export type DetectOptions = Omit<PostprocessOptions, 'imageSize'> & Pick<LoadImageOptions, 'maxPixels'>;

/** A network (LayersModel, raw head outputs NHWC) and its spec. */
export class Detector {
  /** The trainable tfjs LayersModel; outputs are the raw head tensors, NHWC. */
  readonly model: tf.LayersModel;
  /** Input, head, class and NMS description (plain data). */
  readonly spec: ModelSpec;
  /**
   * Run `predict`/`detect` on a compiled engine (see {@link engine}): the wasm kernels or the
   * compiled tfjs graph (BatchNorm folded into the convs, each conv + bias + activation one fused
   * call; equal to `model.predict` within 1e-4). Default true. The engine is compiled on first
   * use and recompiled automatically when the model's weights change (e.g. after training). Set
   * to false to always use the LayersModel.
   */
  fastInference = true;
  /**
   * Engine of the compiled path (see {@link InferenceEngine}); default `'auto'`. Changing it
   * takes effect on the next `predict`.
   */
  engine: InferenceEngine = 'auto';
  /** Threads for the wasm kernels (default: the wasm backend's thread count, else all cores). */
  engineThreads?: number;
  /**
   * Options of the compiled tfjs graph (the `'tfjs'` engine, and `'auto'` when it falls back to
   * tfjs), e.g. `{ leaky: 'separate' }`. Changing it takes effect on the next `predict`.
   */
  compileOptions?: CompileOptions;
  /**
   * @deprecated Set {@link engine} / {@link compileOptions} instead. A custom inference
   * function; when set, `predict` uses it instead of the engines and it must return the same
   * tensors as `model.predict`. `disposeInference` is called by `dispose`.
   */
  inference?: (x: tf.Tensor4D) => tf.Tensor[];
  /** @deprecated With {@link inference}: frees what it holds; called by `dispose`. */
  disposeInference?: () => void;
  /** The compiled engine (picked and cached by `src/infer`). */
  private readonly engines: EngineCache;
  private disposed = false;

  constructor(model: tf.LayersModel, spec: ModelSpec) {
    this.model = model;
    this.spec = spec;
    this.engines = new EngineCache(model);
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
    const run = this.engines.run(this.engineRequest());
    try {
      return tf.tidy(() => {
        const out = run ? run(x as tf.Tensor4D) : this.model.predict(x as tf.Tensor4D);
        return Array.isArray(out) ? out : [out];
      });
    } catch (e) {
      if (!(e instanceof KernelTrapError)) throw e;
      // The trapped engine instance (its memory and worker threads) is discarded; the next call
      // compiles a fresh one. Other models have their own instances and are not affected.
      this.releaseEngine();
      throw new Error(`model '${this.spec.name}': ${e.message} (the engine instance was discarded and is rebuilt on the next call)`);
    }
  }

  /** What the engine cache is asked for (the cache decides what runs). */
  private engineRequest(): EngineRequest {
    return { engine: this.engine, threads: this.engineThreads, compile: this.compileOptions, compiled: this.fastInference, custom: this.inference, name: this.spec.name };
  }

  /**
   * Resolves when the engine's worker threads are running (the first calls after compiling may
   * use fewer threads). Compiles the fast path if it was not yet.
   */
  async engineReady(): Promise<void> {
    this.engines.run(this.engineRequest());
    await this.engines.ready();
  }

  /** Which engine runs `predict` (compiles the fast path if it was not yet). */
  inferenceInfo(): InferenceInfo {
    const req = this.engineRequest();
    this.engines.run(req);
    return this.engines.info(req);
  }

  /**
   * The compiled engine `predict` runs now (compiled if it was not yet): its `graph` is the
   * optimised IR. Null on the LayersModel path or with a custom `inference`. Owned by the
   * Detector (freed by `dispose` or when it is recompiled): do not dispose it.
   */
  compiledInference(): CompiledInference | null {
    const req = this.engineRequest();
    if (!this.engines.run(req) || req.custom) return null;
    return (this.engines.current?.c as CompiledInference | undefined) ?? null;
  }

  /** Free the compiled engine now (the next `predict` compiles again). */
  releaseEngine(): void {
    this.engines.release();
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
    this.releaseEngine();
    if (this.disposeInference) this.disposeInference();
    this.inference = undefined;
    disposeLayersModel(this.model);
  }
}
