import * as tf from '@tensorflow/tfjs';
import { WeightedFusion } from '../../src/layers/weightedFusion';

function fusionModel(n: number, attention = true) {
  const ins = Array.from({ length: n }, () => tf.input({ shape: [2, 2, 3] }));
  const layer = new WeightedFusion({ name: 'fuse', attention });
  const out = layer.apply(ins) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: ins, outputs: out }), layer };
}

describe('WeightedFusion (fast normalised fusion)', () => {
  it('computes sum_i relu(w_i)/(sum relu(w) + 1e-4) * x_i, with a trainable [n] weight', () => {
    const { model, layer } = fusionModel(3);
    expect(model.outputs[0].shape).toEqual([null, 2, 2, 3]);
    expect(model.trainableWeights.map((w) => w.shape)).toEqual([[3]]);
    expect(model.countParams()).toBe(3);
    layer.setWeights([tf.tensor1d([0.5, -2, 1.5])]);
    const xs = [tf.fill([1, 2, 2, 3], 2), tf.fill([1, 2, 2, 3], 100), tf.fill([1, 2, 2, 3], -1)];
    const y = model.predict(xs) as tf.Tensor;
    // relu -> [0.5, 0, 1.5], sum 2 -> weights [0.5, 0, 1.5] / 2.0001
    const expected = (0.5 * 2 + 0 * 100 + 1.5 * -1) / 2.0001;
    for (const v of y.dataSync()) expect(v).toBeCloseTo(expected, 6);
    const w = layer.normalisedWeights();
    expect(Array.from(w.dataSync()).map((v) => +v.toFixed(6))).toEqual([0.249988, 0, 0.749963]);
    tf.dispose([y, w, ...xs]);
    model.dispose();
  });

  it('without attention is a plain sum (the weight still exists, as upstream D6+)', () => {
    const { model, layer } = fusionModel(2, false);
    layer.setWeights([tf.tensor1d([7, -3])]);
    expect(model.countParams()).toBe(2);
    const xs = [tf.fill([1, 2, 2, 3], 2), tf.fill([1, 2, 2, 3], 0.25)];
    const y = model.predict(xs) as tf.Tensor;
    expect(Array.from(y.dataSync()).every((v) => v === 2.25)).toBe(true);
    tf.dispose([y, ...xs]);
    model.dispose();
  });

  it('survives serialisation (class registered, config kept) and leaks no tensors', async () => {
    const { model, layer } = fusionModel(2);
    layer.setWeights([tf.tensor1d([0.3, 1.7])]);
    const m2 = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as object } as tf.io.ModelJSON);
    const l2 = m2.getLayer('fuse') as WeightedFusion;
    expect(l2.getClassName()).toBe('YoloTfjsWeightedFusion');
    expect(l2.epsilon).toBe(1e-4);
    expect(l2.attention).toBe(true);
    m2.setWeights(model.getWeights());
    const xs = [tf.randomNormal([1, 2, 2, 3]), tf.randomNormal([1, 2, 2, 3])];
    const a = model.predict(xs) as tf.Tensor;
    const b = m2.predict(xs) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(model.predict(xs) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
    model.dispose();
    m2.dispose();
  });

  it('is trainable: gradients flow to the fusion weights', () => {
    const { model, layer } = fusionModel(2);
    const xs = [tf.fill([1, 2, 2, 3], 1), tf.fill([1, 2, 2, 3], 3)];
    const { grads } = tf.variableGrads(() => tf.sum(model.apply(xs) as tf.Tensor) as tf.Scalar, layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    const g = Object.values(grads)[0];
    expect(g.shape).toEqual([2]);
    const gv = g.dataSync();
    // d/dw0 of 12*(w0*1 + w1*3)/(w0+w1+eps) at w = [1, 1] is negative, d/dw1 positive
    expect(gv[0]).toBeLessThan(0);
    expect(gv[1]).toBeGreaterThan(0);
    tf.dispose([...xs, ...Object.values(grads)]);
    model.dispose();
  });

  it('rejects a single input (bare or in a list) and mismatched shapes with clear errors', () => {
    const a = tf.input({ shape: [2, 2, 3] });
    const b = tf.input({ shape: [4, 4, 3] });
    expect(() => new WeightedFusion({ name: 'f1' }).apply(a)).toThrow(/list of at least 2 inputs/);
    expect(() => new WeightedFusion({ name: 'f2' }).apply([a])).toThrow(/at least 2 inputs/);
    expect(() => new WeightedFusion({ name: 'f3' }).apply([a, b])).toThrow(/same shape/);
  });
});
