// The closed-form BatchNormalization training gradient equals tfjs autodiff of tfjs-layers' own
// training call: same outputs and moving statistics, gradients to float rounding (max error
// relative to the largest reference value below 1e-4; the sums run in another order).
import * as tf from '@tensorflow/tfjs';
import { batchNormTrainingGradInstalled, installBatchNormTrainingGrad, setBatchNormTrainingGrad } from '../../src/train/batchNormTrainingGrad';
import { registerTrainingKernelsForBackend } from '../../src/train/wasmGradients';
import { setBackend } from '../../src/backend';
import { modelVariables } from '../../src/train/ema';
import { mulberry32 } from '../../src/util/random';

function values(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (rng() * 2 - 1));
}

/** conv -> BN -> relu -> depthwise -> BN; weights seeded. */
function buildNet(): tf.LayersModel {
  const inp = tf.input({ shape: [6, 5, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }).apply(inp) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3, name: 'bn3' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: inp, outputs: x });
  m.weights.forEach((w, i) => {
    const v = w.read();
    const isVar = /moving_variance/.test(w.name);
    w.write(tf.tensor(values(v.size, 100 + i, isVar ? 0.5 : 1, isVar ? 1 : 0), v.shape));
  });
  return m;
}

/** Gradients in the order of the model's trainable weights (variable names differ between two builds). */
interface StepOut { y: Float32Array; grads: [string, Float32Array][]; moving: Float32Array[] }

function step(model: tf.LayersModel, x: tf.Tensor, target: tf.Tensor): StepOut {
  const vars = modelVariables(model, true);
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
    const y = model.apply(x, { training: true }) as tf.Tensor;
    return tf.sum(tf.mul(tf.square(tf.sub(y, target)), tf.linspace(0.5, 1.5, y.size).reshape(y.shape)));
  }), vars);
  const yInf = model.apply(x, { training: true }) as tf.Tensor; // a second training call: outputs and stats again
  const out: StepOut = {
    y: yInf.dataSync() as Float32Array,
    grads: vars.map((v) => [v.name.replace(/_\d+$/, ''), grads[v.name].dataSync() as Float32Array]),
    moving: model.weights.filter((w) => /moving/.test(w.name)).map((w) => w.read().dataSync() as Float32Array),
  };
  tf.dispose([value, yInf, ...Object.values(grads)]);
  return out;
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let e = 0;
  let m = 1e-3;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

describe.each(['cpu', 'wasm'])('closed-form BatchNormalization training gradient on %s', (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
    registerTrainingKernelsForBackend(); // installs the closed form (and wasm's gradient kernels)
  });
  afterAll(() => setBatchNormTrainingGrad(true));

  it('installs once and only for training calls; the same outputs, moving statistics and (to rounding) gradients as tfjs-layers', () => {
    installBatchNormTrainingGrad();
    expect(batchNormTrainingGradInstalled()).toBe(true);
    const x = tf.tensor4d(values(2 * 6 * 5 * 3, 1), [2, 6, 5, 3]);
    const target = tf.tensor4d(values(2 * 6 * 5 * 4, 2), [2, 6, 5, 4]);
    setBatchNormTrainingGrad(false);
    const refModel = buildNet();
    const ref = step(refModel, x, target);
    setBatchNormTrainingGrad(true);
    const model = buildNet();
    const before = tf.memory().numTensors;
    const got = step(model, x, target);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRel(got.y, ref.y)).toBeLessThan(1e-6);
    got.moving.forEach((m, i) => expect(maxRel(m, ref.moving[i])).toBeLessThan(1e-6));
    expect(got.grads.map(([k]) => k)).toEqual(['c1/kernel', 'bn1/gamma', 'bn1/beta', 'dw/depthwise_kernel', 'bn3/gamma', 'bn3/beta']);
    expect(ref.grads.map(([k]) => k)).toEqual(got.grads.map(([k]) => k));
    got.grads.forEach(([k, g], i) => {
      const e = maxRel(g, ref.grads[i][1]);
      if (e > 1e-4) throw new Error(`gradient of ${k}: rel. error ${e}`);
    });
    // inference calls are tfjs-layers' own (moving statistics, no update)
    const inf = model.predict(x) as tf.Tensor;
    const infRef = refModel.predict(x) as tf.Tensor;
    expect(maxRel(inf.dataSync() as Float32Array, infRef.dataSync() as Float32Array)).toBe(0);
    tf.dispose([x, target, inf, infRef]);
    model.dispose();
    refModel.dispose();
  });

  it("keeps only its output (on wasm also a copy of x) on the autodiff tape: the batch moments' full-size intermediates are freed", () => {
    const shape = [2, 16, 16, 8];
    const layer = tf.layers.batchNormalization({ axis: -1 });
    layer.build(shape);
    const x = tf.tensor(values(2 * 16 * 16 * 8, 9), shape);
    /** Full-size tensors (other than x) the autodiff tape holds after the layer's forward. */
    const held = (on: boolean): number => {
      setBatchNormTrainingGrad(on);
      let n = 0;
      const g = tf.grad((xi: tf.Tensor) => {
        const y = layer.apply(xi, { training: true }) as tf.Tensor;
        const tape = (tf.engine() as unknown as { state: { activeTape: { outputs: tf.Tensor[]; saved?: tf.Tensor[] }[] } }).state.activeTape;
        const ids = new Set<object>();
        for (const node of tape) for (const t of [...node.outputs, ...(node.saved ?? [])]) if (t.size === xi.size && t.dataId !== xi.dataId) ids.add(t.dataId);
        n = ids.size;
        return tf.sum(y);
      })(x);
      g.dispose();
      setBatchNormTrainingGrad(true);
      return n;
    };
    const fast = held(true);
    const layers = held(false);
    // The output, and on wasm the saved copy of x (tfjs' clone copies there); tfjs-layers' call
    // also holds x - mean and its square (as the closed form did while it took the moments outside).
    console.log(`${backend}: full-size tensors on the tape: closed form ${fast}, tfjs-layers ${layers}`);
    expect(fast).toBeLessThanOrEqual(backend === 'wasm' ? 2 : 1);
    expect(layers).toBeGreaterThanOrEqual(fast + 2);
    x.dispose();
    layer.weights.forEach((v) => v.dispose());
  });

  it('matches a finite-difference spot check of the input gradient', () => {
    const c = 3;
    const shape = [2, 3, 2, c];
    const xv = values(12 * c, 7);
    const gamma = tf.tensor1d([0.5, -1.2, 2]);
    const beta = tf.tensor1d([0.1, 0.2, -0.3]);
    const w = tf.tensor(values(12 * c, 8), shape);
    const layer = tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3 });
    layer.build(shape);
    layer.setWeights([gamma, beta, tf.zeros([c]), tf.ones([c])]);
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w));
    const x0 = tf.tensor(xv, shape);
    const g = tf.grad(f)(x0).dataSync();
    const h = 1e-2;
    for (const i of [0, 5, 17, 30]) {
      const plus = xv.slice();
      plus[i] += h;
      const minus = xv.slice();
      minus[i] -= h;
      const fp = tf.tidy(() => f(tf.tensor(plus, shape)).dataSync()[0]);
      const fm = tf.tidy(() => f(tf.tensor(minus, shape)).dataSync()[0]);
      expect(g[i]).toBeCloseTo((fp - fm) / (2 * h), 2);
    }
    tf.dispose([gamma, beta, w, x0]);
    layer.weights.forEach((v) => v.dispose());
  });
});
