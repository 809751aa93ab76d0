// Gradient kernels for the wasm backend, checked against the cpu backend's own kernels.
import * as tf from '@tensorflow/tfjs';
import { registerCpuTrainingFixes, registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/train/wasmGradients';
import { setBackend } from '../../src/backend';

type Pad = 'valid' | 'same' | number[][];

function rand(shape: number[], seed: number): Float32Array {
  // Small LCG: deterministic data independent of the backend.
  let s = seed * 7919 + 17;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 1073741824 - 1;
  }
  return out;
}

/** Runs `f` on the given backend and returns the values of its outputs. */
async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await setBackend(backend);
  return tf.tidy(f).map((t) => {
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return v;
  });
}

/** max |a-b| / max(1, max |b|). */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

const errors: Record<string, number> = {};

async function compare(name: string, f: () => tf.Tensor[]): Promise<void> {
  const ref = await on('cpu', f);
  const got = await on('wasm', f);
  let worst = 0;
  ref.forEach((r, i) => {
    worst = Math.max(worst, relErr(got[i], r));
  });
  errors[name] = worst;
  expect(worst).toBeLessThan(1e-4);
}

beforeAll(() => registerWasmTrainingKernels());
afterAll(async () => {
  // eslint-disable-next-line no-console
  console.log('wasm vs cpu gradient rel. errors:', JSON.stringify(errors, (_, v) => (typeof v === 'number' ? +v.toExponential(2) : v)));
  await setBackend('wasm');
});

describe('registerWasmTrainingKernels', () => {
  it('registers every kernel for wasm, idempotently', () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const names = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    for (const k of WASM_TRAINING_KERNELS) expect(names.has(k)).toBe(true);
  });

  it('rejects NCHW with a clear error', async () => {
    await setBackend('wasm');
    const x = tf.ones([1, 2, 4, 4]);
    const dy = tf.ones([1, 3, 4, 4]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] }),
    ).toThrow(/only dataFormat NHWC/);
    tf.dispose([x, dy]);
  });
});

describe('conv2d gradients on wasm equal cpu', () => {
  const cases: [string, number[], number, number, number, Pad][] = [
    // [name, x shape, kernel, cout, stride, pad]
    ['k3 s1 same', [2, 9, 11, 5], 3, 7, 1, 'same'],
    ['k3 s2 same even', [2, 10, 12, 4], 3, 6, 2, 'same'],
    ['k3 s2 same odd', [1, 11, 9, 3], 3, 5, 2, 'same'],
    ['k3 s2 explicit top-left pad (darknet/keras downsample)', [2, 10, 10, 4], 3, 6, 2, [[0, 0], [1, 0], [1, 0], [0, 0]]],
    ['k3 s1 explicit pad 1', [1, 8, 7, 3], 3, 4, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]],
    ['k3 s2 valid with leftover rows', [1, 10, 9, 3], 3, 4, 2, 'valid'],
    ['k1 s1 valid', [2, 6, 7, 8], 1, 5, 1, 'valid'],
    ['k1 s2 same', [1, 7, 8, 4], 1, 3, 2, 'same'],
    ['k5 s1 same', [1, 9, 9, 3], 5, 4, 1, 'same'],
    ['k2 s2 valid', [1, 8, 8, 3], 2, 4, 2, 'valid'],
  ];
  it.each(cases)('%s', async (name, xs, k, co, s, pad) => {
    const ci = xs[3];
    const xv = rand(xs, 1);
    const wv = rand([k, k, ci, co], 2);
    await compare(`conv ${name}`, () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const w = tf.tensor4d(wv, [k, k, ci, co]);
      const y = tf.conv2d(x, w, s, pad as 'same');
      const dy = tf.tensor(rand(y.shape, 3), y.shape);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad as 'same'), dy)));
      return g([x, w]);
    });
  });

  it('conv2dTranspose (forward use of Conv2DBackpropInput) still matches', async () => {
    const dyv = rand([1, 5, 5, 6], 4);
    const wv = rand([3, 3, 4, 6], 5);
    await compare('conv2dTranspose s2 same', () => [
      tf.conv2dTranspose(tf.tensor4d(dyv, [1, 5, 5, 6]), tf.tensor4d(wv, [3, 3, 4, 6]), [1, 10, 10, 4], 2, 'same'),
    ]);
  });
});

