/**
 * Speed of the engine's element kernels (src/engine/native) against the tfjs op doing the same
 * on the wasm backend (XNNPACK where tfjs uses it), one thread each, on layer shapes of the
 * project's models. Prints a table of median milliseconds after warm-up.
 *
 *   node -r ts-node/register/transpile-only bench/kernels.ts [--runs 30] [--warmup 5] [--only substr]
 *
 * Wall-clock medians on a shared machine: compare the two columns of one run.
 */
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../src/backend';
import { Arena, KernelName, createKernelModule, packDepthwiseWeights } from '../src/engine/kernelModule';
import {
  ACT,
  BINARY_OP,
  BINARY_PARAMS,
  DEPTHWISE_PARAMS,
  GLOBAL_POOL_PARAMS,
  KernelActivation,
  PAD_PARAMS,
  POOL_PARAMS,
  UNARY_PARAMS,
  UPSAMPLE_PARAMS,
  paramBytes,
  writeParams,
} from '../src/engine/kernelParams';
import { mulberry32 } from '../src/util/random';
import { applyActivation } from '../src/infer/compileInference';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('runs', 30);
const WARMUP = arg('warmup', 5);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `fn` (repeated within a sample until the sample is >= 2 ms, then divided). */
function timeIt(fn: () => void): number {
  for (let i = 0; i < WARMUP; i++) fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t0 >= 2 || reps >= 1 << 16) break;
    reps *= 2;
  }
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    samples.push((performance.now() - t0) / reps);
  }
  return median(samples);
}

