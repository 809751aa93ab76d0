/**
 * The element kernels of the wasm inference engine (src/engine/native: depthwise2d, maxpool2d,
 * binary, unary, upsampleNearest, pad2d, globalAvgPool, the activations of activation.h) against
 * the tfjs ops on the wasm backend, on random data: channel counts with C % 4 != 0 and C < 4,
 * strides 1/2, kernels 3/5 (and a generic size), asymmetric padding, input views that are a
 * channel slice of a wider buffer (unused lanes hold NaN, so reading them shows), output views
 * inside a wider buffer at a channel offset (everything around them must stay untouched), and
 * every [r0, r1) split giving the same bits as one call.
 */
import * as tf from '@tensorflow/tfjs';
import { Arena, KernelModule, KernelName, createKernelModule, packConvWeights, packDepthwiseWeights } from '../../src/engine/kernelModule';
import {
  ACT,
  BINARY_OP,
  BINARY_PARAMS,
  CONV_PARAMS,
  DEPTHWISE_PARAMS,
  GLOBAL_POOL_PARAMS,
  KernelActivation,
  PAD_PARAMS,
  POOL_PARAMS,
  ParamValues,
  UNARY_PARAMS,
  UPSAMPLE_PARAMS,
  paramBytes,
  writeParams,
} from '../../src/engine/kernelParams';
import { mulberry32 } from '../../src/util/random';
import { applyActivation } from '../../src/infer/compileInference';

const SENTINEL = 4242.25;
const ACTS = Object.keys(ACT) as KernelActivation[];

let km: KernelModule;
let arena: Arena;

beforeAll(() => {
  km = createKernelModule();
});
beforeEach(() => {
  arena = new Arena(km); // reuse the memory from the heap base for every test
});

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** A strided view in kernel memory: `pixels` pixels of C channels at channel `off` of `stride`-float pixels. */
interface View {
  ptr: number; // byte offset of channel `off` of pixel 0 (what the kernel gets)
  base: number; // byte offset of the whole buffer
  pixels: number;
  C: number;
  stride: number;
  off: number;
}

/** Put dense [pixels][C] data into a wider buffer; the other lanes get `fill`. stride 0 = one C-vector. */
function putView(data: Float32Array, pixels: number, C: number, stride = C, off = 0, fill = NaN): View {
  const len = stride === 0 ? off + C : pixels * stride;
  const buf = new Float32Array(len).fill(fill);
  const n = stride === 0 ? 1 : pixels;
  for (let p = 0; p < n; p++) for (let c = 0; c < C; c++) buf[p * stride + off + c] = data[p * C + c];
  const base = arena.allocF32(buf);
  return { ptr: base + off * 4, base, pixels, C, stride, off };
}

/** An output view, all of its buffer SENTINEL. */
function outView(pixels: number, C: number, stride = C, off = 0): View {
  return putView(new Float32Array(pixels * C).fill(SENTINEL), pixels, C, stride, off, SENTINEL);
}

/** Dense copy of a view's values. */
function readView(v: View): Float32Array {
  const mem = new Float32Array(km.memory.buffer);
  const out = new Float32Array(v.pixels * v.C);
  for (let p = 0; p < v.pixels; p++) for (let c = 0; c < v.C; c++) out[p * v.C + c] = mem[v.base / 4 + p * v.stride + v.off + c];
  return out;
}

/** Number of floats of the view's buffer outside the view that are no longer SENTINEL. */
function touchedOutside(v: View): number {
  const mem = new Float32Array(km.memory.buffer, v.base, v.pixels * v.stride);
  let bad = 0;
  for (let i = 0; i < mem.length; i++) {
    const c = (i % v.stride) - v.off;
    if ((c < 0 || c >= v.C) && mem[i] !== SENTINEL) bad++;
  }
  return bad;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN wins
  }
  return m;
}

/** Write a parameter block. */
function params<L extends readonly string[]>(layout: L, values: ParamValues<L>): number {
  const p = arena.alloc(paramBytes(layout));
  writeParams(km.memory, p, layout, values);
  return p;
}

/**
 * Run `name` over [0, n) as one call and as calls over `cuts`, resetting the output view to
 * SENTINEL in between; expects identical bits and returns the output.
 */
