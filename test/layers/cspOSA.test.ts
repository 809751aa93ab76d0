import * as tf from '@tensorflow/tfjs';
import { cspOSABlock } from '../../src/layers/cspOSA';

describe('cspOSABlock', () => {
  it('has the yolov4-tiny block shapes, names and parameter count (first block, 104x104x64)', () => {
    const inp = tf.input({ shape: [104, 104, 64] });
    const r = cspOSABlock(inp, { filters: 64, cfgIndex: 2 });
    const m = tf.model({ inputs: inp, outputs: [r.output, r.tap, r.first] });
    expect(r.output.shape).toEqual([null, 52, 52, 128]);
    expect(r.tap.shape).toEqual([null, 104, 104, 64]);
    expect(r.first.shape).toEqual([null, 104, 104, 64]);
    // convs (no bias) + 4 BN values per channel: 3x3 64->64, 3x3 32->32, 3x3 32->32, 1x1 64->64
    const expected = 9 * 64 * 64 + 9 * 32 * 32 + 9 * 32 * 32 + 64 * 64 + 4 * (64 + 32 + 32 + 64);
    expect(m.countParams()).toBe(expected);
    const names = m.layers.map((l) => l.name);
    for (const n of ['conv_2_conv', 'route_3', 'conv_4_conv', 'conv_5_conv', 'route_6', 'conv_7_conv', 'conv_7_bn', 'route_8', 'maxpool_9']) {
      expect(names).toContain(n);
    }
    // the 1x1 conv has no padding layer; the 3x3 ones do
    expect(names).not.toContain('conv_7_pad');
    expect(names).toContain('conv_4_pad');
    m.dispose();
  });

  it('routes the SECOND half of the channels and concatenates (d, b) then (a, f)', () => {
    const inp = tf.input({ shape: [2, 2, 2] });
    const r = cspOSABlock(inp, { filters: 2, name: 'blk', l2: 0 });
    const m = tf.model({ inputs: inp, outputs: r.output });
    // make every conv an identity-like map with BN as identity, linear-ish (leaky keeps positives)
    for (const l of m.layers) {
      if (l.name.endsWith('_bn')) l.setWeights([tf.ones([l.getWeights()[0].shape[0]]), tf.zeros(l.getWeights()[1].shape), tf.zeros(l.getWeights()[2].shape), tf.fill(l.getWeights()[3].shape, 1 - 1e-5)]);
    }
    const setKernel = (name: string, k: number[][][][]) => m.getLayer(name).setWeights([tf.tensor4d(k)]);
    // conv0 3x3 2->2: centre tap identity
    const id3 = (cin: number, cout: number, f: (i: number, o: number) => number) =>
      Array.from({ length: 3 }, (_, a) => Array.from({ length: 3 }, (_, b) =>
        Array.from({ length: cin }, (_, i) => Array.from({ length: cout }, (_, o) => (a === 1 && b === 1 ? f(i, o) : 0)))));
    setKernel('blk_conv0_conv', id3(2, 2, (i, o) => (i === o ? 1 : 0)));
    setKernel('blk_conv2_conv', id3(1, 1, () => 10)); // b = 10 * a[1]
    setKernel('blk_conv3_conv', id3(1, 1, () => 100)); // d = 100 * b
    // 1x1 on concat(d, b) -> f = [d, b] (identity)
    setKernel('blk_conv5_conv', [[[[1, 0], [0, 1]]]]);
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const y = m.predict(x) as tf.Tensor;
    // max over the 2x2 window of [a0, a1, d, b] = [7, 8, 8000, 80]
    expect(Array.from(y.dataSync()).map((v) => Math.round(v))).toEqual([7, 8, 8000, 80]);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('rejects odd filters', () => {
    const inp = tf.input({ shape: [4, 4, 3] });
    expect(() => cspOSABlock(inp, { filters: 3 })).toThrow(/filters must be an even integer/);
  });
});