describe('depthwise conv2d gradients on wasm equal cpu', () => {
  const cases: [string, number[], number, number, number, number, Pad][] = [
    // [name, x shape, kernel, multiplier, stride, dilation, pad]
    ['k3 s1 same', [2, 9, 10, 6], 3, 1, 1, 1, 'same'],
    ['k3 s2 same', [2, 10, 10, 5], 3, 1, 2, 1, 'same'],
    ['k5 s1 same', [2, 8, 8, 4], 5, 1, 1, 1, 'same'],
    ['k5 s2 same odd', [1, 11, 9, 3], 5, 1, 2, 1, 'same'],
    ['k3 s2 explicit pad (TF-same as zero pad + valid)', [1, 10, 10, 4], 3, 1, 2, 1, [[0, 0], [0, 1], [0, 1], [0, 0]]],
    ['k3 s1 multiplier 2', [1, 7, 8, 3], 3, 2, 1, 1, 'same'],
    ['k3 s2 multiplier 2 valid', [1, 9, 9, 2], 3, 2, 2, 1, 'valid'],
  ];
  it.each(cases)('%s', async (name, xs, k, m, s, d, pad) => {
    const c = xs[3];
    const xv = rand(xs, 6);
    const wv = rand([k, k, c, m], 7);
    await compare(`depthwise ${name}`, () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const w = tf.tensor4d(wv, [k, k, c, m]);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad as 'same', 'NHWC', d);
      const y = f(x, w);
      const dy = tf.tensor(rand(y.shape, 8), y.shape);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([x, w]);
    });
  });

  // tfjs refuses gradients of dilated depthwise convs and its cpu kernels ignore the dilation,
  // so the dilated paths are checked against a direct loop instead.
  it.each([
    ['s1 d2 same (depthwise-conv path)', [1, 9, 10, 2], 1, 2, 'same'],
    ['s2 d2 valid (per-offset path)', [1, 11, 11, 3], 2, 2, 'valid'],
  ] as [string, number[], number, number, Pad][])('dilated filter gradient %s equals a direct loop', async (name, xs, s, d, pad) => {
    await setBackend('wasm');
    const [n, h, w, c] = xs;
    const k = 3;
    const xv = rand(xs, 9);
    const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], [k, k, c, 1], s, d, pad as 'same', undefined, true);
    const { outHeight: ho, outWidth: wo } = info;
    const { top, left } = info.padInfo;
    const dyv = rand([n, ho, wo, c], 10);
    const got = tf.tidy(() => (tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
      { x: tf.tensor4d(xv, xs as [number, number, number, number]), dy: tf.tensor4d(dyv, [n, ho, wo, c]) },
      { strides: [s, s], dilations: [d, d], pad, filterShape: [k, k, c, 1] }) as tf.Tensor).dataSync() as Float32Array);
    const ref = new Float32Array(k * k * c);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let ch = 0; ch < c; ch++) {
      let acc = 0;
      for (let b = 0; b < n; b++) for (let y = 0; y < ho; y++) for (let x = 0; x < wo; x++) {
        const r = y * s + i * d - top;
        const q = x * s + j * d - left;
        if (r < 0 || r >= h || q < 0 || q >= w) continue;
        acc += xv[((b * h + r) * w + q) * c + ch] * dyv[((b * ho + y) * wo + x) * c + ch];
      }
      ref[(i * k + j) * c + ch] = acc;
    }
    const e = relErr(got, ref);
    errors[`depthwise dilated ${name} vs loop`] = e;
    expect(e).toBeLessThan(1e-5);
  });
});