function runSplit(name: KernelName, p: number, n: number, out: View, cuts: number[]): Float32Array {
  const k = km.kernel(name);
  const reset = (): void => {
    new Float32Array(km.memory.buffer, out.base, out.pixels * out.stride || out.off + out.C).fill(SENTINEL);
  };
  k(p, 0, n);
  const one = readView(out);
  reset();
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < n), n];
  for (let i = 0; i + 1 < bounds.length; i++) k(p, bounds[i], bounds[i + 1]);
  const split = readView(out);
  expect(Buffer.compare(Buffer.from(one.buffer), Buffer.from(split.buffer))).toBe(0);
  expect(touchedOutside(out)).toBe(0);
  return split;
}

/** tfjs reference of an activation code (the tfjs inference path's own activation ops). */
function tfAct(x: tf.Tensor, act: KernelActivation, alpha: number): tf.Tensor {
  const y = applyActivation(x, act, alpha);
  return y === x ? x.clone() : y;
}

/** Apply the tfjs activation to dense values. */
function tfActArray(values: Float32Array, act: KernelActivation, alpha: number): Float32Array {
  return tf.tidy(() => tfAct(tf.tensor1d(values), act, alpha).dataSync() as Float32Array);
}

describe('activations (unary kernel) vs tfjs ops', () => {
  // A dense grid over [-20, 20] plus saturation points, as one long dense run and as 7-channel
  // pixels (so the scalar/partial-vector tail goes through the same code).
  const N = 40001;
  const grid = new Float32Array(N);
  for (let i = 0; i < N; i++) grid[i] = -20 + (40 * i) / (N - 1);
  const specials = Float32Array.from([-100, -87.5, -50, 50, 88.5, 100, 0, 1e-7, -1e-7, -3e-30]);

  function runAct(values: Float32Array, act: KernelActivation, C: number): Float32Array {
    const pixels = Math.ceil(values.length / C);
    const data = new Float32Array(pixels * C);
    data.set(values);
    const x = putView(data, pixels, C);
    const out = outView(pixels, C);
    const p = params(UNARY_PARAMS, { x: x.ptr, xStride: C, channelStep: 1, out: out.ptr, outStride: C, pixels, C, scale: 0, shift: 0, act: ACT[act], alpha: 0.1 });
    km.kernel('unary')(p, 0, pixels);
    return readView(out).subarray(0, values.length);
  }

  test.each(ACTS)('%s: <= 1e-6 from tfjs on [-20, 20], saturates without NaN', (act) => {
    const ref = tfActArray(grid, act, 0.1);
    for (const C of [N, 7, 3]) {
      const got = runAct(grid, act, C);
      expect(maxAbs(got, ref)).toBeLessThanOrEqual(1e-6);
    }
    const s = runAct(specials, act, specials.length);
    const sref = tfActArray(specials, act, 0.1);
    expect(s.every((v) => Number.isFinite(v))).toBe(true);
    expect(maxAbs(s, sref)).toBeLessThanOrEqual(1e-6);
  });

  test('limits: sigmoid(-100) = 0, sigmoid(100) = 1, tanh(+-100) = +-1, swish/mish(-100) = 0, (100) = 100, elu(-100) = -1', () => {
    const x = Float32Array.from([-100, 100]);
    const near0 = (v: number): boolean => Math.abs(v) === 0;
    const s = runAct(x, 'sigmoid', 2);
    expect(near0(s[0]) && s[1] === 1).toBe(true);
    expect(Array.from(runAct(x, 'tanh', 2))).toEqual([-1, 1]);
    const sw = runAct(x, 'swish', 2);
    expect(near0(sw[0]) && sw[1] === 100).toBe(true);
    const mi = runAct(x, 'mish', 2);
    expect(near0(mi[0]) && mi[1] === 100).toBe(true);
    expect(runAct(x, 'elu', 2)[0]).toBe(-1);
  });
});

interface DwCase {
  H: number;
  W: number;
  C: number;
  k: number; // square kernel unless kw given
  kw?: number;
  s: number;
  d?: number;
  pad: [number, number, number, number]; // top, bottom, left, right
  inStride?: number;
  inOff?: number;
  outStride?: number;
  outOff?: number;
}

