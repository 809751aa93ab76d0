/**
 * Measure the fast inference path: LayersModel `predict` vs `compileInference` (leaky ReLU as
 * fused `prelu` and as fused `leakyrelu`) on tfjs-wasm, and onnxruntime-node on our ONNX export
 * of the same weights, plus the compiled path's time per kernel type (tf.profile).
 *
 *   node -r ts-node/register/transpile-only bench/infer-compare.ts            # 1 and 2 threads
 *   node -r ts-node/register/transpile-only bench/infer-compare.ts --threads 2 [--models a,b]
 *
 * The wasm thread count is fixed per process, so without --threads the script re-runs itself
 * once per thread count and prints one table. A script, not a test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';

const ROOT = path.resolve(__dirname, '..');
const FIX = process.env.YOLO_TFJS_FIXTURES || path.resolve(ROOT, '..', 'shared', 'fixtures');

interface Row {
  model: string;
  threads: number;
  layers?: number;
  fusedPrelu?: number;
  fusedLeaky?: number;
  ort?: number;
  topKernels?: string;
  error?: string;
}

interface Entry {
  name: string;
  size: number;
  iters: number;
  build(): import('../src/detector').Detector;
}

const darknet = (cfg: string, weights: string, size: number) => () => {
  const { loadDarknet } = require('../src/models/darknet/loadDarknet');
  const dir = path.join(FIX, 'darknet', 'weights');
  return loadDarknet(fs.readFileSync(path.join(dir, cfg), 'utf8'), fs.readFileSync(path.join(dir, weights)), { inputSize: size });
};

const ENTRIES: Entry[] = [
  { name: 'tiny YOLOv3 416', size: 416, iters: 15, build: darknet('yolov3-tiny.cfg', 'yolov3-tiny_random_seed1234.weights', 416) },
  { name: 'YOLOv4-tiny 416', size: 416, iters: 15, build: darknet('yolov4-tiny.cfg', 'yolov4-tiny_random_seed1234.weights', 416) },
  { name: 'yolo-fastest-1.1 320', size: 320, iters: 40, build: darknet('yolo-fastest-1.1.cfg', 'yolo-fastest-1.1.weights', 320) },
  {
    name: 'YOLO-FastestV2 352',
    size: 352,
    iters: 60,
    build: () => require('../src/models/loadPytorch').loadPytorch('yolo-fastestv2', fs.readFileSync(path.join(FIX, 'yolo-fastestv2', 'coco2017-0.241078ap-model.pth'))),
  },
  {
    name: 'EfficientDet-D0 512',
    size: 512,
    iters: 8,
    build: () => require('../src/models/loadPytorch').loadPytorch('efficientdet-d0', fs.readFileSync(path.join(FIX, 'efficientdet', 'efficientdet-d0-random.pth'))),
  },
];

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => Promise<void> | void, iters: number, warm = 3): Promise<number> {
  for (let i = 0; i < warm; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** tfjs call + a blocking read of every output (so the time includes the whole forward pass). */
function tfCall(f: (x: tf.Tensor4D) => tf.Tensor[], x: tf.Tensor4D): () => void {
  return () => {
    const out = tf.tidy(() => f(x));
    for (const o of out) o.dataSync();
    tf.dispose(out);
  };
}

async function profileKernels(f: () => void): Promise<string> {
  const info = await tf.profile(() => {
    f();
  });
  const byName = new Map<string, number>();
  // Kernels only (op wrappers named `*__op` nest the same work).
  for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) byName.set(k.name, (byName.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([n, ms]) => `${n} ${ms.toFixed(1)} (${Math.round((100 * ms) / total)}%)`)
    .join(', ');
}

async function runChild(threads: number, only: string[] | null): Promise<Row[]> {
  const { setBackend } = require('../src/backend');
  await setBackend('wasm', { threads });
  tf.enableProdMode();
  const { compileInference } = require('../src/infer/compileInference');
  const { exportOnnx } = require('../src/export/onnx/exportOnnx');
  const ort = require('onnxruntime-node');
  const rows: Row[] = [];
  for (const e of ENTRIES) {
    if (only && !only.some((o) => e.name.toLowerCase().includes(o.toLowerCase()))) continue;
    const row: Row = { model: e.name, threads };
    rows.push(row);
    let det: import('../src/detector').Detector | undefined;
    try {
      det = e.build();
      const d = det;
      const x = tf.randomUniform([1, e.size, e.size, 3]) as tf.Tensor4D;
      row.layers = await timeIt(tfCall((t) => d.predict(t), x), e.iters);
      const prelu = compileInference(d.model, { leaky: 'prelu' });
      row.fusedPrelu = await timeIt(tfCall((t) => prelu.run(t), x), e.iters);
      row.topKernels = await profileKernels(tfCall((t) => prelu.run(t), x));
      prelu.dispose();
      const leaky = compileInference(d.model, { leaky: 'leakyrelu' });
      row.fusedLeaky = await timeIt(tfCall((t) => leaky.run(t), x), e.iters);
      leaky.dispose();
      const session = await ort.InferenceSession.create(exportOnnx(d), { intraOpNumThreads: threads, interOpNumThreads: 1 });
      const feeds = { input: new ort.Tensor('float32', x.dataSync(), x.shape) };
      row.ort = await timeIt(async () => {
        await session.run(feeds);
      }, e.iters * 2);
      await session.release?.();
      x.dispose();
    } catch (err) {
      row.error = (err as Error).message.split('\n')[0];
    } finally {
      det?.dispose();
    }
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  return rows;
}

function table(rows: Row[]): string {
  const f = (v?: number) => (v === undefined ? '-' : v.toFixed(1));
  const lines = [
    '| model | threads | tfjs-wasm layers | compiled (prelu) | compiled (leakyrelu) | onnxruntime-node (our export) | top kernels of compiled (ms) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.model} | ${r.threads} | ${f(r.layers)} | ${f(r.fusedPrelu)} | ${f(r.fusedLeaky)} | ${f(r.ort)} | ${r.error ? `error: ${r.error}` : r.topKernels ?? ''} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--threads');
  const mi = args.indexOf('--models');
  const only = mi >= 0 ? args[mi + 1].split(',') : null;
  if (ti >= 0) {
    const rows = await runChild(Number(args[ti + 1]), only);
    process.stdout.write(`ROWS ${JSON.stringify(rows)}\n`);
    return;
  }
  const all: Row[] = [];
  for (const threads of [1, 2]) {
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, '--threads', String(threads), ...(only ? ['--models', only.join(',')] : [])], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 26,
    }).toString();
    const line = out.split('\n').find((l) => l.startsWith('ROWS '));
    if (line) all.push(...(JSON.parse(line.slice(5)) as Row[]));
  }
  all.sort((a, b) => ENTRIES.findIndex((e) => e.name === a.model) - ENTRIES.findIndex((e) => e.name === b.model) || a.threads - b.threads);
  console.log(table(all));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
