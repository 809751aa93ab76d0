import * as tf from '@tensorflow/tfjs';
import { staticSameMaxPool } from '../../src/layers/staticSameMaxPool';
import { tfSamePadding } from '../../src/layers/tfSamePadding';

describe('tfSamePadding', () => {
  it('follows TF SAME: extra pixel after (right/bottom)', () => {
    expect(tfSamePadding(512, 3, 2)).toEqual([0, 1]);
    expect(tfSamePadding(512, 5, 2)).toEqual([1, 2]);
    expect(tfSamePadding(64, 3, 1)).toEqual([1, 1]);
    expect(tfSamePadding(64, 5, 1)).toEqual([2, 2]);
    expect(tfSamePadding(64, 1, 1)).toEqual([0, 0]);
    expect(tfSamePadding(5, 3, 2)).toEqual([1, 1]);
    expect(tfSamePadding(1, 3, 2)).toEqual([1, 1]);
  });
  it.each([
    [3, 2, 8],
    [5, 2, 8],
    [3, 2, 7],
    [5, 1, 6],
  ])("tfjs 'same' conv / depthwise (k%i s%i, n=%i) pads exactly as upstream's Conv2dStaticSamePadding", (k, s, n) => {
    const x = tf.randomNormal([1, n, n, 2]) as tf.Tensor4D;
    const [b, a] = tfSamePadding(n, k, s);
    const padded = tf.pad(x, [[0, 0], [b, a], [b, a], [0, 0]]);
    const w = tf.randomNormal([k, k, 2, 3]) as tf.Tensor4D;
    const dw = tf.randomNormal([k, k, 2, 1]) as tf.Tensor4D;
    const d1 = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.conv2d(x, w, s, 'same'), tf.conv2d(padded, w, s, 'valid')))).dataSync()[0]);
    const d2 = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.depthwiseConv2d(x, dw, s, 'same'), tf.depthwiseConv2d(padded, dw, s, 'valid')))).dataSync()[0]);
    expect(d1).toBeLessThan(1e-5);
    expect(d2).toBeLessThan(1e-5);
    tf.dispose([x, padded, w, dw]);
  });

  it('rejects bad sizes', () => {
    expect(() => tfSamePadding(0, 3, 2)).toThrow(/n must be an integer >= 1/);
    expect(() => tfSamePadding(4, 3, 1.5)).toThrow(/stride must be/);
  });
});

/** Reference: zero-pad (before, after) then 'valid' 3x3/2 max, single channel, in plain JS. */
function refPool(x: number[][], k = 3, s = 2): number[][] {
  const n = x.length;
  const [b] = tfSamePadding(n, k, s);
  const out = Math.ceil(n / s);
  const at = (i: number, j: number) => (i < 0 || j < 0 || i >= n || j >= n ? 0 : x[i][j]);
  return Array.from({ length: out }, (_, oi) =>
    Array.from({ length: out }, (_, oj) => {
      let m = -Infinity;
      for (let di = 0; di < k; di++) for (let dj = 0; dj < k; dj++) m = Math.max(m, at(oi * s + di - b, oj * s + dj - b));
      return m;
    }),
  );
}

describe('staticSameMaxPool (zylo117 MaxPool2dStaticSamePadding)', () => {
  it.each([[4], [5], [8]])('pads with ZEROS (not -inf) on a %i x %i all-negative map', async (n) => {
    const vals = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => -1 - i * n - j));
    const inp = tf.input({ shape: [n, n, 1] });
    const m = tf.model({ inputs: inp, outputs: staticSameMaxPool(inp, { name: 'pool' }) });
    const x = tf.tensor4d(vals.flat(), [1, n, n, 1]);
    const y = m.predict(x) as tf.Tensor;
    const ref = refPool(vals);
    expect(y.shape).toEqual([1, ref.length, ref.length, 1]);
    expect(Array.from(y.dataSync())).toEqual(ref.flat());
    // and it differs from TF's 'same' max-pool, which ignores the padding
    const tfSame = tf.maxPool(x, 3, 2, 'same');
    expect(Array.from(tfSame.dataSync())).not.toEqual(ref.flat());
    tf.dispose([x, y, tfSame]);
    m.dispose();
  });

  it('needs known spatial dims', () => {
    const inp = tf.input({ shape: [null, null, 4] });
    expect(() => staticSameMaxPool(inp, { name: 'p' })).toThrow(/height and width must be known/);
  });
});
