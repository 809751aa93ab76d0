/**
 * The training kernels of the wasm engine (src/engine/native: conv2d_grad.c, depthwise2d_grad.c,
 * batchnorm.c, pool_grad.c, optimizer.c) against tfjs' autodiff and optimizers on the cpu backend,
 * on random data with odd sizes: two images per case accumulated call by call (the planner's
 * batch), input views inside wider buffers, and every kernel split into [r0, r1) ranges giving
 * the same bits as one call. Tolerance: max |kernel - tfjs| <= 2e-5 * max(1, max |tfjs|) unless
 * stated (float32 sums in a different order); the optimizers are bit-identical.
 */
import * as tf from '@tensorflow/tfjs';
import { Arena, KernelModule, KernelName, createKernelModule } from '../../src/engine/kernelModule';
import {
  ACT,
  ACT_BACKWARD_PARAMS,
  ADAM_PARAMS,
  BN_BACKWARD_APPLY_PARAMS,
  BN_BACKWARD_COEF_PARAMS,
  BN_BACKWARD_REDUCE_PARAMS,
  BN_FINALIZE_PARAMS,
  BN_STATS_PARAMS,
  CHANNEL_SCATTER_PARAMS,
  CHANNEL_SUM_PARAMS,
  CONV_FILTER_GRAD_PARAMS,
  CONV_PARAMS,
  DEPTHWISE_FILTER_GRAD_PARAMS,
  DEPTHWISE_INPUT_GRAD_PARAMS,
  DEPTHWISE_PARAMS,
  EMA_PARAMS,
  KernelActivation,
  MAX_POOL_GRAD_PARAMS,
  MOMENTUM_PARAMS,
  ParamValues,
  UPSAMPLE_GRAD_PARAMS,
  ZERO_INSERT_PARAMS,
  paramBytes,
  writeParams,
} from '../../src/engine/kernelParams';
import { convInputGradPlan, depthwiseInputGradAsForward, packConvInputGradWeights, packDepthwiseInputGradWeights } from '../../src/engine/gradPacking';
import { adamScalars, weightDecayFactor } from '../../src/engine/optimizerScalars';
import { createKernelThreadPool, whenPoolReady } from '../../src/engine/threadPool';
import { mulberry32 } from '../../src/util/random';
import { applyActivation } from '../../src/infer/compileInference';

const TOL = 2e-5;
const B = 2; // images per case

let km: KernelModule;
let arena: Arena;
let savedBackend: string;

beforeAll(async () => {
  savedBackend = tf.getBackend();
  await tf.setBackend('cpu');
  km = createKernelModule();
});
afterAll(async () => {
  await tf.setBackend(savedBackend);
});
beforeEach(() => {
  arena = new Arena(km);
});

function rand(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** Floats in kernel memory (a pixel view of `C` channels at `off` inside `stride`-float pixels when stride > C). */
class Buf {
  readonly ptr: number;
  constructor(readonly pixels: number, readonly C: number, readonly stride = C, readonly off = 0, fill = NaN) {
    const base = arena.alloc(Math.max(1, pixels * stride) * 4);
    new Float32Array(km.memory.buffer, base, pixels * stride).fill(fill);
    this.ptr = base + off * 4;
  }
  private get base(): number {
    return this.ptr - this.off * 4;
  }
  set(data: ArrayLike<number>): this {
    const m = new Float32Array(km.memory.buffer, this.base, this.pixels * this.stride);
    for (let p = 0; p < this.pixels; p++) for (let c = 0; c < this.C; c++) m[p * this.stride + this.off + c] = data[p * this.C + c];
    return this;
  }
  get(): Float32Array {
    const m = new Float32Array(km.memory.buffer, this.base, this.pixels * this.stride);
    const out = new Float32Array(this.pixels * this.C);
    for (let p = 0; p < this.pixels; p++) for (let c = 0; c < this.C; c++) out[p * this.C + c] = m[p * this.stride + this.off + c];
    return out;
  }
  /** Floats outside the view that are not NaN (a kernel wrote outside its view). */
  strayWrites(): number {
    const m = new Float32Array(km.memory.buffer, this.base, this.pixels * this.stride);
    let n = 0;
    for (let i = 0; i < m.length; i++) {
      const c = (i % this.stride) - this.off;
      if ((c < 0 || c >= this.C) && !Number.isNaN(m[i])) n++;
    }
    return n;
  }
}

function f32buf(data: ArrayLike<number>): Buf {
  return new Buf(data.length, 1).set(data);
}
/** conv2dFilterGrad fields of a one-image call. */
const ONE_IMAGE = { images: 1, inImageStep: 0, dyImageStep: 0, dWImageStep: 0 };
/** The image fields of the row-unit gradient kernels for a single image. */
const ONE_IMAGE_OUT = { images: 1, dyImageStep: 0, outImageStep: 0 };

function zeros(n: number): Buf {
  return new Buf(n, 1, 1, 0, 0);
}
function f64zeros(n: number): number {
  const p = arena.alloc(n * 8);
  new Float64Array(km.memory.buffer, p, n).fill(0);
  return p;
}
function f64get(p: number, n: number): Float64Array {
  return new Float64Array(km.memory.buffer, p, n).slice();
}

function params<L extends readonly string[]>(layout: L, values: ParamValues<L>): number {
  const p = arena.alloc(paramBytes(layout));
  writeParams(km.memory, p, layout, values);
  return p;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}
function maxMag(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
/** Expect got ~ ref within TOL relative to max(1, max|ref|); returns the relative error. */
function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, tol = TOL): number {
  const err = maxAbs(got, ref) / Math.max(1, maxMag(ref));
  expect(err).toBeLessThanOrEqual(tol);
  return err;
}

/**
 * Run kernel `name` over [0, n) twice from the same starting contents of `outs`: once as one call,
 * once as calls over `cuts`; the outputs must be bit-identical.
 */
function expectSplitSame(name: KernelName, p: number, n: number, outs: { ptr: number; bytes: number }[], cuts: number[]): void {
  const k = km.kernel(name);
  const start = outs.map((o) => new Uint8Array(km.memory.buffer, o.ptr, o.bytes).slice());
  const restore = (): void => outs.forEach((o, i) => new Uint8Array(km.memory.buffer, o.ptr, o.bytes).set(start[i]));
  k(p, 0, n);
  const one = outs.map((o) => new Uint8Array(km.memory.buffer, o.ptr, o.bytes).slice());
  restore();
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < n), n];
  for (let i = 0; i + 1 < bounds.length; i++) k(p, bounds[i], bounds[i + 1]);
  outs.forEach((o, i) => expect(Buffer.compare(Buffer.from(new Uint8Array(km.memory.buffer, o.ptr, o.bytes)), Buffer.from(one[i]))).toBe(0));
}

/**
 * tfjs has no gradient for dilated convolutions: the reference convolves with the filter spread
 * onto a ((k-1)*d+1)^2 grid of zeros (the same sums) and reads the gradient at the taps.
 */
