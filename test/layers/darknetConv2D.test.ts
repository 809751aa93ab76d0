import * as tf from '@tensorflow/tfjs';
import {
  darknetConv2D,
  darknetConv2DBNLeaky,
  DarknetActivation,
} from '../../src/layers/darknetConv2D';
import { compose } from '../../src/layers/compose';

function model(inShape: number[], f: (x: tf.SymbolicTensor) => tf.SymbolicTensor): tf.LayersModel {
  const x = tf.input({ shape: inShape });
  return tf.model({ inputs: x, outputs: f(x) });
}

/** Naive NHWC conv with Darknet's symmetric zero padding, single image. */
function naiveConv(
  x: Float32Array, h: number, w: number, c: number,
  k: Float32Array /* HWIO */, size: number, filters: number, stride: number, pad: number,
): { data: Float32Array; oh: number; ow: number } {
  const oh = Math.floor((h + 2 * pad - size) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - size) / stride) + 1;
  const out = new Float32Array(oh * ow * filters);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let o = 0; o < filters; o++) {
        let s = 0;
        for (let di = 0; di < size; di++)
          for (let dj = 0; dj < size; dj++) {
            const yy = i * stride - pad + di;
            const xx = j * stride - pad + dj;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            for (let ci = 0; ci < c; ci++) s += x[(yy * w + xx) * c + ci] * k[((di * size + dj) * c + ci) * filters + o];
          }
        out[(i * ow + j) * filters + o] = s;
      }
  return { data: out, oh, ow };
}