function outSize(n: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

describe('depthwise2d vs tf.fused.depthwiseConv2d', () => {
  function runDw(c: DwCase, act: KernelActivation, seed: number, inScale = 1, cuts?: number[]): { got: Float32Array; ref: Float32Array; OH: number; OW: number; linear: Float32Array } {
    const { H, W, C, k, s } = c;
    const kw = c.kw ?? k;
    const d = c.d ?? 1;
    const [pt, pb, pl, pr] = c.pad;
    const OH = outSize(H, k, s, d, pt, pb), OW = outSize(W, kw, s, d, pl, pr);
    const input = randomArray(H * W * C, seed, inScale);
    const filter = randomArray(k * kw * C, seed + 1);
    const bias = randomArray(C, seed + 2);
    const packed = packDepthwiseWeights(filter, [k, kw, C, 1], bias);
    const wp = arena.allocF32(packed.weights), bp = arena.allocF32(packed.bias);
    const x = putView(input, H * W, C, c.inStride ?? C, c.inOff ?? 0);
    const run = (a: KernelActivation, splits: number[]): Float32Array => {
      const out = outView(OH * OW, C, c.outStride ?? C, c.outOff ?? 0);
      const p = params(DEPTHWISE_PARAMS, {
        in: x.ptr, H, W, C, inStride: x.stride, out: out.ptr, OH, OW, outStride: out.stride, weights: wp, bias: bp,
        kh: k, kw, sh: s, sw: s, dh: d, dw: d, padTop: pt, padLeft: pl, act: ACT[a], alpha: 0.1,
      });
      return runSplit('depthwise2d', p, OH, out, splits);
    };
    const got = run(act, cuts ?? [1, Math.floor(OH / 2) + 1]);
    const linear = act === 'linear' ? got : run('linear', []);
    const ref = tf.tidy(() => {
      // explicit asymmetric padding as zeros + 'valid' (the same sums)
      const xp = tf.pad(tf.tensor4d(input, [1, H, W, C]), [[0, 0], [pt, pb], [pl, pr], [0, 0]]) as tf.Tensor4D;
      const y = tf.fused.depthwiseConv2d({ x: xp, filter: tf.tensor4d(filter, [k, kw, C, 1]), strides: [s, s], pad: 'valid', dilations: [d, d], bias: tf.tensor1d(bias) });
      return tfAct(y, act, 0.1).dataSync() as Float32Array;
    });
    return { got, ref, OH, OW, linear };
  }

  const cases: [string, DwCase][] = [
    ['3x3 s1 same, C=6, input slice (stride 10, off 3), output slice (stride 9, off 2)', { H: 9, W: 11, C: 6, k: 3, s: 1, pad: [1, 1, 1, 1], inStride: 10, inOff: 3, outStride: 9, outOff: 2 }],
    ['3x3 s2 TF-same (pad 0/1), C=3', { H: 10, W: 10, C: 3, k: 3, s: 2, pad: [0, 1, 0, 1] }],
    ['3x3 s2 PyTorch pad 1/0 asymmetric, C=16', { H: 9, W: 12, C: 16, k: 3, s: 2, pad: [1, 0, 1, 0] }],
    ['5x5 s1 pad 2, C=8, output slice', { H: 8, W: 9, C: 8, k: 5, s: 1, pad: [2, 2, 2, 2], outStride: 12, outOff: 4 }],
    ['5x5 s2 pad 2, C=13, input slice', { H: 11, W: 10, C: 13, k: 5, s: 2, pad: [2, 2, 2, 2], inStride: 17, inOff: 1 }],
    ['3x3 dilation 2, pad 2, C=5', { H: 9, W: 9, C: 5, k: 3, s: 1, d: 2, pad: [2, 2, 2, 2] }],
    ['7x7 (generic path) s1 pad 3, C=4', { H: 10, W: 11, C: 4, k: 7, s: 1, pad: [3, 3, 3, 3] }],
    ['3x1 (generic, non-square) pad 1/1,0/0, C=9', { H: 6, W: 7, C: 9, k: 3, kw: 1, s: 1, pad: [1, 1, 0, 0] }],
    ['3x3 valid s1, C=1, image smaller than nothing-interior', { H: 3, W: 4, C: 1, k: 3, s: 1, pad: [0, 0, 0, 0] }],
    ['3x3 pad 1 on a 1x1 image (no interior), C=7', { H: 1, W: 1, C: 7, k: 3, s: 1, pad: [1, 1, 1, 1] }],
  ];

  test.each(cases)('%s', (_name, c) => {
    const { got, ref } = runDw(c, 'linear', 11, 1, [1, 2, 3]);
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(2e-6);
  });

  test.each(ACTS)('activation %s through depthwise (C=6 strided, pre-activations over about [-20, 20])', (act) => {
    const c = cases[0][1];
    const { got, ref, linear } = runDw(c, act, 21, 5);
    // the activation itself vs tfjs's op on the kernel's own linear output: <= 1e-6
    expect(maxAbs(got, tfActArray(linear, act, 0.1))).toBeLessThanOrEqual(1e-6);
    // and the whole thing vs tfjs (summation order differs)
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(2e-5);
    const span = Math.max(...Array.from(linear).map(Math.abs));
    expect(span).toBeGreaterThan(8);
  });
});

describe('maxpool2d vs tf.maxPool (padding never wins)', () => {
  const cases: [string, { H: number; W: number; C: number; k: number; s: number; pad: [number, number, number, number]; inStride?: number; outStride?: number; outOff?: number }][] = [
    ['2x2 s2, C=5', { H: 8, W: 10, C: 5, k: 2, s: 2, pad: [0, 0, 0, 0] }],
    ['2x2 s1 with bottom/right pad 1 (tiny YOLO), C=12, output slice', { H: 6, W: 6, C: 12, k: 2, s: 1, pad: [0, 1, 0, 1], outStride: 20, outOff: 5 }],
    ['3x3 s2 pad 1, C=3, input slice', { H: 9, W: 8, C: 3, k: 3, s: 2, pad: [1, 1, 1, 1], inStride: 8 }],
    ['3x3 s2 asymmetric pad top/left 1 (ZeroPad2d(1,0,1,0)), C=6', { H: 8, W: 8, C: 6, k: 3, s: 2, pad: [1, 0, 1, 0] }],
    ['5x5 s1 pad 2 (SPP), C=9', { H: 7, W: 9, C: 9, k: 5, s: 1, pad: [2, 2, 2, 2] }],
    ['13x13 s1 pad 6 (SPP, all edge), C=4', { H: 13, W: 13, C: 4, k: 13, s: 1, pad: [6, 6, 6, 6] }],
    ['5x5 s2 pad 2/1 (separable path, stride 2), C=7, input slice', { H: 11, W: 12, C: 7, k: 5, s: 2, pad: [2, 1, 2, 1], inStride: 9 }],
    ['4x4 s1 pad 0 (separable path, valid), C=2', { H: 6, W: 21, C: 2, k: 4, s: 1, pad: [0, 0, 0, 0] }],
  ];
  test.each(cases)('%s', (_name, c) => {
    const { H, W, C, k, s } = c;
    const [pt, pb, pl, pr] = c.pad;
    const OH = outSize(H, k, s, 1, pt, pb), OW = outSize(W, k, s, 1, pl, pr);
    // all-negative values: a zero from the padding would win if it took part
    const input = randomArray(H * W * C, 5).map((v) => v - 1.5);
    const x = putView(input, H * W, C, c.inStride ?? C);
    const out = outView(OH * OW, C, c.outStride ?? C, c.outOff ?? 0);
    const p = params(POOL_PARAMS, { in: x.ptr, H, W, C, inStride: x.stride, out: out.ptr, OH, OW, outStride: out.stride, kh: k, kw: k, sh: s, sw: s, padTop: pt, padLeft: pl });
    const got = runSplit('maxpool2d', p, OH, out, [1, 3]);
    const ref = tf.tidy(() => {
      const xt = tf.pad(tf.tensor4d(input, [1, H, W, C]), [[0, 0], [pt, pb], [pl, pr], [0, 0]], -3e38);
      return tf.maxPool(xt as tf.Tensor4D, k, s, 'valid').dataSync();
    });
    expect(maxAbs(got, ref)).toBe(0);
    expect(got.every((v) => v < 0)).toBe(true);
  });
});

describe('binary', () => {
  const H = 5, W = 7;
  test.each([
    ['axpby dense a=0.7 b=-1.3 relu6, C=10', 10, 'axpby', 'relu6', 'dense'],
    ['add (a=b=1) strided views, C=3', 3, 'axpby', 'linear', 'strided'],
    ['mul SE broadcast x=[1,1,C] stride 0, sigmoid, C=7', 7, 'mul', 'sigmoid', 'bx'],
    ['mul broadcast y stride 0 into an output slice, swish, C=13', 13, 'mul', 'swish', 'by'],
    ['axpby dense leaky, C=9 (flat run tail)', 9, 'axpby', 'leaky', 'dense'],
    ['axpby dense mish, C=64', 64, 'axpby', 'mish', 'dense'],
  ] as [string, number, 'axpby' | 'mul', KernelActivation, string][])('%s', (_n, C, op, act, layout) => {
    const P = H * W;
    const a = op === 'axpby' && act !== 'linear' ? 0.7 : 1, b = op === 'axpby' && act !== 'linear' ? -1.3 : 1;
    const xd = randomArray(layout === 'bx' ? C : P * C, 31, 4), yd = randomArray(layout === 'by' ? C : P * C, 32, 4);
    const xs = layout === 'bx' ? 0 : layout === 'strided' ? C + 3 : C;
    const ys = layout === 'by' ? 0 : layout === 'strided' ? C + 1 : C;
    const x = putView(xd, P, C, xs, layout === 'strided' ? 2 : 0);
    const y = putView(yd, P, C, ys, layout === 'strided' ? 1 : 0);
    const out = layout === 'dense' || layout === 'bx' ? outView(P, C) : outView(P, C, C + 5, 3);
    const p = params(BINARY_PARAMS, { x: x.ptr, xStride: xs, y: y.ptr, yStride: ys, out: out.ptr, outStride: out.stride, pixels: P, C, op: BINARY_OP[op], a, b, act: ACT[act], alpha: 0.1 });
    const got = runSplit('binary', p, P, out, [3, 17, 18]);
    const ref = tf.tidy(() => {
      const xt = layout === 'bx' ? tf.tensor3d(xd, [1, 1, C]) : tf.tensor3d(xd, [H, W, C]);
      const yt = layout === 'by' ? tf.tensor3d(yd, [1, 1, C]) : tf.tensor3d(yd, [H, W, C]);
      const lin = op === 'mul' ? tf.mul(xt, yt) : a === 1 && b === 1 ? tf.add(xt, yt) : tf.add(tf.mul(xt, a), tf.mul(yt, b));
      return tfAct(lin, act, 0.1).dataSync();
    });
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(act === 'linear' || act === 'relu6' || act === 'leaky' ? 0 : 1e-6);
  });
});

describe('unary', () => {
  const H = 6, W = 5, P = H * W;
  test.each([
    ['scale+shift, mish, strided in/out, C=11', 11, true, true, 'mish'],
    ['scale only, relu, C=3', 3, true, false, 'relu'],
    ['shift only, tanh, C=8', 8, false, true, 'tanh'],
    ['plain strided copy, C=6', 6, false, false, 'linear'],
  ] as [string, number, boolean, boolean, KernelActivation][])('%s', (_n, C, hasScale, hasShift, act) => {
    const xd = randomArray(P * C, 41, 3);
    const scale = randomArray(C, 42, 2), shift = randomArray(C, 43, 2);
    const x = putView(xd, P, C, C + 2, 1);
    const out = outView(P, C, C + 4, 2);
    const p = params(UNARY_PARAMS, {
      x: x.ptr, xStride: x.stride, channelStep: 1, out: out.ptr, outStride: out.stride, pixels: P, C,
      scale: hasScale ? arena.allocF32(scale) : 0, shift: hasShift ? arena.allocF32(shift) : 0, act: ACT[act], alpha: 0.1,
    });
    const got = runSplit('unary', p, P, out, [1, 10]);
    const ref = tf.tidy(() => {
      let t: tf.Tensor = tf.tensor3d(xd, [H, W, C]);
      if (hasScale) t = tf.mul(t, tf.tensor1d(scale));
      if (hasShift) t = tf.add(t, tf.tensor1d(shift));
      return tfAct(t, act, 0.1).dataSync();
    });
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(act === 'linear' || act === 'relu' ? 0 : 1e-6);
  });

  test('dense copy is exact', () => {
    const C = 5;
    const xd = randomArray(P * C, 44);
    const x = putView(xd, P, C);
    const out = outView(P, C);
    const p = params(UNARY_PARAMS, { x: x.ptr, xStride: C, channelStep: 1, out: out.ptr, outStride: C, pixels: P, C, scale: 0, shift: 0, act: ACT.linear, alpha: 0 });
    expect(maxAbs(runSplit('unary', p, P, out, [7]), xd)).toBe(0);
  });

  test.each([
    ['ShuffleNet split: channels g=1 of 2 groups, C=5 from 10, with scale, leaky', 5, 2, 1, true, 'leaky'],
    ['channel step 3 from group 0, C=6, swish', 6, 3, 0, false, 'swish'],
  ] as [string, number, number, number, boolean, KernelActivation][])('%s', (_n, C, groups, g, hasScale, act) => {
    const CT = C * groups;
    const xd = randomArray(P * CT, 45, 3);
    const scale = randomArray(C, 46, 2);
    const x = putView(xd, P, CT); // dense, the kernel reads channel g + c*groups
    const out = outView(P, C, C + 3, 3);
    const p = params(UNARY_PARAMS, {
      x: x.ptr + g * 4, xStride: CT, channelStep: groups, out: out.ptr, outStride: out.stride, pixels: P, C,
      scale: hasScale ? arena.allocF32(scale) : 0, shift: 0, act: ACT[act], alpha: 0.1,
    });
    const got = runSplit('unary', p, P, out, [P - 1]);
    const ref = tf.tidy(() => {
      const idx = tf.tensor1d(Array.from({ length: C }, (_, c) => g + c * groups), 'int32');
      let t: tf.Tensor = tf.gather(tf.tensor3d(xd, [H, W, CT]), idx, 2);
      if (hasScale) t = tf.mul(t, tf.tensor1d(scale));
      return tfAct(t, act, 0.1).dataSync();
    });
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(1e-6);
  });
});

describe('upsampleNearest vs tf.image.resizeNearestNeighbor', () => {
  test.each([
    ['x2, C=5, input and output slices', 4, 6, 5, 2, 2, 7, 9, 1],
    ['3x2 (fy=3, fx=2), C=8 dense', 3, 5, 8, 3, 2, 8, 8, 0],
    ['x2, C=16 dense', 5, 4, 16, 2, 2, 16, 16, 0],
    ['x4, C=2 into an output slice', 3, 3, 2, 4, 4, 2, 6, 4],
  ] as [string, number, number, number, number, number, number, number, number][])('%s', (_n, H, W, C, fy, fx, inStride, outStride, outOff) => {
    const OH = H * fy, OW = W * fx;
    const xd = randomArray(H * W * C, 51);
    const x = putView(xd, H * W, C, inStride);
    const out = outView(OH * OW, C, outStride, outOff);
    const p = params(UPSAMPLE_PARAMS, { in: x.ptr, H, W, C, inStride, out: out.ptr, outStride, fy, fx });
    const got = runSplit('upsampleNearest', p, OH, out, [1, OH - 1]);
    const ref = tf.tidy(() => tf.image.resizeNearestNeighbor(tf.tensor3d(xd, [H, W, C]), [OH, OW]).dataSync());
    expect(maxAbs(got, ref)).toBe(0);
  });
});

describe('pad2d vs tf.pad', () => {
  test.each([
    ['ZeroPad2d(1,0,1,0): top/left 1, C=6, output slice', 5, 6, 6, [1, 0, 1, 0], 0, 10, 2],
    ['pad 2 all round with a large negative value, C=3, input slice', 4, 3, 3, [2, 2, 2, 2], -3e38, 3, 0],
    ['bottom/right 1, C=8 dense', 4, 4, 8, [0, 1, 0, 1], 0.5, 8, 0],
  ] as [string, number, number, number, [number, number, number, number], number, number, number][])('%s', (_n, H, W, C, pad, value, outStride, outOff) => {
    const [pt, pb, pl, pr] = pad;
    const OH = H + pt + pb, OW = W + pl + pr;
    const xd = randomArray(H * W * C, 61);
    const x = putView(xd, H * W, C, C + (value < 0 ? 2 : 0), value < 0 ? 1 : 0);
    const out = outView(OH * OW, C, outStride, outOff);
    const p = params(PAD_PARAMS, { in: x.ptr, H, W, C, inStride: x.stride, out: out.ptr, OH, OW, outStride, padTop: pt, padLeft: pl, value });
    const got = runSplit('pad2d', p, OH, out, [1, 2, OH - 1]);
    const ref = tf.tidy(() => tf.pad(tf.tensor3d(xd, [H, W, C]), [[pt, pb], [pl, pr], [0, 0]], value).dataSync());
    expect(maxAbs(got, ref)).toBe(0);
  });
});

describe('globalAvgPool', () => {
  test.each([
    ['13x13 pixels, C=21 slice of 24, values near 1000 (f64 sum)', 169, 21, 24, 1, 1000],
    ['C=3', 50, 3, 3, 0, 1],
    ['C=40 (16-channel blocks + 4 + tail) dense', 26 * 26, 40, 40, 0, 3],
  ] as [string, number, number, number, number, number][])('%s', (_n, pixels, C, inStride, off, level) => {
    const xd = randomArray(pixels * C, 71).map((v) => level + v);
    const x = putView(xd, pixels, C, inStride, off);
    const out = outView(1, C);
    const p = params(GLOBAL_POOL_PARAMS, { in: x.ptr, pixels, C, inStride, out: out.ptr });
    const got = runSplit('globalAvgPool', p, C, out, [5, 18, 19]);
    let worst = 0;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = 0; i < pixels; i++) s += xd[i * C + c];
      const exact = s / pixels;
      worst = Math.max(worst, Math.abs(got[c] - exact) / Math.abs(exact));
    }
    expect(worst).toBeLessThanOrEqual(1e-7);
    const ref = tf.tidy(() => tf.mean(tf.tensor2d(xd, [pixels, C]), 0).dataSync());
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(1e-5 * level);
  });
});