function spreadFilter(f: Float32Array, kh: number, kw: number, inner: number, d: number): { f: Float32Array; kh: number; kw: number; taps: (g: Float32Array) => Float32Array } {
  const eh = (kh - 1) * d + 1, ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * inner);
  const at = (ky: number, kx: number): number => (ky * d * ew + kx * d) * inner;
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) out.set(f.subarray((ky * kw + kx) * inner, (ky * kw + kx + 1) * inner), at(ky, kx));
  const taps = (g: Float32Array): Float32Array => {
    const r = new Float32Array(kh * kw * inner);
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) r.set(g.subarray(at(ky, kx), at(ky, kx) + inner), (ky * kw + kx) * inner);
    return r;
  };
  return { f: out, kh: eh, kw: ew, taps };
}

function outSize(n: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

interface ConvCase {
  H: number;
  W: number;
  C: number;
  N: number;
  k: number;
  kw?: number;
  s: number;
  d?: number;
  pad: [number, number, number, number]; // top, bottom, left, right
  inStride?: number;
}

const report: string[] = [];
afterAll(() => {
  // eslint-disable-next-line no-console
  if (report.length) console.log(`max relative error vs tfjs autodiff (cpu):\n${report.join('\n')}`);
});

describe('conv2d gradients vs tf.grad (cpu)', () => {
  const cases: [string, ConvCase][] = [
    ['1x1 s1, C=13 N=19 (pointwise GEMM, tail block), input slice', { H: 7, W: 9, C: 13, N: 19, k: 1, s: 1, pad: [0, 0, 0, 0], inStride: 17 }],
    ['1x1 s1, C=16 N=24, more pixels than one chunk', { H: 17, W: 19, C: 16, N: 24, k: 1, s: 1, pad: [0, 0, 0, 0] }],
    ['3x3 s1 same, C=6 N=10', { H: 9, W: 8, C: 6, N: 10, k: 3, s: 1, pad: [1, 1, 1, 1] }],
    ['3x3 s1 same, C=70 N=12 (two packed input-channel blocks)', { H: 5, W: 6, C: 70, N: 12, k: 3, s: 1, pad: [1, 1, 1, 1] }],
    ['3x3 s2 TF-same (pad 0/1), C=3 N=8 (first layer)', { H: 12, W: 11, C: 3, N: 8, k: 3, s: 2, pad: [0, 1, 0, 1] }],
    ['3x3 s2 PyTorch pad 1/1, C=5 N=7', { H: 9, W: 10, C: 5, N: 7, k: 3, s: 2, pad: [1, 1, 1, 1] }],
    ['2x2 s1 TF-same even kernel (pad 0/1), C=4 N=9', { H: 6, W: 7, C: 4, N: 9, k: 2, s: 1, pad: [0, 1, 0, 1] }],
    ['5x3 dilation 2, pad 4/4,2/2, C=7 N=5', { H: 11, W: 9, C: 7, N: 5, k: 5, kw: 3, s: 1, d: 2, pad: [4, 4, 2, 2] }],
  ];

  test.each(cases)('%s: filter grad, bias grad, input grad', (name, c) => {
    const kw = c.kw ?? c.k, d = c.d ?? 1;
    const [pt, pb, pl, pr] = c.pad;
    const OH = outSize(c.H, c.k, c.s, d, pt, pb), OW = outSize(c.W, kw, c.s, d, pl, pr);
    const x = rand(B * c.H * c.W * c.C, 11);
    const f = rand(c.k * kw * c.C * c.N, 12);
    const dy = rand(B * OH * OW * c.N, 13);
    const ref = tf.tidy(() => {
      const sp = spreadFilter(f, c.k, kw, c.C * c.N, d);
      const xt = tf.tensor4d(x, [B, c.H, c.W, c.C]), ft = tf.tensor4d(sp.f, [sp.kh, sp.kw, c.C, c.N]), dyt = tf.tensor4d(dy, [B, OH, OW, c.N]);
      const pad = [[0, 0], [pt, pb], [pl, pr], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
      const loss = (xi: tf.Tensor4D, fi: tf.Tensor4D): tf.Scalar => tf.sum(tf.mul(tf.conv2d(xi, fi, [c.s, c.s], pad), dyt));
      const [gx, gf] = tf.grads((xi: tf.Tensor, fi: tf.Tensor) => loss(xi as tf.Tensor4D, fi as tf.Tensor4D))([xt, ft]);
      return { dx: gx.dataSync() as Float32Array, df: sp.taps(gf.dataSync() as Float32Array), db: tf.sum(dyt, [0, 1, 2]).dataSync() as Float32Array };
    });

    // filter + bias gradient, accumulated over the B images
    const imgX = c.H * c.W * c.C, imgDy = OH * OW * c.N;
    const xb = Array.from({ length: B }, (_, b) => new Buf(c.H * c.W, c.C, c.inStride ?? c.C, 2 % ((c.inStride ?? c.C) - c.C + 1)).set(x.subarray(b * imgX, (b + 1) * imgX)));
    const dyb = Array.from({ length: B }, (_, b) => new Buf(OH * OW, c.N).set(dy.subarray(b * imgDy, (b + 1) * imgDy)));
    const dW = zeros(f.length), dBias = zeros(c.N);
    const nb = Math.ceil(c.N / 8);
    for (let b = 0; b < B; b++) {
      const p = params(CONV_FILTER_GRAD_PARAMS, {
        in: xb[b].ptr, H: c.H, W: c.W, C: c.C, inStride: xb[b].stride, dy: dyb[b].ptr, OH, OW, N: c.N, dyStride: c.N, dW: dW.ptr,
        kh: c.k, kw, sh: c.s, sw: c.s, dh: d, dw: d, padTop: pt, padLeft: pl, ...ONE_IMAGE,
      });
      if (b === 0) expectSplitSame('conv2dFilterGrad', p, nb, [{ ptr: dW.ptr, bytes: f.length * 4 }], [1, nb - 1]);
      else km.kernel('conv2dFilterGrad')(p, 0, nb);
      const ps = params(CHANNEL_SUM_PARAMS, { x: dyb[b].ptr, pixels: OH * OW, C: c.N, xStride: c.N, out: dBias.ptr });
      if (b === 0) expectSplitSame('channelSum', ps, c.N, [{ ptr: dBias.ptr, bytes: c.N * 4 }], [3, 8]);
      else km.kernel('channelSum')(ps, 0, c.N);
    }
    const ef = expectClose(dW.get(), ref.df);
    const eb = expectClose(dBias.get(), ref.db);

    // input gradient: conv2d on the repacked weights (zero-inserted dy when strided)
    const plan = convInputGradPlan({ H: c.H, W: c.W, C: c.C, OH, OW, N: c.N, kh: c.k, kw, sh: c.s, sw: c.s, dh: d, dw: d, padTop: pt, padLeft: pl });
    const packed = packConvInputGradWeights(f, [c.k, kw, c.C, c.N]);
    const wp = f32buf(packed.weights), bp = f32buf(packed.bias), zero = zeros(c.N);
    const dx = new Float32Array(B * imgX);
    for (let b = 0; b < B; b++) {
      let src = dyb[b];
      if (plan.zeroInsert) {
        const z = plan.zeroInsert;
        src = new Buf(z.OH * z.OW, c.N);
        const pz = params(ZERO_INSERT_PARAMS, { in: dyb[b].ptr, H: OH, W: OW, C: c.N, inStride: c.N, out: src.ptr, OH: z.OH, OW: z.OW, outStride: c.N, sy: z.sy, sx: z.sx });
        if (b === 0) expectSplitSame('zeroInsert', pz, z.OH, [{ ptr: src.ptr, bytes: z.OH * z.OW * c.N * 4 }], [1, 4]);
        else km.kernel('zeroInsert')(pz, 0, z.OH);
      }
      const out = new Buf(c.H * c.W, c.C);
      const g = plan.conv;
      const pc = params(CONV_PARAMS, {
        in: src.ptr, H: g.H, W: g.W, C: g.C, inStride: c.N, out: out.ptr, OH: g.OH, OW: g.OW, N: g.N, outStride: c.C, weights: wp.ptr, bias: bp.ptr,
        kh: g.kh, kw: g.kw, sh: 1, sw: 1, dh: g.dh, dw: g.dw, padTop: g.padTop, padLeft: g.padLeft, act: ACT.linear, alpha: 0, zero: zero.ptr, splitBlocks: 0,
      });
      km.kernel('conv2d')(pc, 0, c.H * c.W);
      dx.set(out.get(), b * imgX);
    }
    const ex = expectClose(dx, ref.dx);
    report.push(`conv ${name}: dW ${ef.toExponential(1)}, db ${eb.toExponential(1)}, dx ${ex.toExponential(1)}`);
  });

  test('filter grad over several images in one call (units = images x blocks): per-image partials and one shared dW equal the per-image calls', () => {
    // the stem's shape class (im2col path, 3 blocks of 8) and a tap-loop one (C = 12 > 64 / 9)
    for (const [H, W, C, N, k, s, pad] of [[11, 9, 3, 20, 3, 2, 1], [7, 6, 12, 9, 3, 1, 1]]) {
      const B = 3, OH = outSize(H, k, s, 1, pad, pad), OW = outSize(W, k, s, 1, pad, pad);
      const imgX = H * W * C, imgDy = OH * OW * N, size = k * k * C * N, nb = Math.ceil(N / 8);
      const x = rand(B * imgX, 171 + C), dy = rand(B * imgDy, 172 + C);
      const xb = new Buf(B * H * W, C).set(x), dyb = new Buf(B * OH * OW, N).set(dy);
      const geom = { H, W, C, inStride: C, OH, OW, N, dyStride: N, kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1, padTop: pad, padLeft: pad };
      const ref = zeros(size);
      for (let b = 0; b < B; b++) {
        km.kernel('conv2dFilterGrad')(params(CONV_FILTER_GRAD_PARAMS, { ...geom, in: xb.ptr + b * imgX * 4, dy: dyb.ptr + b * imgDy * 4, dW: ref.ptr, ...ONE_IMAGE }), 0, nb);
      }
      const steps = { images: B, inImageStep: imgX * 4, dyImageStep: imgDy * 4 };
      const parts = zeros(B * size);
      const pp = params(CONV_FILTER_GRAD_PARAMS, { ...geom, in: xb.ptr, dy: dyb.ptr, dW: parts.ptr, ...steps, dWImageStep: size * 4 });
      // cuts inside an image's run of blocks and between images
      expectSplitSame('conv2dFilterGrad', pp, B * nb, [{ ptr: parts.ptr, bytes: B * size * 4 }], [1, nb + 1, 2 * nb]);
      const p = parts.get(), sum = new Float32Array(size);
      for (let b = 0; b < B; b++) for (let i = 0; i < size; i++) sum[i] += p[b * size + i];
      expectClose(sum, ref.get(), 1e-6);
      const shared = zeros(size);
      km.kernel('conv2dFilterGrad')(params(CONV_FILTER_GRAD_PARAMS, { ...geom, in: xb.ptr, dy: dyb.ptr, dW: shared.ptr, ...steps, dWImageStep: 0 }), 0, B * nb);
      expectClose(shared.get(), ref.get(), 1e-6);
    }
  });

  test('filter grad of a layer whose dW exceeds 2 MB (long-chunk path): 3x3 s1 pad 1, 14x14x160 -> 400, 60 entries vs float64 sums', () => {
    const H = 14, W = 14, C = 160, N = 400, k = 3;
    const x = rand(H * W * C, 151), dy = rand(H * W * N, 152);
    const xb = new Buf(H * W, C).set(x), dyb = new Buf(H * W, N).set(dy), dW = zeros(k * k * C * N);
    const p = params(CONV_FILTER_GRAD_PARAMS, { in: xb.ptr, H, W, C, inStride: C, dy: dyb.ptr, OH: H, OW: W, N, dyStride: N, dW: dW.ptr, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, ...ONE_IMAGE });
    expectSplitSame('conv2dFilterGrad', p, N / 8, [{ ptr: dW.ptr, bytes: k * k * C * N * 4 }], [7, 31]);
    const got = dW.get();
    const r = mulberry32(153);
    for (let s = 0; s < 60; s++) {
      const i = Math.floor(r() * got.length);
      const co = i % N, ci = Math.floor(i / N) % C, t = Math.floor(i / (N * C)), ky = Math.floor(t / k), kx = t % k;
      let ref = 0;
      for (let oy = 0; oy < H; oy++) for (let ox = 0; ox < W; ox++) {
        const iy = oy - 1 + ky, ix = ox - 1 + kx;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) ref += x[(iy * W + ix) * C + ci] * dy[(oy * W + ox) * N + co];
      }
      expect(Math.abs(got[i] - ref)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(ref)));
    }
  });

  test('filter grad: finite differences (float64) of sum(conv(x, W) * dy) at 6 weights, 3x3 s2 pad 1', () => {
    const H = 9, W = 8, C = 5, N = 11, k = 3, s = 2, pt = 1, pl = 1;
    const OH = outSize(H, k, s, 1, 1, 1), OW = outSize(W, k, s, 1, 1, 1);
    const x = rand(H * W * C, 21), f = rand(k * k * C * N, 22), dy = rand(OH * OW * N, 23);
    const loss = (ff: Float64Array): number => {
      let L = 0;
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let co = 0; co < N; co++) {
        let acc = 0;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
          const iy = oy * s - pt + ky, ix = ox * s - pl + kx;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          for (let ci = 0; ci < C; ci++) acc += x[(iy * W + ix) * C + ci] * ff[((ky * k + kx) * C + ci) * N + co];
        }
        L += acc * dy[(oy * OW + ox) * N + co];
      }
      return L;
    };
    const xb = new Buf(H * W, C).set(x), dyb = new Buf(OH * OW, N).set(dy), dW = zeros(f.length);
    const p = params(CONV_FILTER_GRAD_PARAMS, { in: xb.ptr, H, W, C, inStride: C, dy: dyb.ptr, OH, OW, N, dyStride: N, dW: dW.ptr, kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1, padTop: pt, padLeft: pl, ...ONE_IMAGE });
    km.kernel('conv2dFilterGrad')(p, 0, Math.ceil(N / 8));
    const got = dW.get();
    const h = 1e-3;
    for (const i of [0, 7, 100, 222, 301, f.length - 1]) {
      const fp = Float64Array.from(f), fm = Float64Array.from(f);
      fp[i] += h;
      fm[i] -= h;
      const fd = (loss(fp) - loss(fm)) / (2 * h);
      expect(Math.abs(got[i] - fd)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(fd)));
    }
  });
});

