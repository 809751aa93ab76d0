/**
 * Grouped convolutions from a cfg (general groups, depthwise with a channel multiplier) against
 * a naive implementation of Darknet's grouped conv working directly on the OIHW file data.
 */
import * as tf from '@tensorflow/tfjs';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { readDarknetWeights, darknetWeightsFloatCount } from '../../src/weights/readDarknetWeights';
import { buildDarknetModel, setDarknetWeights } from '../../src/models/darknet/darknetCfg';
import { groupedConvKind } from '../../src/layers/darknetGroupedConv2D';

function cfgText(c: number, groups: number, filters: number, stride: number, bn: boolean): string {
  return `[net]\nwidth=7\nheight=6\nchannels=${c}\n[convolutional]\nbatch_normalize=${bn ? 1 : 0}\n` +
    `groups=${groups}\nfilters=${filters}\nsize=3\nstride=${stride}\npad=1\nactivation=linear\n` +
    `[yolo]\nmask=0\nanchors=1,1\nclasses=${filters - 5}\nnum=1\n`;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Darknet grouped conv + BN, NHWC in and out, weights straight from the file (OIHW). */
function naive(
  x: Float32Array, h: number, w: number, c: number, f: Float32Array,
  n: number, groups: number, stride: number, bn: boolean,
): Float32Array {
  const k = 3;
  const p = 1;
  const oh = Math.floor((h + 2 * p - k) / stride) + 1;
  const ow = Math.floor((w + 2 * p - k) / stride) + 1;
  const cg = c / groups;
  const ng = n / groups;
  const biases = f.subarray(0, n);
  const scales = f.subarray(n, 2 * n);
  const mean = f.subarray(2 * n, 3 * n);
  const variance = f.subarray(3 * n, 4 * n);
  const W = f.subarray(bn ? 4 * n : n);
  const out = new Float32Array(oh * ow * n);
  for (let o = 0; o < n; o++) {
    const g = Math.floor(o / ng);
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let ci = 0; ci < cg; ci++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const yy = i * stride - p + ky;
              const xx = j * stride - p + kx;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              s += W[((o * cg + ci) * k + ky) * k + kx] * x[(yy * w + xx) * c + g * cg + ci];
            }
        const v = bn ? ((s - mean[o]) / Math.sqrt(variance[o] + 1e-5)) * scales[o] + biases[o] : s + biases[o];
        out[(i * ow + j) * n + o] = v;
      }
  }
  return out;
}

describe('grouped Darknet convolutions', () => {
  const cases: [string, number, number, number, number, boolean][] = [
    ['general groups=2 (4 -> 8), stride 2, bias', 4, 2, 8, 2, false],
    ['general groups=3 (6 -> 9), BN', 6, 3, 9, 1, true],
    ['depthwise multiplier 2 (3 -> 6), BN', 3, 3, 6, 1, true],
    ['depthwise multiplier 1 (6 -> 6), bias', 6, 6, 6, 1, false],
  ];
  test.each(cases)('%s', (_label, c, groups, n, stride, bn) => {
    const text = cfgText(c, groups, n, stride, bn);
    const cfg = parseDarknetCfg(text);
    const floats = darknetWeightsFloatCount(cfg);
    expect(floats).toBe(n * (bn ? 4 : 1) + n * (c / groups) * 9);
    const rnd = lcg(c * 100 + groups);
    const buf = new ArrayBuffer(20 + 4 * floats);
    new Int32Array(buf, 0, 3).set([0, 2, 5]);
    const f = new Float32Array(buf, 20, floats);
    for (let i = 0; i < floats; i++) f[i] = 0.25 + rnd();
    const model = buildDarknetModel(cfg);
    try {
      setDarknetWeights(model, cfg, readDarknetWeights(new Uint8Array(buf), cfg).tensors);
      expect(model.countParams()).toBe(floats);
      const xData = new Float32Array(6 * 7 * c).map(() => rnd() - 0.5);
      const y = tf.tidy(() => (model.predict(tf.tensor4d(xData, [1, 6, 7, c])) as tf.Tensor).dataSync());
      const ref = naive(xData, 6, 7, c, f, n, groups, stride, bn);
      expect(y.length).toBe(ref.length);
      let err = 0;
      for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
      expect(err).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  test('groupedConvKind', () => {
    expect(groupedConvKind(8, 8, 1)).toBe('plain');
    expect(groupedConvKind(8, 16, 8)).toBe('depthwise');
    expect(groupedConvKind(8, 16, 2)).toBe('grouped');
  });
});