describe('conv2d with transcendental activations (act_v in conv)', () => {
  test.each(['sigmoid', 'swish', 'mish', 'tanh'] as KernelActivation[])('%s', (act) => {
    const H = 7, W = 6, C = 5, N = 11;
    const input = randomArray(H * W * C, 81, 3);
    const filter = randomArray(9 * C * N, 82);
    const bias = randomArray(N, 83);
    const packed = packConvWeights(filter, [3, 3, C, N], bias);
    const wp = arena.allocF32(packed.weights), bp = arena.allocF32(packed.bias), zero = arena.allocF32(new Float32Array(C));
    const x = putView(input, H * W, C);
    const run = (a: KernelActivation): Float32Array => {
      const out = outView(H * W, N, N + 3, 1);
      const p = params(CONV_PARAMS, {
        in: x.ptr, H, W, C, inStride: C, out: out.ptr, OH: H, OW: W, N, outStride: out.stride, weights: wp, bias: bp,
        kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, act: ACT[a], alpha: 0, zero, splitBlocks: 0,
      });
      return runSplit('conv2d', p, H * W, out, [5, 13]);
    };
    const linear = run('linear');
    const got = run(act);
    expect(maxAbs(got, tfActArray(linear, act, 0))).toBeLessThanOrEqual(1e-6);
    const ref = tf.tidy(() => {
      const y = tf.add(tf.conv2d(tf.tensor4d(input, [1, H, W, C]), tf.tensor4d(filter, [3, 3, C, N]), 1, 'same'), tf.tensor1d(bias));
      return tfAct(y, act, 0).dataSync();
    });
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(2e-5);
  });
});