interface DwCase {
  H: number;
  W: number;
  C: number;
  k: number;
  s: number;
  d?: number;
  pad: [number, number, number, number];
  inStride?: number;
}

describe('depthwise2d gradients vs tf.grad (cpu)', () => {
  const cases: [string, DwCase][] = [
    ['3x3 s1 same, C=6, input slice', { H: 9, W: 11, C: 6, k: 3, s: 1, pad: [1, 1, 1, 1], inStride: 10 }],
    ['3x3 s2 TF-same (pad 0/1), C=19', { H: 10, W: 9, C: 19, k: 3, s: 2, pad: [0, 1, 0, 1] }],
    ['3x3 s2 pad 1/1, C=3', { H: 9, W: 12, C: 3, k: 3, s: 2, pad: [1, 1, 1, 1] }],
    ['5x5 s1 pad 2, C=21', { H: 8, W: 9, C: 21, k: 5, s: 1, pad: [2, 2, 2, 2] }],
    ['5x5 s2 TF-same (pad 1/2), C=8', { H: 11, W: 10, C: 8, k: 5, s: 2, pad: [1, 2, 1, 2] }],
    ['3x3 dilation 2 pad 2, C=5', { H: 9, W: 9, C: 5, k: 3, s: 1, d: 2, pad: [2, 2, 2, 2] }],
  ];
  test.each(cases)('%s: filter grad and input grad', (name, c) => {
    const d = c.d ?? 1;
    const [pt, pb, pl, pr] = c.pad;
    const OH = outSize(c.H, c.k, c.s, d, pt, pb), OW = outSize(c.W, c.k, c.s, d, pl, pr);
    const x = rand(B * c.H * c.W * c.C, 31), f = rand(c.k * c.k * c.C, 32), dy = rand(B * OH * OW * c.C, 33);
    const ref = tf.tidy(() => {
      const sp = spreadFilter(f, c.k, c.k, c.C, d);
      const xt = tf.tensor4d(x, [B, c.H, c.W, c.C]), ft = tf.tensor4d(sp.f, [sp.kh, sp.kw, c.C, 1]), dyt = tf.tensor4d(dy, [B, OH, OW, c.C]);
      const pad = [[0, 0], [pt, pb], [pl, pr], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
      const [gx, gf] = tf.grads((xi: tf.Tensor, fi: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, [c.s, c.s], pad), dyt)))([xt, ft]);
      return { dx: gx.dataSync() as Float32Array, df: sp.taps(gf.dataSync() as Float32Array) };
    });
    const imgX = c.H * c.W * c.C, imgDy = OH * OW * c.C;
    const wb = f32buf(f), dW = zeros(f.length);
    const dx = new Float32Array(B * imgX), dxFwd = new Float32Array(B * imgX);
    for (let b = 0; b < B; b++) {
      const xb = new Buf(c.H * c.W, c.C, c.inStride ?? c.C, 1 % ((c.inStride ?? c.C) - c.C + 1)).set(x.subarray(b * imgX, (b + 1) * imgX));
      const dyb = new Buf(OH * OW, c.C).set(dy.subarray(b * imgDy, (b + 1) * imgDy));
      const geo = { kh: c.k, kw: c.k, sh: c.s, sw: c.s, dh: d, dw: d, padTop: pt, padLeft: pl };
      const pf = params(DEPTHWISE_FILTER_GRAD_PARAMS, { in: xb.ptr, H: c.H, W: c.W, C: c.C, inStride: xb.stride, dy: dyb.ptr, OH, OW, dyStride: c.C, dW: dW.ptr, ...geo, images: 1, inImageStep: 0, dyImageStep: 0 });
      if (b === 0) expectSplitSame('depthwise2dFilterGrad', pf, c.C, [{ ptr: dW.ptr, bytes: f.length * 4 }], [1, 6, 18]);
      else km.kernel('depthwise2dFilterGrad')(pf, 0, c.C);
      const out = new Buf(c.H * c.W, c.C, c.C + 3, 2);
      const pi = params(DEPTHWISE_INPUT_GRAD_PARAMS, { dy: dyb.ptr, OH, OW, C: c.C, dyStride: c.C, out: out.ptr, H: c.H, W: c.W, outStride: out.stride, weights: wb.ptr, ...geo, accumulate: 0, ...ONE_IMAGE_OUT });
      expectSplitSame('depthwise2dInputGrad', pi, c.H, [{ ptr: out.ptr - 8, bytes: c.H * c.W * out.stride * 4 }], [1, 5]);
      expect(out.strayWrites()).toBe(0);
      dx.set(out.get(), b * imgX);
      // stride 1: the same dx from the depthwise2d kernel on flipped weights
      const fwd = depthwiseInputGradAsForward({ H: c.H, W: c.W, C: c.C, OH, OW, ...geo });
      expect(fwd === null).toBe(c.s !== 1);
      if (fwd) {
        const pk = packDepthwiseInputGradWeights(f, [c.k, c.k, c.C, 1]);
        const o2 = new Buf(c.H * c.W, c.C);
        const pw = params(DEPTHWISE_PARAMS, { in: dyb.ptr, inStride: c.C, C: c.C, out: o2.ptr, outStride: c.C, weights: f32buf(pk.weights).ptr, bias: f32buf(pk.bias).ptr, ...fwd, act: ACT.linear, alpha: 0 });
        km.kernel('depthwise2d')(pw, 0, c.H);
        dxFwd.set(o2.get(), b * imgX);
      }
    }
    const ef = expectClose(dW.get(), ref.df);
    const ex = expectClose(dx, ref.dx);
    const exf = c.s === 1 ? expectClose(dxFwd, ref.dx).toExponential(1) : '-';
    report.push(`depthwise ${name}: dW ${ef.toExponential(1)}, dx ${ex.toExponential(1)}, dx via depthwise2d ${exf}`);
  });
});

