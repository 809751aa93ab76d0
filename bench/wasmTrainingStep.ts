/**
 * Time of one training step (forward + gradients + SGD update) of a small conv net on
 * wasm (1 and 2 threads) and cpu, with the wasm gradient kernels of src/train/wasmGradients.
 * Each configuration runs in its own process (the wasm thread count is fixed per module):
 *   node -r ts-node/register/transpile-only bench/wasmTrainingStep.ts            # all configs
 *   node -r ts-node/register/transpile-only bench/wasmTrainingStep.ts wasm 2     # one config
 * Not a test: a short measurement (a few steps per configuration).
 */
import { execFileSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, setBackend } from '../src/backend';
import { registerCpuTrainingFixes, registerWasmTrainingKernels } from '../src/train/wasmGradients';

const BATCH = 4;
const SIZE = 160;
/** Timed steps after the first (cpu: 1, it takes minutes). */
const STEPS = 4;
const CPU_STEPS = 1;

/** A tiny-YOLO-like net: conv-BN-leaky / maxpool stages, a depthwise block, upsample + concat, 1x1 head. */
function buildNet(): tf.LayersModel {
  const inp = tf.input({ shape: [SIZE, SIZE, 3] });
  const cbl = (x: tf.SymbolicTensor, f: number, k: number, s = 1): tf.SymbolicTensor => {
    let y = tf.layers.conv2d({ filters: f, kernelSize: k, strides: s, padding: 'same', useBias: false }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
    return tf.layers.leakyReLU({ alpha: 0.1 }).apply(y) as tf.SymbolicTensor;
  };
  const pool = (x: tf.SymbolicTensor): tf.SymbolicTensor => tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  let x = pool(cbl(inp, 16, 3)); // 80
  x = pool(cbl(x, 32, 3)); // 40
  const c3 = cbl(x, 64, 3); // 40
  x = pool(c3); // 20
  let dw = tf.layers.depthwiseConv2d({ kernelSize: 5, padding: 'same', useBias: false }).apply(x) as tf.SymbolicTensor;
  dw = tf.layers.batchNormalization().apply(dw) as tf.SymbolicTensor;
  x = cbl(dw, 128, 1);
  x = cbl(x, 128, 3, 2); // 10
  const up = tf.layers.upSampling2d({ size: [2, 2] }).apply(cbl(x, 64, 1)) as tf.SymbolicTensor; // 20
  const c4 = pool(c3);
  const cat = tf.layers.concatenate().apply([up, c4]) as tf.SymbolicTensor;
  const head = tf.layers.conv2d({ filters: 3 * (5 + 4), kernelSize: 1 }).apply(cbl(cat, 64, 3)) as tf.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: head });
}

async function runOne(backend: string, threads: number): Promise<void> {
  await setBackend(backend, { threads });
  if (backend === 'wasm') registerWasmTrainingKernels();
  if (backend === 'cpu') registerCpuTrainingFixes();
  const model = buildNet();
  const opt = tf.train.sgd(1e-3);
  const x = tf.randomUniform([BATCH, SIZE, SIZE, 3]);
  const target = tf.randomUniform([BATCH, SIZE / 8, SIZE / 8, 27]);
  const step = (): number => {
    const loss = opt.minimize(() => tf.mean(tf.square(tf.sub(tf.sigmoid(model.apply(x, { training: true }) as tf.Tensor), target))) as tf.Scalar, true);
    const v = (loss as tf.Scalar).dataSync()[0];
    loss?.dispose();
    return v;
  };
  let t = performance.now();
  step();
  const first = performance.now() - t;
  const times: number[] = [];
  const steps = backend === 'cpu' ? CPU_STEPS : STEPS;
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    step();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const info = backendInfo();
  console.log(`RESULT ${JSON.stringify({ backend: info.name, threads: info.threads, multithread: info.multithread, fallback: info.fallbackReason, firstMs: Math.round(first), medianMs: Math.round(times[times.length >> 1]), minMs: Math.round(times[0]) })}`);
}

async function main(): Promise<void> {
  const [backend, threads] = process.argv.slice(2);
  if (backend) {
    await runOne(backend, Number(threads ?? 1));
    return;
  }
  console.log(`one training step (forward + grads + SGD), batch ${BATCH} x ${SIZE}x${SIZE}x3, median of ${STEPS} after a first step (cpu: ${CPU_STEPS}):`);
  for (const [b, n] of [['wasm', 1], ['wasm', 2], ['cpu', 1]] as [string, number][]) {
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, b, String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    console.log(`  ${b} threads=${n}: ${line ? line.slice(7) : 'no result'}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
