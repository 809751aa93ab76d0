// The wasm heap kernels of the training path (Slice, Reverse, MaxPoolGrad) give exactly the
// cpu backend's values.
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../src/train/wasmGradients';
import { setBackend } from '../../src/backend';
import { mulberry32 } from '../../src/util/random';

function values(n: number, seed: number, ties = false): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (ties ? Math.max(0, Math.round((rng() * 2 - 1) * 2) / 2) : rng() * 2 - 1));
}

/** `f` on cpu and on wasm (our kernels registered): outputs' values and shapes. */
async function both(f: () => tf.Tensor): Promise<{ cpu: { v: ArrayLike<unknown>; shape: number[]; dtype: string }; wasm: { v: ArrayLike<unknown>; shape: number[]; dtype: string } }> {
  const run = () => {
    const t = tf.tidy(f);
    const r = { v: t.dataSync() as ArrayLike<unknown>, shape: t.shape, dtype: t.dtype as string };
    t.dispose();
    return r;
  };
  await setBackend('cpu');
  const cpu = run();
  await setBackend('wasm');
  registerWasmTrainingKernels();
  const before = tf.memory().numTensors;
  const wasm = run();
  expect(tf.memory().numTensors).toBe(before);
  return { cpu, wasm };
}

afterAll(async () => {
  await setBackend('wasm');
});

describe('Slice on the wasm heap', () => {
  const cases: [string, number[], number[], number[], tf.DataType][] = [
    // [name, x shape, begin, size, dtype]
    ['NHWC spatial crop, 3 channels (short runs merged with W)', [2, 9, 10, 3], [0, 1, 0, 0], [2, 7, 10, 3], 'float32'],
    ['NHWC crop of H and W', [2, 9, 10, 3], [1, 2, 3, 0], [1, 5, 6, 3], 'float32'],
    ['channel split (ShuffleNet), short runs', [2, 5, 6, 10], [0, 0, 0, 5], [2, 5, 6, 5], 'float32'],
    ['channel slice, long runs', [1, 3, 4, 150], [0, 0, 0, 70], [1, 3, 4, 80], 'float32'],
    ['whole tensor', [2, 3, 4, 5], [0, 0, 0, 0], [2, 3, 4, 5], 'float32'],
    ['-1 size (to the end)', [2, 3, 4, 5], [1, 1, 2, 1], [-1, -1, -1, -1], 'float32'],
    ['rank 1', [100], [17], [40], 'float32'],
    ['rank 2 columns', [7, 9], [2, 3], [4, 5], 'int32'],
    ['rank 3', [4, 5, 6], [1, 0, 2], [2, 5, 3], 'float32'],
    ['rank 5 (anchor-major heads)', [2, 3, 4, 5, 6], [0, 1, 0, 1, 2], [2, 2, 4, 3, 4], 'float32'],
    ['rank 6', [2, 2, 3, 2, 3, 4], [1, 0, 1, 0, 1, 1], [1, 2, 2, 2, 2, 3], 'float32'],
    ['bool', [3, 4, 5], [1, 1, 1], [2, 2, 3], 'bool'],
    ['empty', [3, 4], [1, 1], [0, 2], 'float32'],
  ];
  it.each(cases)('%s', async (_, shape, begin, size, dtype) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = values(n, 3);
    const { cpu, wasm } = await both(() => {
      const x = dtype === 'bool' ? tf.greater(tf.tensor(v, shape), 0) : dtype === 'int32' ? tf.tensor(Int32Array.from(v, (e) => Math.round(e * 100)), shape, 'int32') : tf.tensor(v, shape);
      return tf.slice(x, begin, size);
    });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(wasm.dtype).toBe(cpu.dtype);
    expect(Array.from(wasm.v)).toEqual(Array.from(cpu.v));
  });

  it('strings still go to the wasm backend\'s own Slice', async () => {
    await setBackend('wasm');
    registerWasmTrainingKernels();
    const s = tf.tensor2d([['a', 'b', 'c'], ['d', 'e', 'f']]);
    const r = tf.slice(s, [0, 1], [2, 2]);
    expect(r.arraySync()).toEqual([['b', 'c'], ['e', 'f']]);
    tf.dispose([s, r]);
  });
});

describe('Reverse on the wasm heap', () => {
  const cases: [string, number[], number[], tf.DataType][] = [
    // [name, x shape, axes, dtype]
    ['conv filter flip (axes 0, 1), long runs', [3, 3, 8, 16], [0, 1], 'float32'],
    ['conv filter flip, short runs', [5, 3, 2, 3], [0, 1], 'float32'],
    ['last axis (runs of 1)', [4, 7], [1], 'float32'],
    ['every axis', [2, 3, 4], [0, 1, 2], 'int32'],
    ['middle axis', [2, 5, 3, 2], [1], 'float32'],
    ['negative axis', [3, 4, 5], [-1, 0], 'float32'],
    ['rank 1', [9], [0], 'float32'],
    ['bool', [3, 4], [0], 'bool'],
    ['no axes', [2, 3], [], 'float32'],
  ];
  it.each(cases)('%s', async (_, shape, axes, dtype) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = values(n, 5);
    const { cpu, wasm } = await both(() => {
      const x = dtype === 'bool' ? tf.greater(tf.tensor(v, shape), 0) : dtype === 'int32' ? tf.tensor(Int32Array.from(v, (e) => Math.round(e * 100)), shape, 'int32') : tf.tensor(v, shape);
      return tf.reverse(x, axes);
    });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(wasm.dtype).toBe(cpu.dtype);
    expect(Array.from(wasm.v)).toEqual(Array.from(cpu.v));
  });
});

describe('MaxPoolGrad on the wasm heap', () => {
  const pools: [string, number[], number, number, 'same' | 'valid', boolean][] = [
    // larger than the composed-op tests: every row/column edge case of a stem pool
    ['3x3 s2 same, ReLU-like ties (ShuffleNet stem)', [2, 23, 21, 12], 3, 2, 'same', true],
    ['3x3 s2 valid', [1, 15, 17, 5], 3, 2, 'valid', false],
    ['2x2 s2 valid, odd size', [2, 13, 11, 4], 2, 2, 'valid', true],
    ['2x2 s1 same', [1, 9, 9, 6], 2, 1, 'same', true],
    ['5x5 s1 same (SPP)', [1, 8, 7, 3], 5, 1, 'same', false],
  ];
  it.each(pools)('%s', async (_, xs, k, s, pad, ties) => {
    const n = xs.reduce((a, b) => a * b, 1);
    const xv = values(n, 11, ties);
    const { cpu, wasm } = await both(() => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const y = tf.maxPool(x, k, s, pad);
      const dy = tf.tensor(values(y.size, 12), y.shape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), dy)))(x);
    });
    expect(wasm.shape).toEqual(cpu.shape);
    const a = wasm.v as Float32Array;
    const b = cpu.v as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    // sums of up to 4 overlapping windows in another order: float rounding only
    expect(worst).toBeLessThan(1e-6);
  });

  it('a dy of the wrong shape is a clear error', async () => {
    await setBackend('wasm');
    registerWasmTrainingKernels();
    const x = tf.zeros([1, 4, 4, 1]);
    const dy = tf.zeros([1, 3, 3, 1]);
    expect(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: dy }, { filterSize: 2, strides: 2, pad: 'valid' })).toThrow(/dy has shape \[1,3,3,1\]/);
    tf.dispose([x, dy]);
  });
});