const ACTS = Object.keys(ACT) as KernelActivation[];

describe('activation backward vs tf.grad (cpu)', () => {
  test.each(ACTS)('%s', (act) => {
    const P = 37, C = 7;
    // a grid over [-8, 8] plus exact 0 and 6 (the kinks: tfjs' conventions there)
    const pre = Float32Array.from({ length: P * C }, (_, i) => (i === 5 ? 0 : i === 9 ? 6 : -8 + (16 * i) / (P * C - 1)));
    const dy = rand(P * C, 41);
    const ref = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(applyActivation(x, act, 0.1), tf.tensor(dy))))(tf.tensor(pre)).dataSync() as Float32Array);
    const preb = new Buf(P, C, 9, 1).set(pre), dyb = new Buf(P, C).set(dy);
    const out = new Buf(P, C, C, 0, 0);
    const p = params(ACT_BACKWARD_PARAMS, { dy: dyb.ptr, dyStride: C, pre: preb.ptr, preStride: 9, out: out.ptr, outStride: C, pixels: P, C, act: ACT[act], alpha: 0.1, accumulate: 0 });
    expectSplitSame('actBackward', p, P, [{ ptr: out.ptr, bytes: P * C * 4 }], [1, 20]);
    const e = expectClose(out.get(), ref, 1e-5);
    // accumulate: adds to what is there
    const p2 = params(ACT_BACKWARD_PARAMS, { dy: dyb.ptr, dyStride: C, pre: preb.ptr, preStride: 9, out: out.ptr, outStride: C, pixels: P, C, act: ACT[act], alpha: 0.1, accumulate: 1 });
    km.kernel('actBackward')(p2, 0, P);
    expectClose(out.get(), ref.map((v) => 2 * v), 2e-5);
    report.push(`actBackward ${act}: ${e.toExponential(1)}`);
  });
});

