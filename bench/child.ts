/**
 * One benchmark configuration, run in its own process (thread counts are fixed when a wasm
 * module starts, and the processes must not share memory statistics). Invoked by bench/run.ts:
 *   node -r ts-node/register/transpile-only bench/child.ts '<json ChildJob>'
 * Prints one line `BENCH_RESULT <json BenchResult>`.
 */
import * as fs from 'fs';
import { BenchResult, summarise } from './stats';
import { MODELS, Network, SkipError } from './models';

/** What the parent asks a child to measure. */
export interface ChildJob {
  model: string;
  /** `tfjs-wasm`, `tfjs-cpu`, `onnxruntime-node`, `onnxruntime-web`. */
  backend: string;
  /** `layers` | `fused` (tfjs ops) | `kernels` (our wasm kernels) or `onnx`. */
  variant: string;
  threads: number;
  warmup: number;
  runs: number;
  memoryCalls: number;
}

function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs `call` once (first), `warmup` more times, then `runs` timed times. */
async function time(call: () => Promise<void>, job: ChildJob): Promise<Partial<BenchResult>> {
  let t = performance.now();
  await call();
  const firstMs = performance.now() - t;
  for (let i = 0; i < job.warmup; i++) await call();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < job.runs; i++) {
    t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  // CPU time of all threads per call: above the wall time means threads really ran in parallel.
  const cpuMsPerCall = (cpu.user + cpu.system) / 1000 / job.runs;
  return { firstMs, runs: job.runs, cpuMsPerCall, ...summarise(times) };
}

async function runTfjs(job: ChildJob, base: BenchResult): Promise<BenchResult> {
  const entry = MODELS.find((m) => m.name === job.model)!;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const backend = require('../src/backend') as typeof import('../src/backend');
  if (job.backend === 'tfjs-wasm') await backend.setBackend('wasm', { threads: job.threads });
  else if (job.backend === 'tfjs-cpu') await backend.setBackend('cpu');
  else throw new Error(`unknown tfjs backend ${job.backend}`);
  tf.enableProdMode();
  const info = backend.backendInfo();
  const net: Network = await entry.build();
  const detector = typeof net === 'function' ? null : net;
  // Detectors run the compiled graph by default; the 'layers' variant measures the LayersModel.
  if (detector && 'fastInference' in detector) (detector as { fastInference: boolean }).fastInference = job.variant !== 'layers';
  if (job.variant === 'kernels') {
    if (!detector) throw new SkipError('kernels variant needs a Detector');
    const d = detector as unknown as { engine: string; engineThreads?: number; inferenceInfo(): { engine: string; fallbackReason?: string } };
    d.engine = 'wasm-kernels';
    d.engineThreads = job.threads;
    const used = d.inferenceInfo();
    if (used.engine !== 'wasm-kernels') throw new SkipError(`wasm kernels not used: ${used.fallbackReason ?? used.engine}`);
  }
  if (job.variant === 'fused') {
    if (!detector) throw new SkipError('fused variant needs a Detector');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const infer = require('../src/infer/enableFastInference') as {
      enableFastInference?: (d: unknown) => unknown;
    };
    if (typeof infer.enableFastInference !== 'function') throw new SkipError('src/infer has no enableFastInference');
    try {
      infer.enableFastInference(detector);
    } catch (e) {
      throw new SkipError(`enableFastInference failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const predict = (x: import('@tensorflow/tfjs').Tensor4D) => (detector ? detector.predict(x) : (net as (x: import('@tensorflow/tfjs').Tensor4D) => import('@tensorflow/tfjs').Tensor[])(x));
  const [h, w] = entry.inputSize;
  const x = tf.randomUniform([1, h, w, 3], 0, 1, 'float32', 42) as import('@tensorflow/tfjs').Tensor4D;
  const call = async () => {
    const outs = predict(x);
    for (const o of outs) o.dataSync();
    tf.dispose(outs);
  };
  const timing = await time(call, job);
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < job.memoryCalls; i++) await call();
  const tensorsAfter = tf.memory().numTensors;
  return {
    ...base,
    ...timing,
    reportedThreads: info.threads,
    memoryCalls: job.memoryCalls,
    tensorsBefore,
    tensorsAfter,
    peakRssMB: peakRssMB(),
  };
}

async function runOnnx(job: ChildJob, base: BenchResult): Promise<BenchResult> {
  const entry = MODELS.find((m) => m.name === job.model)!;
  let onnxModel: Uint8Array | string;
  let layout: 'NHWC' | 'NCHW' = 'NHWC';
  if (job.variant === 'upstream-onnx') {
    if (!entry.upstreamOnnx || !fs.existsSync(entry.upstreamOnnx)) throw new SkipError('no upstream ONNX file');
    onnxModel = entry.upstreamOnnx;
    layout = 'NCHW';
  } else {
    // The SAME weights as the tfjs rows: our own ONNX export of the built model (NHWC input).
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const backend = require('../src/backend') as typeof import('../src/backend');
    await backend.setBackend('cpu');
    const net = await entry.build();
    if (typeof net === 'function') throw new SkipError('ONNX export needs a Detector');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { exportOnnx } = require('../src/export/onnx') as typeof import('../src/export/onnx');
    onnxModel = exportOnnx(net as never);
    if (net.dispose) net.dispose();
  }
  type Ort = typeof import('onnxruntime-node');
  let ort: Ort;
  let options: Record<string, unknown>;
  if (job.backend === 'onnxruntime-node') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    ort = require('onnxruntime-node') as Ort;
    options = { intraOpNumThreads: job.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  } else {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    ort = require('onnxruntime-web') as Ort;
    (ort.env as { wasm: { numThreads: number } }).wasm.numThreads = job.threads;
    // Explicit: onnxruntime-common's registry would pick a native backend if one were loaded.
    options = { graphOptimizationLevel: 'all', executionProviders: ['wasm'] };
  }
  const session = await ort.InferenceSession.create(onnxModel as Uint8Array, options);
  const [h, w] = entry.inputSize;
  const data = new Float32Array(3 * h * w);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, layout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w]) };
  const call = async () => {
    await session.run(feeds);
  };
  const timing = await time(call, job);
  for (let i = 0; i < job.memoryCalls; i++) await call();
  await session.release();
  return { ...base, ...timing, memoryCalls: job.memoryCalls, peakRssMB: peakRssMB() };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
  const entry = MODELS.find((m) => m.name === job.model);
  if (!entry) throw new Error(`unknown model '${job.model}'`);
  const base: BenchResult = {
    model: job.model,
    backend: job.backend,
    variant: job.variant,
    threads: job.threads,
    inputSize: entry.inputSize,
  };
  let result: BenchResult;
  try {
    result = job.backend.startsWith('tfjs') ? await runTfjs(job, base) : await runOnnx(job, base);
  } catch (e) {
    if (!(e instanceof SkipError)) throw e;
    result = { ...base, skipped: e.message };
  }
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
