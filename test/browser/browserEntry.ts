/**
 * The browser side of test/browser/browserEngine.test.ts: bundled by esbuild for the browser
 * platform and loaded by browserPage.html. It imports the library from src/index.ts (the public
 * API, as an application would), builds the deterministic case of browserCase.ts and, when the
 * test calls `window.__yoloRun({ isolated })`, runs `predict` on every path (our wasm kernels on
 * 1 and 2 threads, tfjs ops on the cpu and wasm backends, `auto`) and `detect` on an image drawn
 * on a canvas, and returns everything as plain data. On a page that is not cross-origin
 * isolated it runs only the checks that apply there (2 threads asked -> 1 thread). Every step
 * records its error instead of throwing, so the test can say precisely what failed in the
 * browser.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { backendInfo, setBackend, yoloFastestV2 } from '../../src/index';
import { compileWasmInference, wasmSimdSupported, wasmThreadsSupported } from '../../src/entry/engine';
import type { BackendInfo, Detection, Detector, InferenceInfo } from '../../src/index';
import type { KernelThreadPoolStats, WasmCompiledInference } from '../../src/entry/engine';
import { CASE_DETECT, CASE_IMAGE, CASE_MODEL, caseInput, maxOutputError, RawOutput, readOutputs, seedWeights } from './browserCase';

/** One `predict` path as seen in the page. */
export interface BrowserRun {
  name: string;
  backend: string;
  info?: InferenceInfo;
  outputs?: RawOutput[];
  /** Wall times of `predict` + reading the outputs after warm-up, ms. */
  ms?: number[];
  /**
   * 2-thread run only: worker thread counters of a run on a pool whose page thread never takes
   * over a worker's chunk (so the worker computes in the page however loaded the machine), and
   * that run's outputs.
   */
  threadStats?: KernelThreadPoolStats | null;
  workerOutputs?: RawOutput[];
  /** How long the kernel workers took to report ready, ms (2-thread run only). */
  workersReadyMs?: number;
  /** tf.memory().numTensors before / after the timed calls. */
  tensors?: [number, number];
  error?: string;
}

/** What `window.__yoloRun(opts)` returns. */
export interface BrowserReport {
  env: {
    userAgent: string;
    crossOriginIsolated: boolean;
    sharedArrayBuffer: boolean;
    hardwareConcurrency: number;
    wasmSimd: boolean;
    wasmThreads: boolean;
  };
  runs: BrowserRun[];
  /**
   * The real YOLO-FastestV2 input size (352): predict times on 1 and 2 kernel threads, and the
   * largest difference between the two outputs (the split must not change the numbers).
   */
  timing352?: { ms1: number[]; ms2: number[]; maxDiff12: number; threadStats: KernelThreadPoolStats | null; error?: string };
  /** backendInfo() after setBackend('wasm', { threads: 2 }). */
  wasmBackend?: BackendInfo;
  detect: {
    /** The canvas pixels (RGBA) given to `detect`, so Node can run the same image. */
    rgba?: number[];
    fromImageData?: Detection[];
    fromCanvas?: Detection[];
    info?: InferenceInfo;
    backend?: string;
    isArray?: boolean;
    tensors?: [number, number];
    error?: string;
  };
  totalMs: number;
}