describe('BatchNorm training kernels vs tf.moments / tf.grad (cpu)', () => {
  test.each([
    ['leaky', 0.1],
    ['linear', 0],
    ['swish', 0],
  ] as [KernelActivation, number][])('stats, finalize, backward fused with %s', (act, alpha) => {
    const H = 5, W = 7, C = 11, P = H * W, eps = 1e-3, momentum = 0.99;
    const x = rand(B * P * C, 51, 2).map((v, i) => v + 3 * ((i % C) - 5)); // per-channel offsets: mean != 0
    const gamma = rand(C, 52), beta = rand(C, 53), dy = rand(B * P * C, 54);
    const mm0 = rand(C, 55), mv0 = rand(C, 56).map((v) => 1 + Math.abs(v));
    const ref = tf.tidy(() => {
      const xt = tf.tensor4d(x, [B, H, W, C]), gt = tf.tensor1d(gamma), bt = tf.tensor1d(beta), dyt = tf.tensor4d(dy, [B, H, W, C]);
      const { mean, variance } = tf.moments(xt, [0, 1, 2]);
      const f = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor): tf.Scalar => {
        const m = tf.moments(xi, [0, 1, 2]);
        const y = tf.batchNorm(xi as tf.Tensor4D, m.mean, m.variance, bi as tf.Tensor1D, gi as tf.Tensor1D, eps);
        return tf.sum(tf.mul(applyActivation(y, act, alpha), dyt));
      };
      const [gx, gg, gb] = tf.grads(f)([xt, gt, bt]);
      const y = tf.batchNorm(xt, mean, variance, bt, gt, eps);
      const decay = 1 - momentum;
      const mm = tf.sub(tf.tensor1d(mm0), tf.mul(tf.sub(tf.tensor1d(mm0), mean), decay));
      const mv = tf.sub(tf.tensor1d(mv0), tf.mul(tf.sub(tf.tensor1d(mv0), variance), decay));
      return { mean: mean.dataSync(), variance: variance.dataSync(), y: y.dataSync(), dx: gx.dataSync(), dg: gg.dataSync(), db: gb.dataSync(), mm: mm.dataSync(), mv: mv.dataSync() };
    });
    const xs = Array.from({ length: B }, (_, b) => new Buf(P, C, 13, 1).set(x.subarray(b * P * C, (b + 1) * P * C)));
    // the reductions over S pixel slices (units), each into its own partial sums
    const S = 3;
    const sum = f64zeros(S * C), sq = f64zeros(S * C);
    for (let b = 0; b < B; b++) {
      const p = params(BN_STATS_PARAMS, { x: xs[b].ptr, pixels: P, C, xStride: 13, sum, sumSq: sq, slices: S });
      if (b === 0) expectSplitSame('bnStats', p, S, [{ ptr: sum, bytes: S * C * 8 }, { ptr: sq, bytes: S * C * 8 }], [1, 2]);
      else km.kernel('bnStats')(p, 0, S);
    }
    const gb = f32buf(gamma), bb = f32buf(beta), mean = zeros(C), invStd = zeros(C), scale = zeros(C), shift = zeros(C);
    const mm = f32buf(mm0), mv = f32buf(mv0);
    const pf = params(BN_FINALIZE_PARAMS, {
      sum, sumSq: sq, count: B * P, C, gamma: gb.ptr, beta: bb.ptr, epsilon: eps, decay: 1 - momentum,
      mean: mean.ptr, invStd: invStd.ptr, scale: scale.ptr, shift: shift.ptr, movingMean: mm.ptr, movingVar: mv.ptr, slices: S,
    });
    km.kernel('bnFinalize')(pf, 0, C);
    expectClose(mean.get(), ref.mean, 1e-5);
    const varFromInv = Array.from(invStd.get(), (v) => 1 / (v * v) - eps);
    expectClose(varFromInv, ref.variance, 1e-5);
    expectClose(mm.get(), ref.mm, 1e-6);
    expectClose(mv.get(), ref.mv, 1e-6);
    // forward y = act(x * scale + shift) as the unary kernel will do it; here in JS
    const s = scale.get(), t = shift.get();
    const y = x.map((v, i) => v * s[i % C] + t[i % C]);
    const ey = expectClose(y, ref.y, 1e-5);

    // backward: reduce (with the activation fused) over both images, coefficients, apply
    const sumG = f64zeros(S * C), sumGX = f64zeros(S * C);
    const gs: Buf[] = [];
    for (let b = 0; b < B; b++) {
      const preb = new Buf(P, C).set(y.subarray(b * P * C, (b + 1) * P * C));
      const dyb = new Buf(P, C).set(dy.subarray(b * P * C, (b + 1) * P * C));
      const g = new Buf(P, C);
      gs.push(g);
      const p = params(BN_BACKWARD_REDUCE_PARAMS, {
        dy: dyb.ptr, dyStride: C, pre: preb.ptr, preStride: C, act: ACT[act], alpha, g: g.ptr, gStride: C, x: xs[b].ptr, xStride: 13, pixels: P, C,
        mean: mean.ptr, invStd: invStd.ptr, sumG, sumGX, slices: S,
      });
      if (b === 0) expectSplitSame('bnBackwardReduce', p, S, [{ ptr: sumG, bytes: S * C * 8 }, { ptr: sumGX, bytes: S * C * 8 }, { ptr: g.ptr, bytes: P * C * 4 }], [1, 2]);
      else km.kernel('bnBackwardReduce')(p, 0, S);
    }
    const cg = zeros(C), cx = zeros(C), cb = zeros(C), dGamma = zeros(C), dBeta = zeros(C);
    const pc = params(BN_BACKWARD_COEF_PARAMS, { sumG, sumGX, count: B * P, C, gamma: gb.ptr, invStd: invStd.ptr, coefG: cg.ptr, coefX: cx.ptr, coefB: cb.ptr, dGamma: dGamma.ptr, dBeta: dBeta.ptr, slices: S });
    km.kernel('bnBackwardCoef')(pc, 0, C);
    const eg = expectClose(dGamma.get(), ref.dg, 2e-5);
    const eb = expectClose(dBeta.get(), ref.db, 2e-5);
    const dx = new Float32Array(B * P * C);
    for (let b = 0; b < B; b++) {
      const out = new Buf(P, C, C + 2, 1);
      const pa = params(BN_BACKWARD_APPLY_PARAMS, { g: gs[b].ptr, gStride: C, x: xs[b].ptr, xStride: 13, out: out.ptr, outStride: C + 2, pixels: P, C, coefG: cg.ptr, coefX: cx.ptr, coefB: cb.ptr, mean: mean.ptr, accumulate: 0 });
      expectSplitSame('bnBackwardApply', pa, P, [{ ptr: out.ptr - 4, bytes: P * (C + 2) * 4 }], [1, 17]);
      expect(out.strayWrites()).toBe(0);
      dx.set(out.get(), b * P * C);
    }
    const ex = expectClose(dx, ref.dx, 2e-5);
    report.push(`BatchNorm+${act}: y ${ey.toExponential(1)}, dx ${ex.toExponential(1)}, dgamma ${eg.toExponential(1)}, dbeta ${eb.toExponential(1)}`);
  });
});