describe('conv2d with a long reduction (K = kh*kw*C >= 2048: summed in chunks of one tap\'s channels)', () => {
  // 12 x 13 = 156 output pixels (more than one 128-pixel sub-range), C = 260 (a 4-channel last
  // chunk), N = 11 (a partial 8-channel block), input a channel slice (NaN around it), output
  // inside a wider buffer; stride 2 with asymmetric padding too.
  test.each([
    { name: '3x3 s1 leaky', H: 12, W: 13, s: 1, pad: [1, 1], act: 'leaky' as KernelActivation },
    { name: '3x3 s2 swish (activation after the chunk)', H: 23, W: 25, s: 2, pad: [0, 1], act: 'swish' as KernelActivation },
  ])('$name: matches tf.conv2d; pixel splits and block splits give the bits of one call', ({ H, W, s, pad, act }) => {
    const C = 260, N = 11, k = 3;
    const OH = Math.floor((H + 2 * pad[0] - k) / s) + 1, OW = Math.floor((W + 2 * pad[1] - k) / s) + 1;
    const input = randomArray(H * W * C, 101), filter = randomArray(k * k * C * N, 102, 0.1), bias = randomArray(N, 103);
    const packed = packConvWeights(filter, [k, k, C, N], bias);
    const wp = arena.allocF32(packed.weights), bp = arena.allocF32(packed.bias), zero = arena.allocF32(new Float32Array(C));
    const x = putView(input, H * W, C, C + 3, 2);
    const run = (splitBlocks: number, total: number, cuts: number[]): Float32Array => {
      const out = outView(OH * OW, N, N + 5, 3);
      const p = params(CONV_PARAMS, {
        in: x.ptr, H, W, C, inStride: x.stride, out: out.ptr, OH, OW, N, outStride: out.stride, weights: wp, bias: bp,
        kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1, padTop: pad[0], padLeft: pad[1], act: ACT[act], alpha: 0.1, zero, splitBlocks,
      });
      return runSplit('conv2d', p, total, out, cuts);
    };
    const got = run(0, OH * OW, [5, 127, 130]);
    expect(Buffer.compare(Buffer.from(got.buffer), Buffer.from(run(1, 2, [1]).buffer))).toBe(0);
    const ref = tf.tidy(() => {
      const xt = tf.pad(tf.tensor4d(input, [1, H, W, C]), [[0, 0], [pad[0], pad[0]], [pad[1], pad[1]], [0, 0]]);
      const y = tf.add(tf.conv2d(xt, tf.tensor4d(filter, [k, k, C, N]), s, 'valid'), tf.tensor1d(bias));
      return tfAct(y, act, 0.1).dataSync();
    });
    expect(ref.length).toBe(OH * OW * N);
    let mag = 1;
    for (const v of ref) mag = Math.max(mag, Math.abs(v));
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(1e-5 * mag);
  });
});

