import * as tf from '@tensorflow/tfjs';
import { Mish, Swish, mish } from '../../src/layers/mish';

/** Darknet's mish in double: softplus threshold 20. */
function refMish(x: number): number {
  const sp = x > 20 ? x : x < -20 ? Math.exp(x) : Math.log(Math.exp(x) + 1);
  return x * Math.tanh(sp);
}

describe('Mish', () => {
  const xs = [-100, -25, -20.5, -5, -1, -1e-3, 0, 1e-3, 0.5, 3, 19.9, 20.5, 90, 1000];

  it('matches Darknet mish including the softplus thresholds and large inputs', () => {
    const y = mish(tf.tensor1d(xs));
    const got = y.dataSync();
    xs.forEach((x, i) => {
      const r = refMish(x);
      expect(Math.abs(got[i] - r)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(r)));
    });
    expect(Array.from(got).every(Number.isFinite)).toBe(true);
    y.dispose();
  });

  it('is a registered layer that survives serialisation, and leaks no tensors', async () => {
    const inp = tf.input({ shape: [4] });
    const out = new Swish({ name: 'sw' }).apply(new Mish({ name: 'mi' }).apply(inp)) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    expect(m.outputs[0].shape).toEqual([null, 4]);
    expect(m.countParams()).toBe(0);
    const json = m.toJSON(null, false) as object;
    const m2 = await tf.models.modelFromJSON({ modelTopology: json } as tf.io.ModelJSON);
    expect(m2.getLayer('mi').getClassName()).toBe('YoloTfjsMish');
    const x = tf.tensor2d([[-2, -0.1, 0.3, 5]]);
    const a = m.predict(x) as tf.Tensor;
    const b = m2.predict(x) as tf.Tensor;
    const expected = [-2, -0.1, 0.3, 5].map((v) => {
      const mv = refMish(v);
      return mv / (1 + Math.exp(-mv));
    });
    Array.from(a.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(expected[i], 5));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(m.predict(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
    m2.dispose();
  });
});