test('bnStats: variance exact to 1e-5 when mean >> std (mean 1000, std 0.3, 3 images of 301 pixels)', () => {
  const P = 301, C = 21, imgs = 3;
  const data = Array.from({ length: imgs }, (_, b) => rand(P * C, 130 + b, 0.5).map((v, i) => Math.fround(1000 + (i % C) + v)));
  const sum = f64zeros(C), sq = f64zeros(C);
  for (const d of data) km.kernel('bnStats')(params(BN_STATS_PARAMS, { x: new Buf(P, C).set(d).ptr, pixels: P, C, xStride: C, sum, sumSq: sq, slices: 1 }), 0, 1);
  const s = f64get(sum, C), q = f64get(sq, C), n = P * imgs;
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (const d of data) for (let p = 0; p < P; p++) m += d[p * C + c];
    m /= n;
    let v = 0;
    for (const d of data) for (let p = 0; p < P; p++) v += (d[p * C + c] - m) ** 2;
    v /= n;
    expect(Math.abs(s[c] / n - m)).toBeLessThanOrEqual(1e-9 * m);
    expect(Math.abs(q[c] / n - (s[c] / n) ** 2 - v)).toBeLessThanOrEqual(1e-5 * v);
  }
});

describe('maxpool2d / upsampleNearest gradients vs tf.grad (cpu)', () => {
  test.each([
    ['2x2 s2 valid, C=7', 8, 10, 7, 2, 2, 'valid'],
    ['3x3 s2 same (pad 0/1), C=6, overlapping windows', 9, 8, 6, 3, 2, 'same'],
    ['3x3 s1 same, C=5', 7, 6, 5, 3, 1, 'same'],
    ['5x5 s1 same (SPP), C=4', 7, 9, 4, 5, 1, 'same'],
    ['2x2 s1 same (tiny YOLOv3, pad 0/1), C=9', 5, 6, 9, 2, 1, 'same'],
  ] as [string, number, number, number, number, number, 'same' | 'valid'][])('maxpool %s, ties -> first max', (name, H, W, C, k, s, pad) => {
    // values on a coarse grid: many ties inside windows
    const x = rand(B * H * W * C, 61).map((v) => Math.round(v * 3) / 3);
    const ref = tf.tidy(() => {
      const xt = tf.tensor4d(x, [B, H, W, C]);
      const y = tf.maxPool(xt, k, s, pad);
      const dy = tf.tensor(rand(y.size, 62), y.shape);
      const gx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(xi as tf.Tensor4D, k, s, pad), dy)))(xt);
      return { dx: gx.dataSync() as Float32Array, dy: dy.dataSync() as Float32Array, OH: y.shape[1], OW: y.shape[2] };
    });
    const OH = ref.OH, OW = ref.OW;
    const padTot = (n: number, o: number): number => Math.max((o - 1) * s + k - n, 0);
    const pt = pad === 'same' ? Math.floor(padTot(H, OH) / 2) : 0, pl = pad === 'same' ? Math.floor(padTot(W, OW) / 2) : 0;
    const dx = new Float32Array(B * H * W * C);
    for (let b = 0; b < B; b++) {
      const xb = new Buf(H * W, C, C + 1).set(x.subarray(b * H * W * C, (b + 1) * H * W * C));
      const dyb = new Buf(OH * OW, C).set(ref.dy.subarray(b * OH * OW * C, (b + 1) * OH * OW * C));
      const out = new Buf(H * W, C);
      const p = params(MAX_POOL_GRAD_PARAMS, { in: xb.ptr, H, W, C, inStride: C + 1, dy: dyb.ptr, OH, OW, dyStride: C, out: out.ptr, outStride: C, kh: k, kw: k, sh: s, sw: s, padTop: pt, padLeft: pl, accumulate: 0, ...ONE_IMAGE_OUT, inImageStep: 0 });
      expectSplitSame('maxpool2dGrad', p, H, [{ ptr: out.ptr, bytes: H * W * C * 4 }], [1, 4]);
      dx.set(out.get(), b * H * W * C);
    }
    const e = expectClose(dx, ref.dx, 1e-6);
    report.push(`maxpool2dGrad ${name}: ${e.toExponential(1)}`);
  });

  test('upsampleNearest x2 and x3 backward: block sums, accumulate', () => {
    for (const f of [2, 3]) {
      const H = 5, W = 7, C = 6;
      const x = rand(H * W * C, 71);
      const dy = rand(H * f * W * f * C, 72);
      const ref = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(xi as tf.Tensor4D, [H * f, W * f]), tf.tensor(dy, [1, H * f, W * f, C]))))(tf.tensor4d(x, [1, H, W, C])).dataSync() as Float32Array);
      const dyb = new Buf(H * f * W * f, C, C + 2, 2).set(dy), out = new Buf(H * W, C);
      const p = params(UPSAMPLE_GRAD_PARAMS, { dy: dyb.ptr, H, W, C, dyStride: C + 2, out: out.ptr, outStride: C, fy: f, fx: f, accumulate: 0, ...ONE_IMAGE_OUT });
      expectSplitSame('upsampleNearestGrad', p, H, [{ ptr: out.ptr, bytes: H * W * C * 4 }], [2]);
      expectClose(out.get(), ref, 1e-6);
      const pa = params(UPSAMPLE_GRAD_PARAMS, { dy: dyb.ptr, H, W, C, dyStride: C + 2, out: out.ptr, outStride: C, fy: f, fx: f, accumulate: 1, ...ONE_IMAGE_OUT });
      km.kernel('upsampleNearestGrad')(pa, 0, H);
      expectClose(out.get(), ref.map((v) => 2 * v), 1e-6);
    }
  });
});