describe('work ranges', () => {
  test('a range past the end is clamped: nothing is written outside the output', () => {
    const H = 4, W = 4, C = 5;
    const x = putView(randomArray(H * W * C, 91), H * W, C);
    const out = outView(2 * 2, C);
    const guard = outView(8, C); // allocated right after the output
    const p = params(POOL_PARAMS, { in: x.ptr, H, W, C, inStride: C, out: out.ptr, OH: 2, OW: 2, outStride: C, kh: 2, kw: 2, sh: 2, sw: 2, padTop: 0, padLeft: 0 });
    km.kernel('maxpool2d')(p, 0, 50);
    const b = params(BINARY_PARAMS, { x: x.ptr, xStride: C, y: x.ptr, yStride: C, out: out.ptr, outStride: C, pixels: 4, C, op: 0, a: 1, b: 1, act: 0, alpha: 0 });
    km.kernel('binary')(b, -3, 90);
    expect(readView(guard).every((v) => v === SENTINEL)).toBe(true);
  });
});

describe('threaded build (shared memory)', () => {
  test('depthwise2d (5x5, mish) and maxpool2d give the same bits as the single-thread build', () => {
    const H = 9, W = 10, C = 13, k = 5;
    const input = randomArray(H * W * C, 101, 4), filter = randomArray(k * k * C, 102), bias = randomArray(C, 103);
    const packed = packDepthwiseWeights(filter, [k, k, C, 1], bias);
    const results = [false, true].map((threaded) => {
      const m = createKernelModule({ threaded, bytes: 1 << 22, maxBytes: 1 << 24 });
      const a = new Arena(m);
      const put = (d: Float32Array): number => a.allocF32(d);
      const x = put(input), out = a.alloc(H * W * C * 4), pool = a.alloc(H * W * C * 4);
      const p = a.alloc(paramBytes(DEPTHWISE_PARAMS));
      writeParams(m.memory, p, DEPTHWISE_PARAMS, {
        in: x, H, W, C, inStride: C, out, OH: H, OW: W, outStride: C, weights: put(packed.weights), bias: put(packed.bias),
        kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 2, padLeft: 2, act: ACT.mish, alpha: 0,
      });
      m.kernel('depthwise2d')(p, 0, H);
      const q = a.alloc(paramBytes(POOL_PARAMS));
      writeParams(m.memory, q, POOL_PARAMS, { in: out, H, W, C, inStride: C, out: pool, OH: H, OW: W, outStride: C, kh: 5, kw: 5, sh: 1, sw: 1, padTop: 2, padLeft: 2 });
      m.kernel('maxpool2d')(q, 0, H);
      return Float32Array.from(new Float32Array(m.memory.buffer, out, 2 * H * W * C));
    });
    expect(Buffer.compare(Buffer.from(results[0].buffer), Buffer.from(results[1].buffer))).toBe(0);
    expect(results[0].every(Number.isFinite)).toBe(true);
  });
});