describe('darknetConv2D', () => {
  it('pads size/2 on every side at stride 2 (416 -> 208) and has no bias with BN', () => {
    const m = model([416, 416, 3], darknetConv2D({ filters: 32, size: 3, stride: 2, batchNormalize: true, activation: 'leaky', name: 'c0' }));
    expect(m.outputs[0].shape).toEqual([null, 208, 208, 32]);
    // conv 3*3*3*32 (no bias) + BN 4*32 (gamma, beta, moving mean, moving variance)
    expect(m.countParams()).toBe(3 * 3 * 3 * 32 + 4 * 32);
    expect(m.layers.map((l) => l.name)).toEqual(['input1', 'c0_pad', 'c0_conv', 'c0_bn', 'c0_act'].map((n, i) => (i === 0 ? m.layers[0].name : n)));
    m.dispose();
  });

  it('has a bias without BN, and 1x1 convs get no padding layer', () => {
    const m = model([13, 13, 512], darknetConv2D({ filters: 255, size: 1, name: 'head' }));
    expect(m.outputs[0].shape).toEqual([null, 13, 13, 255]);
    expect(m.countParams()).toBe(512 * 255 + 255);
    expect(m.layers.map((l) => l.name).slice(1)).toEqual(['head_conv']);
    m.dispose();
  });

  it('matches a naive conv with symmetric padding at stride 2 (odd and even sizes)', () => {
    for (const [h, w] of [[7, 6], [6, 6]]) {
      const c = 2, filters = 3, size = 3;
      const m = model([h, w, c], darknetConv2D({ filters, size, stride: 2, name: `n${h}` }));
      const conv = m.getLayer(`n${h}_conv`);
      const kData = Float32Array.from({ length: size * size * c * filters }, (_, i) => Math.sin(i * 1.3));
      conv.setWeights([tf.tensor4d(kData, [size, size, c, filters]), tf.zeros([filters])]);
      const xData = Float32Array.from({ length: h * w * c }, (_, i) => Math.cos(i * 0.7));
      const y = m.predict(tf.tensor4d(xData, [1, h, w, c])) as tf.Tensor;
      const ref = naiveConv(xData, h, w, c, kData, size, filters, 2, 1);
      expect(y.shape).toEqual([1, ref.oh, ref.ow, filters]);
      const got = y.dataSync();
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - ref.data[i]));
      expect(max).toBeLessThan(1e-5);
      tf.dispose(y);
      m.dispose();
    }
  });

  it('explicit padding=N (Darknet pad=0 padding=N) pads N on every side', () => {
    const h = 5, w = 5, c = 1, filters = 1, size = 3;
    const m = model([h, w, c], darknetConv2D({ filters, size, stride: 1, pad: false, padding: 2, name: 'pp' }));
    const kData = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    m.getLayer('pp_conv').setWeights([tf.tensor4d(kData, [3, 3, 1, 1]), tf.zeros([1])]);
    const xData = Float32Array.from({ length: 25 }, (_, i) => (i % 7) - 3);
    const y = m.predict(tf.tensor4d(xData, [1, h, w, c])) as tf.Tensor;
    const ref = naiveConv(xData, h, w, c, kData, size, filters, 1, 2);
    expect(y.shape).toEqual([1, 7, 7, 1]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(ref.data));
    tf.dispose(y);
    m.dispose();
    const none = model([5, 5, 1], darknetConv2D({ filters: 1, size: 3, pad: false, name: 'np' }));
    expect(none.outputs[0].shape).toEqual([null, 3, 3, 1]);
    none.dispose();
    expect(() => darknetConv2D({ filters: 1, size: 3, padding: -1 })).toThrow(/padding must be an integer >= 0, got -1/);
  });

  it('uses BN epsilon 1e-5 and leaky slope 0.1', () => {
    const m = model([1, 1, 1], darknetConv2D({ filters: 1, size: 1, batchNormalize: true, activation: 'leaky', name: 'e' }));
    m.getLayer('e_conv').setWeights([tf.ones([1, 1, 1, 1])]);
    // gamma 1, beta 0, mean 0, var 0: y = x / sqrt(1e-5)
    m.getLayer('e_bn').setWeights([tf.ones([1]), tf.zeros([1]), tf.zeros([1]), tf.zeros([1])]);
    const y = m.predict(tf.tensor4d([0.01, -0.01], [2, 1, 1, 1])) as tf.Tensor;
    const [pos, neg] = Array.from(y.dataSync());
    expect(pos).toBeCloseTo(0.01 / Math.sqrt(1e-5), 4);
    expect(neg).toBeCloseTo((-0.01 / Math.sqrt(1e-5)) * 0.1, 4);
    tf.dispose(y);
    m.dispose();
  });

  it('builds depthwise convs when groups == in == filters', () => {
    const m = model([20, 20, 8], darknetConv2D({ filters: 8, size: 3, stride: 2, groups: 8, batchNormalize: true, activation: 'linear', name: 'dw' }));
    expect(m.outputs[0].shape).toEqual([null, 10, 10, 8]);
    expect(m.countParams()).toBe(3 * 3 * 8 + 4 * 8);
    expect(m.getLayer('dw_conv').getClassName()).toBe('DepthwiseConv2D');
    m.dispose();
  });

  it('supports every Darknet activation', () => {
    const acts: DarknetActivation[] = ['leaky', 'linear', 'relu', 'mish', 'swish', 'logistic'];
    const xs = [-3, -0.5, 0, 0.7, 4];
    const ref: Record<DarknetActivation, (v: number) => number> = {
      leaky: (v) => (v > 0 ? v : 0.1 * v),
      linear: (v) => v,
      relu: (v) => Math.max(0, v),
      mish: (v) => v * Math.tanh(Math.log1p(Math.exp(v))),
      swish: (v) => v / (1 + Math.exp(-v)),
      logistic: (v) => 1 / (1 + Math.exp(-v)),
    };
    for (const a of acts) {
      const m = model([1, 1, 1], darknetConv2D({ filters: 1, size: 1, activation: a, name: `a_${a}` }));
      m.getLayer(`a_${a}_conv`).setWeights([tf.ones([1, 1, 1, 1]), tf.zeros([1])]);
      const y = m.predict(tf.tensor4d(xs, [5, 1, 1, 1])) as tf.Tensor;
      const got = Array.from(y.dataSync());
      got.forEach((g, i) => expect(Math.abs(g - ref[a](xs[i]))).toBeLessThan(1e-5));
      tf.dispose(y);
      m.dispose();
    }
  });

  it('rejects unsupported groups and activations with a clear error', () => {
    const x = tf.input({ shape: [8, 8, 8] });
    expect(() => darknetConv2D({ filters: 16, size: 3, groups: 2, name: 'g' })(x)).toThrow(/groups=2/);
    expect(() => darknetConv2D({ filters: 16, size: 3, activation: 'elu' as DarknetActivation, name: 'bad' })).toThrow(/unsupported activation 'elu'/);
    expect(() => darknetConv2D({ filters: 0, size: 3 })).toThrow(/filters must be a positive integer/);
  });

  it('darknetConv2DBNLeaky + compose chain like keras-yolo3 (with L2 5e-4)', () => {
    const m = model(
      [32, 32, 3],
      compose(darknetConv2DBNLeaky(16, 3, { name: 'k1' }), darknetConv2DBNLeaky(32, 3, { stride: 2, name: 'k2' })),
    );
    expect(m.outputs[0].shape).toEqual([null, 16, 16, 32]);
    expect(m.countParams()).toBe(3 * 3 * 3 * 16 + 4 * 16 + 3 * 3 * 16 * 32 + 4 * 32);
    const cfg = m.getLayer('k1_conv').getConfig() as { useBias: boolean; kernelRegularizer: { config: { l2: number } } };
    expect(cfg.useBias).toBe(false);
    expect(cfg.kernelRegularizer.config.l2).toBeCloseTo(5e-4, 10);
    expect(m.getLayer('k1_act').getConfig().alpha).toBeCloseTo(0.1, 7);
    expect(() => compose()).toThrow(/at least one/);
    m.dispose();
  });
});