test('channelScatter (gradient of the interleaved split): out[p][c * step] (+)= x[p][c], other channels untouched', () => {
  const P = 23, C = 11, step = 3, os = C * step + 2;
  const x = rand(P * C, 161);
  const xb = new Buf(P, C, C + 1, 1).set(x);
  const out = new Buf(P, os, os, 0, 0.5);
  const p = params(CHANNEL_SCATTER_PARAMS, { x: xb.ptr, xStride: C + 1, out: out.ptr + 4, outStride: os, channelStep: step, pixels: P, C, accumulate: 0 });
  expectSplitSame('channelScatter', p, P, [{ ptr: out.ptr, bytes: P * os * 4 }], [1, 7]);
  const ref = new Float32Array(P * os).fill(0.5);
  for (let q = 0; q < P; q++) for (let c = 0; c < C; c++) ref[q * os + 1 + c * step] = x[q * C + c];
  expect(Array.from(out.get())).toEqual(Array.from(ref));
  km.kernel('channelScatter')(params(CHANNEL_SCATTER_PARAMS, { x: xb.ptr, xStride: C + 1, out: out.ptr + 4, outStride: os, channelStep: step, pixels: P, C, accumulate: 1 }), 0, P);
  for (let q = 0; q < P; q++) for (let c = 0; c < C; c++) ref[q * os + 1 + c * step] = Math.fround(2 * x[q * C + c]);
  expect(Array.from(out.get())).toEqual(Array.from(ref));
});

describe('several images per call (units = images x rows): the bits of one call per image', () => {
  test('maxpool2dGrad, upsampleNearestGrad, depthwise2dInputGrad (rows), depthwise2dFilterGrad (channels)', () => {
    const n = 3, H = 9, W = 8, C = 7, OH = 5, OW = 4; // 3x3 stride 2, pad 1
    const img = H * W * C, oimg = OH * OW * C;
    const x = new Buf(n * H * W, C).set(rand(n * img, 151)), dy = new Buf(n * OH * OW, C).set(rand(n * oimg, 152));
    const w = f32buf(rand(9 * C, 153));
    const win = { kh: 3, kw: 3, sh: 2, sw: 2, padTop: 1, padLeft: 1 };
    type Case = { name: KernelName; one: (b: number, out: number) => number; all: (out: number) => number; units: number; allUnits: number; floats: number };
    const cases: Case[] = [
      {
        name: 'maxpool2dGrad', units: H, allUnits: n * H, floats: n * img,
        one: (b, out) => params(MAX_POOL_GRAD_PARAMS, { in: x.ptr + b * img * 4, H, W, C, inStride: C, dy: dy.ptr + b * oimg * 4, OH, OW, dyStride: C, out: out + b * img * 4, outStride: C, ...win, accumulate: 0, images: 1, inImageStep: 0, dyImageStep: 0, outImageStep: 0 }),
        all: (out) => params(MAX_POOL_GRAD_PARAMS, { in: x.ptr, H, W, C, inStride: C, dy: dy.ptr, OH, OW, dyStride: C, out, outStride: C, ...win, accumulate: 0, images: n, inImageStep: img * 4, dyImageStep: oimg * 4, outImageStep: img * 4 }),
      },
      {
        // dy = x viewed as 9x8 (the upsampled), dx 3x4 per image: block sums 3x2
        name: 'upsampleNearestGrad', units: 3, allUnits: n * 3, floats: n * 12 * C,
        one: (b, out) => params(UPSAMPLE_GRAD_PARAMS, { dy: x.ptr + b * img * 4, H: 3, W: 4, C, dyStride: C, out: out + b * 12 * C * 4, outStride: C, fy: 3, fx: 2, accumulate: 0, ...ONE_IMAGE_OUT }),
        all: (out) => params(UPSAMPLE_GRAD_PARAMS, { dy: x.ptr, H: 3, W: 4, C, dyStride: C, out, outStride: C, fy: 3, fx: 2, accumulate: 0, images: n, dyImageStep: img * 4, outImageStep: 12 * C * 4 }),
      },
      {
        name: 'depthwise2dInputGrad', units: H, allUnits: n * H, floats: n * img,
        one: (b, out) => params(DEPTHWISE_INPUT_GRAD_PARAMS, { dy: dy.ptr + b * oimg * 4, OH, OW, C, dyStride: C, out: out + b * img * 4, H, W, outStride: C, weights: w.ptr, ...win, dh: 1, dw: 1, accumulate: 0, ...ONE_IMAGE_OUT }),
        all: (out) => params(DEPTHWISE_INPUT_GRAD_PARAMS, { dy: dy.ptr, OH, OW, C, dyStride: C, out, H, W, outStride: C, weights: w.ptr, ...win, dh: 1, dw: 1, accumulate: 0, images: n, dyImageStep: oimg * 4, outImageStep: img * 4 }),
      },
      {
        // ACC into one dW: per image in turn vs all images in one call
        name: 'depthwise2dFilterGrad', units: C, allUnits: C, floats: 9 * C,
        one: (b, out) => params(DEPTHWISE_FILTER_GRAD_PARAMS, { in: x.ptr + b * img * 4, H, W, C, inStride: C, dy: dy.ptr + b * oimg * 4, OH, OW, dyStride: C, dW: out, ...win, dh: 1, dw: 1, images: 1, inImageStep: 0, dyImageStep: 0 }),
        all: (out) => params(DEPTHWISE_FILTER_GRAD_PARAMS, { in: x.ptr, H, W, C, inStride: C, dy: dy.ptr, OH, OW, dyStride: C, dW: out, ...win, dh: 1, dw: 1, images: n, inImageStep: img * 4, dyImageStep: oimg * 4 }),
      },
    ];
    for (const c of cases) {
      const a = zeros(c.floats), b = zeros(c.floats);
      for (let i = 0; i < n; i++) km.kernel(c.name)(c.one(i, a.ptr), 0, c.units);
      const p = c.all(b.ptr);
      expectSplitSame(c.name, p, c.allUnits, [{ ptr: b.ptr, bytes: c.floats * 4 }], [1, 5, c.units + 2]);
      expect(Buffer.compare(Buffer.from(a.get().buffer), Buffer.from(b.get().buffer))).toBe(0);
      expect(maxAbs(b.get(), new Float32Array(c.floats))).toBeGreaterThan(0);
    }
  });
});