describe('pooling and upsampling gradients on wasm equal cpu (wasm\'s own kernels are wrong)', () => {
  const pools: [string, number[], number, number, 'same' | 'valid', boolean][] = [
    // [name, x shape, window, stride, pad, with ties]
    ['2x2 s2 valid', [2, 8, 8, 3], 2, 2, 'valid', false],
    ['2x2 s1 same (tiny YOLO last pool)', [1, 7, 7, 4], 2, 1, 'same', false],
    ['3x3 s2 same (ShuffleNet stem)', [2, 9, 10, 3], 3, 2, 'same', false],
    ['3x3 s2 valid', [1, 9, 9, 2], 3, 2, 'valid', false],
    ['5x5 s1 same (SPP)', [1, 6, 6, 2], 5, 1, 'same', false],
    ['2x2 s2 valid with ties (relu zeros, first max wins)', [2, 8, 8, 3], 2, 2, 'valid', true],
    ['3x3 s1 same with ties', [1, 6, 6, 2], 3, 1, 'same', true],
    ['3x3 s2 same with ties (stem after ReLU)', [2, 11, 10, 3], 3, 2, 'same', true],
    ['1x1 s2 valid (stride phases without taps)', [1, 7, 8, 2], 1, 2, 'valid', false],
    ['3x3 s3 valid with ties (tiling path, leftover rows)', [1, 10, 11, 2], 3, 3, 'valid', true],
  ];
  it.each(pools)('maxPool %s', async (name, xs, k, s, pad, ties) => {
    const xv = rand(xs, 14).map((v) => (ties ? Math.max(0, Math.round(v * 2) / 2) : v));
    await compare(`maxPool ${name}`, () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const y = tf.maxPool(x, k, s, pad);
      const dy = tf.tensor(rand(y.shape, 15), y.shape);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), dy)))(x)];
    });
  });

  const resizes: [string, number[], [number, number], boolean, boolean][] = [
    // [name, x shape, size, alignCorners, halfPixelCenters]
    ['x2 (UpSampling2D)', [2, 4, 5, 3], [8, 10], false, false],
    ['x2 half-pixel', [1, 4, 4, 2], [8, 8], false, true],
    ['5x5 -> 8x7', [1, 5, 5, 2], [8, 7], false, false],
    ['5x5 -> 8x7 align corners', [1, 5, 5, 2], [8, 7], true, false],
    ['6x6 -> 4x3 (down)', [1, 6, 6, 2], [4, 3], false, false],
  ];
  // tfjs' cpu ResizeNearestNeighborGrad offsets dy by the IMAGE batch stride (wrong for batch > 1)
  // and ignores halfPixelCenters, so these are checked against a direct loop over the forward's
  // own index mapping (read back from a forward pass on a ramp).
  const resizeCases = resizes.flatMap(([name, ...rest]) =>
    ['wasm', 'cpu'].map((b) => [`${name} on ${b}`, ...rest, b] as [string, number[], [number, number], boolean, boolean, string]));
  it.each(resizeCases)('resizeNearestNeighbor %s equals a direct loop', async (name, xs, size, ac, hp, backend) => {
    await setBackend(backend);
    if (backend === 'cpu') registerCpuTrainingFixes();
    const [n, h, w, c] = xs;
    const [oh, ow] = size;
    const dyv = rand([n, oh, ow, c], 17);
    // Which input pixel feeds each output pixel, from the forward kernel itself.
    const src = tf.tidy(() => tf.image.resizeNearestNeighbor(tf.range(0, h * w).reshape([1, h, w, 1]) as tf.Tensor4D, size, ac, hp).dataSync());
    const ref = new Float32Array(n * h * w * c);
    for (let b = 0; b < n; b++) for (let p = 0; p < oh * ow; p++) for (let ch = 0; ch < c; ch++) {
      ref[(b * h * w + src[p]) * c + ch] += dyv[(b * oh * ow + p) * c + ch];
    }
    const got = tf.tidy(() => {
      const x = tf.zeros(xs);
      const dy = tf.tensor4d(dyv, [n, oh, ow, c]);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, size, ac, hp), dy)))(x).dataSync() as Float32Array;
    });
    const e = relErr(got, ref);
    errors[`resizeNN ${name} vs loop`] = e;
    expect(e).toBeLessThan(1e-5);
  });
});

describe('Tile on wasm (broadcast fast path and fallback) equals cpu', () => {
  it.each([
    ['batch-norm style [1,1,1,C] x [N,H,W,1]', [1, 1, 1, 5], [2, 3, 4, 1]],
    ['general [2,3] x [2,2] (wasm kernel)', [2, 3], [2, 2]],
    ['mixed [1,3] x [4,2] (wasm kernel)', [1, 3], [4, 2]],
  ] as [string, number[], number[]][])('%s', async (name, shape, reps) => {
    const v = rand(shape, 18);
    await compare(`tile ${name}`, () => [tf.tile(tf.tensor(v, shape), reps)]);
  });

  it('int32 tiles go to wasm\'s own kernel', async () => {
    await setBackend('wasm');
    const t = tf.tidy(() => tf.tile(tf.tensor2d([[1, 2]], [1, 2], 'int32'), [3, 1]).arraySync());
    expect(t).toEqual([[1, 2], [1, 2], [1, 2]]);
  });
});