function rand(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** The tfjs inference path's activation ops (what our kernels replace). */
function tfAct(x: tf.Tensor, act: KernelActivation, alpha: number): tf.Tensor {
  return applyActivation(x, act, alpha);
}

interface Row {
  name: string;
  ours: number;
  tfjs: number;
}

async function main(): Promise<void> {
  await setBackend('wasm', { threads: 1 });
  tf.enableProdMode();
  const km = createKernelModule();
  const rows: Row[] = [];

  function bench(name: string, kernel: KernelName, layout: readonly string[], values: (a: Arena) => Record<string, number>, units: number, tfFn: () => tf.Tensor): void {
    if (ONLY && !name.includes(ONLY)) return;
    const arena = new Arena(km);
    const p = arena.alloc(paramBytes(layout));
    writeParams(km.memory, p, layout, values(arena) as never);
    const k = km.kernel(kernel);
    const ours = timeIt(() => k(p, 0, units));
    const tfjs = timeIt(() => tf.tidy(tfFn).dispose());
    rows.push({ name, ours, tfjs });
  }

  // depthwise (fused bias + relu in both)
  for (const [H, W, C, kk, s, act] of [
    [44, 44, 48, 3, 1, 'relu'],
    [88, 88, 24, 3, 2, 'linear'],
    [22, 22, 96, 3, 1, 'linear'],
    [32, 32, 112, 5, 1, 'linear'],
    [32, 32, 112, 5, 1, 'swish'],
    [16, 16, 240, 5, 2, 'linear'],
  ] as [number, number, number, number, number, KernelActivation][]) {
    const pad = Math.floor(kk / 2);
    const OH = Math.floor((H + 2 * pad - kk) / s) + 1, OW = Math.floor((W + 2 * pad - kk) / s) + 1;
    const x = rand(H * W * C, 1), f = rand(kk * kk * C, 2), b = rand(C, 3);
    const xt = tf.tensor4d(x, [1, H, W, C]), ft = tf.tensor4d(f, [kk, kk, C, 1]), bt = tf.tensor1d(b);
    const packed = packDepthwiseWeights(f, [kk, kk, C, 1], b);
    bench(`depthwise ${kk}x${kk} s${s} ${H}x${W}x${C} ${act}`, 'depthwise2d', DEPTHWISE_PARAMS, (a) => ({
      in: a.allocF32(x), H, W, C, inStride: C, out: a.alloc(OH * OW * C * 4), OH, OW, outStride: C,
      weights: a.allocF32(packed.weights), bias: a.allocF32(packed.bias), kh: kk, kw: kk, sh: s, sw: s, dh: 1, dw: 1,
      padTop: pad, padLeft: pad, act: ACT[act], alpha: 0,
    }), OH, () => {
      // 'same': the same output size (for stride 2 TF pads 0/1 where we pad 1/1; same work)
      const y = tf.fused.depthwiseConv2d({ x: xt, filter: ft, strides: s, pad: 'same', bias: bt, activation: act === 'relu' ? 'relu' : 'linear' });
      return act === 'swish' ? tfAct(y, 'swish', 0) : y;
    });
  }

  // maxpool
  for (const [H, W, C, kk, s, pad] of [
    [208, 208, 16, 2, 2, 0],
    [13, 13, 256, 2, 1, 0],
    [88, 88, 24, 3, 2, 1],
    [13, 13, 256, 5, 1, 2],
  ]) {
    const padEnd = kk === 2 && s === 1 ? 1 : pad;
    const OH = Math.floor((H + pad + padEnd - kk) / s) + 1, OW = OH;
    const x = rand(H * W * C, 4);
    const xt = tf.tensor4d(x, [1, H, W, C]);
    bench(`maxpool ${kk}x${kk} s${s} ${H}x${W}x${C}`, 'maxpool2d', POOL_PARAMS, (a) => ({
      in: a.allocF32(x), H, W, C, inStride: C, out: a.alloc(OH * OW * C * 4), OH, OW, outStride: C, kh: kk, kw: kk, sh: s, sw: s, padTop: pad, padLeft: pad,
    }), OH, () => tf.maxPool(xt, kk, s, pad === 0 && padEnd === 0 ? 'valid' : 'same'));
  }

  // binary
  {
    const [H, W, C] = [52, 52, 128];
    const P = H * W;
    const x = rand(P * C, 5), y = rand(P * C, 6);
    const xt = tf.tensor3d(x, [H, W, C]), yt = tf.tensor3d(y, [H, W, C]);
    bench(`add ${H}x${W}x${C}`, 'binary', BINARY_PARAMS, (a) => ({
      x: a.allocF32(x), xStride: C, y: a.allocF32(y), yStride: C, out: a.alloc(P * C * 4), outStride: C, pixels: P, C, op: BINARY_OP.axpby, a: 1, b: 1, act: 0, alpha: 0,
    }), P, () => tf.add(xt, yt));
    const [H2, W2, C2] = [26, 26, 256];
    const se = rand(C2, 7), z = rand(H2 * W2 * C2, 8);
    const set = tf.tensor3d(se, [1, 1, C2]), zt = tf.tensor3d(z, [H2, W2, C2]);
    bench(`SE mul [1,1,C]*${H2}x${W2}x${C2}`, 'binary', BINARY_PARAMS, (a) => ({
      x: a.allocF32(se), xStride: 0, y: a.allocF32(z), yStride: C2, out: a.alloc(z.length * 4), outStride: C2, pixels: H2 * W2, C: C2, op: BINARY_OP.mul, a: 1, b: 1, act: 0, alpha: 0,
    }), H2 * W2, () => tf.mul(set, zt));
  }

  // unary
  {
    const [H, W, C] = [52, 52, 128];
    const P = H * W;
    const x = rand(P * C, 9).map((v) => v * 8), sc = rand(C, 10), sh = rand(C, 11);
    const xt = tf.tensor3d(x, [H, W, C]), sct = tf.tensor1d(sc), sht = tf.tensor1d(sh);
    bench(`affine+leaky ${H}x${W}x${C} (tfjs: mul, add, leakyRelu)`, 'unary', UNARY_PARAMS, (a) => ({
      x: a.allocF32(x), xStride: C, channelStep: 1, out: a.alloc(P * C * 4), outStride: C, pixels: P, C, scale: a.allocF32(sc), shift: a.allocF32(sh), act: ACT.leaky, alpha: 0.1,
    }), P, () => tf.leakyRelu(tf.add(tf.mul(xt, sct), sht), 0.1));
    for (const act of ['sigmoid', 'swish', 'mish'] as KernelActivation[]) {
      bench(`${act} ${H}x${W}x${C}`, 'unary', UNARY_PARAMS, (a) => ({
        x: a.allocF32(x), xStride: C, channelStep: 1, out: a.alloc(P * C * 4), outStride: C, pixels: P, C, scale: 0, shift: 0, act: ACT[act], alpha: 0,
      }), P, () => tfAct(xt, act, 0));
    }
    const CT = 2 * 58, Cs = 58, [H3, W3] = [44, 44];
    const xs = rand(H3 * W3 * CT, 12);
    const xst = tf.tensor4d(xs, [H3, W3, Cs, 2]);
    bench(`shuffle split (step 2) ${H3}x${W3}x${CT} -> ${Cs} (tfjs: slice of [.., C, 2])`, 'unary', UNARY_PARAMS, (a) => ({
      x: a.allocF32(xs) + 4, xStride: CT, channelStep: 2, out: a.alloc(H3 * W3 * Cs * 4), outStride: Cs, pixels: H3 * W3, C: Cs, scale: 0, shift: 0, act: 0, alpha: 0,
    }), H3 * W3, () => tf.slice(xst, [0, 0, 0, 1], [H3, W3, Cs, 1]));
  }

  // upsample, pad, global pool
  {
    const [H, W, C] = [13, 13, 256];
    const x = rand(H * W * C, 13);
    const xt = tf.tensor3d(x, [H, W, C]);
    bench(`upsample x2 ${H}x${W}x${C}`, 'upsampleNearest', UPSAMPLE_PARAMS, (a) => ({
      in: a.allocF32(x), H, W, C, inStride: C, out: a.alloc(4 * H * W * C * 4), outStride: C, fy: 2, fx: 2,
    }), 2 * H, () => tf.image.resizeNearestNeighbor(xt, [2 * H, 2 * W]));
    const [H2, W2, C2] = [208, 208, 16];
    const y = rand(H2 * W2 * C2, 14);
    const yt = tf.tensor3d(y, [H2, W2, C2]);
    bench(`pad2d (1,0,1,0) ${H2}x${W2}x${C2}`, 'pad2d', PAD_PARAMS, (a) => ({
      in: a.allocF32(y), H: H2, W: W2, C: C2, inStride: C2, out: a.alloc((H2 + 1) * (W2 + 1) * C2 * 4), OH: H2 + 1, OW: W2 + 1, outStride: C2, padTop: 1, padLeft: 1, value: 0,
    }), H2 + 1, () => tf.pad(yt, [[1, 0], [1, 0], [0, 0]]));
    const [H3, W3, C3] = [26, 26, 256];
    const z = rand(H3 * W3 * C3, 15);
    const zt = tf.tensor3d(z, [H3, W3, C3]);
    bench(`globalAvgPool ${H3}x${W3}x${C3}`, 'globalAvgPool', GLOBAL_POOL_PARAMS, (a) => ({
      in: a.allocF32(z), pixels: H3 * W3, C: C3, inStride: C3, out: a.alloc(C3 * 4),
    }), C3, () => tf.mean(zt, [0, 1]));
  }

  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n${'kernel'.padEnd(w)} | ours ms | tfjs ms | speed-up`);
  console.log(`${'-'.repeat(w)}-|---------|---------|---------`);
  for (const r of rows) console.log(`${r.name.padEnd(w)} | ${r.ours.toFixed(4).padStart(7)} | ${r.tfjs.toFixed(4).padStart(7)} | ${(r.tfjs / r.ours).toFixed(2).padStart(6)}x`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