const TIMED_RUNS = 7;

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}` : String(e);
}

/** The detector's compiled wasm-kernel function (null on another engine). */
function compiledOf(det: Detector): WasmCompiledInference | null {
  const c = det.compiledInference() as Partial<WasmCompiledInference> | null;
  return c && typeof c.ready === 'function' ? (c as WasmCompiledInference) : null;
}

/**
 * One run of `model` on 2 wasm-kernel threads whose page thread never takes over a worker's
 * chunk (the pool's `debugNoTakeOver`): the worker computes its chunks in the page whatever the
 * machine's load (otherwise the page thread takes over chunks a worker has not claimed by the
 * time its own is done, which on a loaded machine can be every chunk). Returns the outputs and
 * the pool's counters.
 */
async function workerRun(model: Detector['model'], x: tf.Tensor4D): Promise<{ outputs: RawOutput[]; stats: KernelThreadPoolStats | null }> {
  const c = compileWasmInference(model, { threads: 2, pool: { debugNoTakeOver: true } });
  try {
    await c.ready();
    const out = c.run(x);
    try {
      return { outputs: readOutputs(out), stats: c.threadStats };
    } finally {
      tf.dispose(out);
    }
  } finally {
    c.dispose();
  }
}

function predictOnce(det: Detector, x: tf.Tensor4D): RawOutput[] {
  const out = det.predict(x);
  try {
    return readOutputs(out);
  } finally {
    tf.dispose(out);
  }
}

async function timed(det: Detector, x: tf.Tensor4D, r: BrowserRun): Promise<void> {
  predictOnce(det, x); // warm-up
  const before = tf.memory().numTensors;
  r.ms = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const t0 = performance.now();
    predictOnce(det, x);
    r.ms.push(performance.now() - t0);
    // Yield between calls as a page would (requestAnimationFrame / awaits).
    await new Promise((res) => setTimeout(res, 0));
  }
  r.tensors = [before, tf.memory().numTensors];
}

async function predictRun(
  name: string,
  det: Detector,
  x: tf.Tensor4D,
  setup: () => void,
  extra?: (r: BrowserRun) => Promise<void>,
): Promise<BrowserRun> {
  const r: BrowserRun = { name, backend: tf.getBackend() };
  try {
    setup();
    r.outputs = predictOnce(det, x); // first call compiles (and starts the workers)
    if (extra) await extra(r);
    r.info = det.inferenceInfo();
    await timed(det, x, r);
  } catch (e) {
    r.error = errorText(e);
  }
  return r;
}

/** Draws an opaque test picture (gradient, shapes, text) and returns its pixels. */
function drawImage(): { canvas: HTMLCanvasElement; image: ImageData } {
  const { width, height } = CASE_IMAGE;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d canvas context');
  const g = ctx.createLinearGradient(0, 0, width, height);
  g.addColorStop(0, 'rgb(20, 60, 140)');
  g.addColorStop(1, 'rgb(230, 200, 90)');
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = 'rgb(200, 30, 40)';
  ctx.fillRect(30, 25, 60, 80);
  ctx.fillStyle = 'rgb(40, 180, 70)';
  ctx.beginPath();
  ctx.arc(140, 90, 35, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = 'rgb(250, 250, 250)';
  ctx.font = '20px sans-serif';
  ctx.fillText('yolo', 110, 30);
  return { canvas, image: ctx.getImageData(0, 0, width, height) };
}

/** 1 vs 2 kernel threads at YOLO-FastestV2's own input size, on the cpu backend. */
async function timing352(): Promise<BrowserReport['timing352']> {
  const out = { ms1: [] as number[], ms2: [] as number[], maxDiff12: NaN, threadStats: null as KernelThreadPoolStats | null };
  await setBackend('cpu');
  const det = yoloFastestV2({ ...CASE_MODEL, inputSize: 352 });
  const x = tf.tidy(() => tf.image.resizeBilinear(caseInput(), [352, 352]) as tf.Tensor4D);
  try {
    seedWeights(det.model);
    det.engine = 'wasm-kernels';
    const results: RawOutput[][] = [];
    for (const threads of [1, 2]) {
      det.engineThreads = threads;
      const r: BrowserRun = { name: `352 ${threads}`, backend: 'cpu' };
      predictOnce(det, x);
      await compiledOf(det)?.ready();
      results.push(predictOnce(det, x));
      await timed(det, x, r);
      if (threads === 1) out.ms1 = r.ms!;
      else out.ms2 = r.ms!;
    }
    // The split with the worker really computing its chunks must not change the numbers either.
    const forced = await workerRun(det.model, x);
    out.threadStats = forced.stats;
    out.maxDiff12 = Math.max(maxOutputError(results[0], results[1]), maxOutputError(results[0], forced.outputs));
    return out;
  } catch (e) {
    return { ...out, error: errorText(e) };
  } finally {
    x.dispose();
    det.dispose();
  }
}

/** What the test asks the page to run. */
export interface BrowserRunOptions {
  /**
   * The page is served cross-origin isolated: run everything (1 and 2 threads, tfjs on cpu and
   * wasm, detect, timings). Otherwise only the checks of a plain page (threads fall back to 1).
   */
  isolated: boolean;
}

async function run(opts: BrowserRunOptions): Promise<BrowserReport> {
  const t0 = performance.now();
  const report: BrowserReport = {
    env: {
      userAgent: navigator.userAgent,
      crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
      sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
      hardwareConcurrency: navigator.hardwareConcurrency,
      wasmSimd: wasmSimdSupported(),
      wasmThreads: wasmThreadsSupported(),
    },
    runs: [],
    detect: {},
    totalMs: 0,
  };
  // tfjs-backend-wasm's .wasm files, served by the test from node_modules.
  setWasmPaths(new URL('/tfjs-wasm/', location.href).href);

  await setBackend('cpu');
  const det = yoloFastestV2(CASE_MODEL);
  seedWeights(det.model);
  const x = caseInput();

  if (!opts.isolated) {
    // A plain page (no COOP/COEP): no shared memory, so 2 threads asked must run on 1.
    report.runs.push(
      await predictRun('wasm-kernels 2 threads asked, not isolated (cpu backend)', det, x, () => {
        det.engine = 'wasm-kernels';
        det.engineThreads = 2;
      }),
    );
  } else {
    report.runs.push(
      await predictRun('wasm-kernels 1 thread (cpu backend)', det, x, () => {
        det.engine = 'wasm-kernels';
        det.engineThreads = 1;
      }),
    );
    report.runs.push(
      await predictRun(
        'wasm-kernels 2 threads (cpu backend)',
        det,
        x,
        () => {
          det.engine = 'wasm-kernels';
          det.engineThreads = 2;
        },
        async (r) => {
          const c = compiledOf(det);
          if (!c) throw new Error('no compiled wasm-kernel function in the detector');
          const w0 = performance.now();
          await Promise.race([
            c.ready(),
            new Promise((_, rej) => setTimeout(() => rej(new Error(`kernel workers not ready after 60 s (stats ${JSON.stringify(c.threadStats)})`)), 60000)),
          ]);
          r.workersReadyMs = performance.now() - w0;
          // Now with the workers: these are the outputs compared with Node.
          r.outputs = predictOnce(det, x);
          const forced = await workerRun(det.model, x);
          r.threadStats = forced.stats;
          r.workerOutputs = forced.outputs;
        },
      ),
    );
    const two = report.runs[1];
    report.runs.push(
      await predictRun('tfjs ops (cpu backend)', det, x, () => {
        det.engine = 'tfjs';
      }),
    );
  }

  let wasmOk = false;
  try {
    await setBackend('wasm', { threads: 2 });
    report.wasmBackend = backendInfo();
    wasmOk = true;
  } catch (e) {
    report.runs.push({ name: 'tfjs ops (wasm backend)', backend: tf.getBackend(), error: `setBackend('wasm'): ${errorText(e)}` });
  }
  if (wasmOk) {
    // Tensors made on cpu move to wasm on first use.
    if (opts.isolated) {
      report.runs.push(
        await predictRun('tfjs ops (wasm backend)', det, x, () => {
          det.engine = 'tfjs';
        }),
      );
    }
    report.runs.push(
      await predictRun('auto (wasm backend)', det, x, () => {
        det.engine = 'auto';
        det.engineThreads = undefined;
      }),
    );
  }

  if (opts.isolated) {
    try {
      const { canvas, image } = drawImage();
      report.detect.rgba = Array.from(image.data);
      report.detect.backend = tf.getBackend();
      const fromImageData = await det.detect(image, CASE_DETECT);
      report.detect.isArray = Array.isArray(fromImageData);
      report.detect.fromImageData = fromImageData;
      report.detect.info = det.inferenceInfo();
      const before = tf.memory().numTensors;
      report.detect.fromCanvas = await det.detect(canvas, CASE_DETECT);
      await det.detect(image, CASE_DETECT);
      report.detect.tensors = [before, tf.memory().numTensors];
    } catch (e) {
      report.detect.error = errorText(e);
    }
  }

  x.dispose();
  det.dispose();
  if (opts.isolated) report.timing352 = await timing352();
  report.totalMs = performance.now() - t0;
  return report;
}

(globalThis as { __yoloRun?: (opts: BrowserRunOptions) => Promise<BrowserReport> }).__yoloRun = run;