describe('gather gradient (UnsortedSegmentSum) on wasm equal cpu', () => {
  it('sums rows gathered several times', async () => {
    const xv = rand([5, 3], 11);
    await compare('gather grad', () => {
      const x = tf.tensor2d(xv, [5, 3]);
      const idx = tf.tensor1d([4, 0, 4, 2, 4], 'int32');
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a, idx), tf.range(1, 16).reshape([5, 3]))))(x)];
    });
  });

  it('drops negative and out-of-range segment ids (as TensorFlow)', async () => {
    await setBackend('wasm');
    const out = tf.tidy(() => (tf.engine().runKernel('UnsortedSegmentSum',
      { x: tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]), segmentIds: tf.tensor1d([1, -1, 1, 3], 'int32') },
      { numSegments: 3 }) as tf.Tensor).arraySync());
    expect(out).toEqual([[0, 0], [6, 8], [0, 0]]);
  });
});

describe('end-to-end: gradients of a small detector-like model', () => {
  function buildModel(): tf.LayersModel {
    const inp = tf.input({ shape: [16, 16, 3] });
    const conv = (x: tf.SymbolicTensor, filters: number, k: number, s: number, name: string): tf.SymbolicTensor => {
      let y = tf.layers.conv2d({ filters, kernelSize: k, strides: s, padding: 'same', useBias: false, name: `${name}_conv` }).apply(x) as tf.SymbolicTensor;
      y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
      return tf.layers.leakyReLU({ alpha: 0.1, name: `${name}_leaky` }).apply(y) as tf.SymbolicTensor;
    };
    const a = conv(inp, 8, 3, 1, 'c1'); // 16x16x8
    const p = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool' }).apply(a) as tf.SymbolicTensor; // 8x8
    let dw = tf.layers.depthwiseConv2d({ kernelSize: 5, strides: 1, padding: 'same', name: 'dw' }).apply(p) as tf.SymbolicTensor;
    dw = tf.layers.batchNormalization({ name: 'dw_bn' }).apply(dw) as tf.SymbolicTensor;
    const b = conv(dw, 12, 3, 2, 'c2'); // 4x4x12
    const dw2 = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', name: 'dw2' }).apply(a) as tf.SymbolicTensor; // 8x8x8
    const up = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(conv(b, 6, 1, 1, 'c3')) as tf.SymbolicTensor; // 8x8x6
    const cat = tf.layers.concatenate({ name: 'cat' }).apply([up, dw2, p]) as tf.SymbolicTensor; // 8x8x22
    const head = tf.layers.conv2d({ filters: 7, kernelSize: 1, useBias: true, name: 'head' }).apply(cat) as tf.SymbolicTensor;
    return tf.model({ inputs: inp, outputs: head });
  }

  // Batch 1: the cpu backend's ResizeNearestNeighborGrad is wrong for batch > 1 (see above).
  it('every trainable weight gradient matches cpu, and no tensors leak', async () => {
    await setBackend('wasm');
    const model = buildModel();
    const xv = rand([1, 16, 16, 3], 12);
    const tv = rand([1, 8, 8, 7], 13);
    const step = (): tf.Tensor[] => {
      const x = tf.tensor4d(xv, [1, 16, 16, 3]);
      const t = tf.tensor4d(tv, [1, 8, 8, 7]);
      const { value, grads } = tf.variableGrads(() => {
        const y = model.apply(x, { training: true }) as tf.Tensor;
        return tf.mean(tf.square(tf.sub(tf.sigmoid(y), t))) as tf.Scalar;
      });
      return [value, ...model.trainableWeights.map((w) => grads[(w as unknown as { val: tf.Variable }).val.name])];
    };
    const ref = await on('cpu', step);
    const got = await on('wasm', step);
    expect(got.length).toBe(model.trainableWeights.length + 1);
    // Each weight's error relative to its own gradient scale; a floor of 1e-3 x the largest
    // gradient, since a conv bias followed by batch norm has an analytically zero gradient.
    const scales = ref.map((r) => Math.max(...Array.from(r).map(Math.abs)));
    const floor = 1e-3 * Math.max(...scales);
    const perWeight: Record<string, number> = {};
    got.forEach((g, i) => {
      let e = 0;
      for (let j = 0; j < g.length; j++) e = Math.max(e, Math.abs(g[j] - ref[i][j]));
      perWeight[i === 0 ? 'loss' : model.trainableWeights[i - 1].name] = e / Math.max(scales[i], floor);
    });
    const worst = Math.max(...Object.values(perWeight));
    errors['end-to-end (worst per-weight relative)'] = worst;
    if (worst >= 1e-4) console.log(perWeight); // eslint-disable-line no-console
    expect(worst).toBeLessThan(1e-4);

    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      tf.dispose(tf.tidy(step));
      counts.push(tf.memory().numTensors - before);
    }
    expect(counts).toEqual([0, 0, 0]);
    model.dispose();
  });
});
