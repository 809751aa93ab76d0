import * as tf from '@tensorflow/tfjs';
import { mbConvBlock } from '../../src/layers/mbConvBlock';

const count = (m: tf.LayersModel) => m.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);

/** Trainable parameters of an MBConv block by upstream's module list (PyTorch parameters()). */
function expectedParams(inF: number, outF: number, k: number, e: number): number {
  const oup = inF * e;
  const sq = Math.max(1, Math.trunc(inF * 0.25));
  const expand = e !== 1 ? inF * oup + 2 * oup : 0;
  return expand + k * k * oup + 2 * oup + (oup * sq + sq) + (sq * oup + oup) + oup * outF + 2 * outF;
}

describe('mbConvBlock', () => {
  it.each([
    [16, 24, 3, 2, 6, [8, 8, 24]],
    [32, 16, 3, 1, 1, [16, 16, 16]],
    [40, 40, 5, 1, 6, [16, 16, 40]],
  ])('in %i out %i k%i s%i e%i: output shape and parameter count', (inF, outF, k, s, e, shape) => {
    const inp = tf.input({ shape: [16, 16, inF] });
    const out = mbConvBlock(inp, { name: 'b', inputFilters: inF, outputFilters: outF, kernelSize: k, stride: s, expandRatio: e, seRatio: 0.25 });
    const m = tf.model({ inputs: inp, outputs: out });
    expect(out.shape).toEqual([null, ...shape]);
    expect(count(m)).toBe(expectedParams(inF, outF, k, e));
    expect(m.layers.some((l) => l.name === 'b.skip')).toBe(inF === outF && s === 1);
    expect(m.layers.some((l) => l.name === 'b._expand_conv')).toBe(e !== 1);
    m.dispose();
  });

  it('computes expand -> BN -> swish -> depthwise -> BN -> swish -> SE -> project -> BN -> + input', () => {
    const [H, C, E] = [5, 8, 2];
    const inp = tf.input({ shape: [H, H, C] });
    const out = mbConvBlock(inp, { name: 'b', inputFilters: C, outputFilters: C, kernelSize: 3, stride: 1, expandRatio: E, seRatio: 0.25 });
    const m = tf.model({ inputs: inp, outputs: out });
    // random weights everywhere, including BN statistics (variance positive)
    m.setWeights(m.weights.map((w) => (w.name.includes('moving_variance') ? tf.randomUniform(w.shape as number[], 0.5, 1.5) : tf.randomNormal(w.shape as number[], 0, 0.5))));
    const W = (layer: string) => m.getLayer(layer).getWeights();
    const bn = (x: tf.Tensor, l: string) => {
      const [g, b, mu, v] = W(l);
      return tf.batchNorm(x, mu, v, b, g, 1e-3);
    };
    const swish = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
    const x = tf.randomNormal([2, H, H, C]) as tf.Tensor4D;
    const ref = tf.tidy(() => {
      let y = swish(bn(tf.conv2d(x, W('b._expand_conv')[0] as tf.Tensor4D, 1, 'same'), 'b._bn0')) as tf.Tensor4D;
      y = swish(bn(tf.depthwiseConv2d(y, W('b._depthwise_conv')[0] as tf.Tensor4D, 1, 'same'), 'b._bn1')) as tf.Tensor4D;
      const [rk, rb] = W('b._se_reduce');
      const [ek, eb] = W('b._se_expand');
      const sq = tf.mean(y, [1, 2], true) as tf.Tensor4D;
      const se = tf.sigmoid(tf.add(tf.conv2d(swish(tf.add(tf.conv2d(sq, rk as tf.Tensor4D, 1, 'valid'), rb)) as tf.Tensor4D, ek as tf.Tensor4D, 1, 'valid'), eb));
      y = tf.mul(y, se) as tf.Tensor4D;
      return tf.add(bn(tf.conv2d(y, W('b._project_conv')[0] as tf.Tensor4D, 1, 'same'), 'b._bn2'), x);
    });
    const got = m.predict(x) as tf.Tensor;
    const d = tf.max(tf.abs(tf.sub(got, ref))).dataSync()[0];
    expect(d).toBeLessThan(1e-5);
    tf.dispose([x, got, ref]);
    m.dispose();
  });

  it('names the problem on bad options', () => {
    const inp = tf.input({ shape: [8, 8, 16] });
    expect(() => mbConvBlock(inp, { name: 'x', inputFilters: 24, outputFilters: 24, kernelSize: 3, stride: 1, expandRatio: 6 })).toThrow(
      /input has 16 channels, expected inputFilters 24/,
    );
    expect(() => mbConvBlock(inp, { name: 'y', inputFilters: 16, outputFilters: 24, kernelSize: 0, stride: 1, expandRatio: 6 })).toThrow(/kernelSize must be/);
    expect(() => mbConvBlock(inp, { name: 'z', inputFilters: 16, outputFilters: 24, kernelSize: 3, stride: 1, expandRatio: 6, skip: true })).toThrow(
      /skip needs stride 1/,
    );
  });
});