describe('optimizer kernels vs tf.train (cpu): bit-identical', () => {
  const n = 1037;

  test('adam (3 steps) with decoupled weight decay', () => {
    const lr = 0.003, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, wd = 5e-4;
    const w0 = rand(n, 81);
    const grads = [rand(n, 82), rand(n, 83, 1e-3), rand(n, 84, 10)];
    const v = tf.variable(tf.tensor1d(w0));
    const opt = tf.train.adam(lr, beta1, beta2, epsilon);
    for (const g of grads) {
      tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) } as unknown as Parameters<typeof opt.applyGradients>[0]));
      tf.tidy(() => v.assign(tf.mul(v, 1 - lr * wd)));
    }
    const ref = v.dataSync().slice();
    const pb = f32buf(w0), m = zeros(n), vv = zeros(n);
    grads.forEach((g, i) => {
      const gb = f32buf(g);
      const p = params(ADAM_PARAMS, { param: pb.ptr, grad: gb.ptr, m: m.ptr, v: vv.ptr, n, ...adamScalars({ learningRate: lr, beta1, beta2, epsilon, step: i + 1, decayFactor: weightDecayFactor(lr, wd) }) });
      expectSplitSame('adam', p, n, [{ ptr: pb.ptr, bytes: n * 4 }, { ptr: m.ptr, bytes: n * 4 }, { ptr: vv.ptr, bytes: n * 4 }], [1, 6, 513]);
    });
    expect(maxAbs(pb.get(), ref)).toBe(0);
    v.dispose();
    opt.dispose();
  });

  test.each([false, true])('sgd momentum (3 steps), nesterov %s', (nesterov) => {
    const lr = 0.01, mom = 0.937;
    const w0 = rand(n, 91);
    const grads = [rand(n, 92), rand(n, 93), rand(n, 94)];
    const v = tf.variable(tf.tensor1d(w0));
    const opt = tf.train.momentum(lr, mom, nesterov);
    for (const g of grads) tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) } as unknown as Parameters<typeof opt.applyGradients>[0]));
    const ref = v.dataSync().slice();
    const pb = f32buf(w0), acc = zeros(n);
    for (const g of grads) {
      const gb = f32buf(g);
      const p = params(MOMENTUM_PARAMS, { param: pb.ptr, grad: gb.ptr, acc: acc.ptr, n, nesterov: nesterov ? 1 : 0, momentum: mom, negLr: -lr, decayFactor: 1 });
      expectSplitSame('sgdMomentum', p, n, [{ ptr: pb.ptr, bytes: n * 4 }, { ptr: acc.ptr, bytes: n * 4 }], [3, 700]);
    }
    expect(maxAbs(pb.get(), ref)).toBe(0);
    v.dispose();
    opt.dispose();
  });

  test('ema: shadow * d + w * (1 - d) as src/train/ema.ts', () => {
    const d = 0.9999 * (1 - Math.exp(-3 / 2000));
    const s0 = rand(n, 101), w = rand(n, 102);
    const ref = tf.tidy(() => tf.add(tf.mul(tf.tensor1d(s0), d), tf.mul(tf.tensor1d(w), 1 - d)).dataSync() as Float32Array);
    const sb = f32buf(s0), wb = f32buf(w);
    const p = params(EMA_PARAMS, { shadow: sb.ptr, param: wb.ptr, n, decay: d, oneMinusDecay: 1 - d });
    expectSplitSame('ema', p, n, [{ ptr: sb.ptr, bytes: n * 4 }], [5, 99]);
    expect(maxAbs(sb.get(), ref)).toBe(0);
  });
});

describe('on worker threads (shared memory): 2 threads give the bits of 1', () => {
  test('conv2dFilterGrad (pointwise, 3x3, dW > 2 MB, im2col stem), depthwise2dInputGrad, bnBackwardReduce', async () => {
    const tkm = createKernelModule({ threaded: true });
    const ta = new Arena(tkm);
    const pool = createKernelThreadPool(tkm, 2, ta, { debugNoTakeOver: true });
    try {
      await whenPoolReady(pool);
      expect(pool.ready).toBe(1);
      const put = (data: Float32Array): number => ta.allocF32(data);
      const prm = <L extends readonly string[]>(layout: L, values: ParamValues<L>): number => {
        const p = ta.alloc(paramBytes(layout));
        writeParams(tkm.memory, p, layout, values);
        return p;
      };
      /** Run on 1 thread then on 2 from the same start; returns true when the output bytes agree. */
      const same = (name: KernelName, p: number, total: number, out: number, bytes: number, grain = 1): boolean => {
        const start = new Uint8Array(tkm.memory.buffer, out, bytes).slice();
        tkm.kernel(name)(p, 0, total);
        const one = new Uint8Array(tkm.memory.buffer, out, bytes).slice();
        new Uint8Array(tkm.memory.buffer, out, bytes).set(start);
        const before = pool.stats.workerChunks;
        pool.run(name, p, total, grain);
        expect(pool.stats.workerChunks).toBeGreaterThan(before);
        return Buffer.compare(Buffer.from(new Uint8Array(tkm.memory.buffer, out, bytes)), Buffer.from(one)) === 0;
      };
      for (const [H, C, N, k] of [[22, 116, 116, 1], [11, 24, 20, 3], [14, 160, 400, 3], [20, 3, 24, 3]]) {
        const pad = (k - 1) / 2;
        const x = put(rand(H * H * C, 111)), dy = put(rand(H * H * N, 112)), dW = put(new Float32Array(k * k * C * N));
        const p = prm(CONV_FILTER_GRAD_PARAMS, { in: x, H, W: H, C, inStride: C, dy, OH: H, OW: H, N, dyStride: N, dW, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: pad, padLeft: pad, ...ONE_IMAGE });
        expect(same('conv2dFilterGrad', p, Math.ceil(N / 8), dW, k * k * C * N * 4)).toBe(true);
      }
      const H = 13, C = 29;
      const dy = put(rand(H * H * C, 113)), w = put(rand(9 * C, 114)), dx = put(new Float32Array(H * H * C));
      const pd = prm(DEPTHWISE_INPUT_GRAD_PARAMS, { dy, OH: H, OW: H, C, dyStride: C, out: dx, H, W: H, outStride: C, weights: w, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, accumulate: 0, ...ONE_IMAGE_OUT });
      expect(same('depthwise2dInputGrad', pd, H, dx, H * H * C * 4)).toBe(true);
      const S = 8;
      const sums = ta.alloc(2 * S * C * 8);
      new Float64Array(tkm.memory.buffer, sums, 2 * S * C).fill(0);
      const stat = put(rand(C, 115));
      const pr = prm(BN_BACKWARD_REDUCE_PARAMS, { dy, dyStride: C, pre: w, preStride: 0, act: ACT.linear, alpha: 0, g: dx, gStride: C, x: dy, xStride: C, pixels: H * H, C, mean: stat, invStd: stat, sumG: sums, sumGX: sums + S * C * 8, slices: S });
      expect(same('bnBackwardReduce', pr, S, sums, 2 * S * C * 8, 1)).toBe(true);
    } finally {
      pool.dispose();
    }
  });
});

test('the plain-SIMD build (no relaxed fused multiply-add) gives the same gradients to float rounding', () => {
  const plain = createKernelModule({ relaxed: false });
  const run = (m: KernelModule): Float32Array => {
    const a = new Arena(m);
    const H = 9, W = 10, C = 7, N = 13;
    const x = a.allocF32(rand(H * W * C, 141)), dy = a.allocF32(rand(5 * 5 * N, 142)), dW = a.allocF32(new Float32Array(9 * C * N));
    const p = a.alloc(paramBytes(CONV_FILTER_GRAD_PARAMS));
    writeParams(m.memory, p, CONV_FILTER_GRAD_PARAMS, { in: x, H, W, C, inStride: C, dy, OH: 5, OW: 5, N, dyStride: N, dW, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 0, padLeft: 0, ...ONE_IMAGE });
    m.kernel('conv2dFilterGrad')(p, 0, 2);
    return new Float32Array(m.memory.buffer, dW, 9 * C * N).slice();
  };
  const got = run(plain);
  expect(got.some((v) => v !== 0)).toBe(true);
  expectClose(got, run(km), 1e-6);
});
