// The op-level comparison of the training engine with tfjs autodiff, shared by
// trainingOps.test.ts and channelOps.test.ts.
import * as tf from '@tensorflow/tfjs';
import { buildTrainingGraph } from '../../../src/engine/training/trainingGraph';
import { TrainingEngine } from '../../../src/engine/training/trainingEngine';
import { modelVariables } from '../../../src/train/ema';
import { mulberry32 } from '../../../src/util/random';

export type Sym = tf.SymbolicTensor;

export function seeded(model: tf.LayersModel, seed: number): void {
  const rnd = mulberry32(seed);
  for (const l of model.layers) {
    const bn = l.getClassName() === 'BatchNormalization';
    l.setWeights(l.getWeights().map((w, i) => tf.tensor(Float32Array.from({ length: w.size }, () => (bn ? (i === 0 || i === 3 ? 0.5 + rnd() : rnd() - 0.5) : 2 * rnd() - 1)), w.shape)));
  }
}

export const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
export function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), 1e-6);
}

/** Tolerance of every comparison (relative to the reference's largest magnitude). */
export const TOL = 1e-4;

export function checkModel(build: (x: Sym) => Sym | Sym[], inShape: [number, number, number], n = 2, freeze: string[] = []): number {
  const input = tf.input({ shape: inShape });
  const out = build(input);
  const model = tf.model({ inputs: input, outputs: out });
  seeded(model, 3);
  for (const l of model.layers) if (freeze.some((p) => l.name.startsWith(p))) l.trainable = false;
  const all = modelVariables(model);
  const vars = modelVariables(model, true);
  const start = all.map((v) => v.dataSync().slice());
  const x = tf.randomUniform([n, ...inShape], -1, 1, 'float32', 7) as tf.Tensor4D;
  const outs = Array.isArray(out) ? out : [out];
  const R = outs.map((o, i) => tf.randomUniform([n, ...(o.shape.slice(1) as number[])], -1, 1, 'float32', 11 + i));
  let worst = 0;
  const ref = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const y = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
      const ys = Array.isArray(y) ? y : [y];
      return tf.addN(ys.map((t, i) => tf.sum(tf.mul(t, R[i])))) as tf.Scalar;
    }, vars);
    const ys = model.predict(x) as tf.Tensor | tf.Tensor[]; // inference mode: only for shapes
    tf.dispose(ys);
    return { value: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync().slice()])) };
  });
  const stats = new Map(all.map((v) => [v, v.dataSync().slice()]));
  // Reference outputs in training mode (from the starting weights).
  all.forEach((v, i) => v.assign(tf.tensor(start[i], v.shape)));
  const refOut = tf.tidy(() => {
    const y = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync().slice());
  });
  all.forEach((v, i) => v.assign(tf.tensor(start[i], v.shape)));

  const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: n, threads: 1 });
  try {
    const heads = engine.forward(x);
    heads.forEach((h, i) => (worst = Math.max(worst, rel(h.dataSync(), refOut[i]))));
    if (process.env.PARITY_DEBUG) console.log('outputs', heads.map((h, i) => rel(h.dataSync(), refOut[i])));
    const value = heads.reduce((s, h, i) => s + tf.tidy(() => tf.sum(tf.mul(h, R[i])).dataSync()[0]), 0);
    expect(Math.abs(value - ref.value) / Math.max(1, Math.abs(ref.value))).toBeLessThan(TOL);
    engine.backward(R);
    tf.dispose(heads);
    for (const v of vars) worst = Math.max(worst, rel(engine.gradient(v), ref.grads[v.name]));
    if (process.env.PARITY_DEBUG) console.log(vars.map((v) => `${v.name} ${rel(engine.gradient(v), ref.grads[v.name]).toExponential(1)} ${Array.from(engine.gradient(v).slice(0, 3))} ${Array.from(ref.grads[v.name].slice(0, 3))}`).join('\n'));
    for (const v of all) {
      if (/moving_(mean|variance)$/.test(v.name)) worst = Math.max(worst, rel(engine.weights(v), stats.get(v)!));
    }
  } finally {
    engine.dispose();
    tf.dispose([x, ...R]);
    model.layers.forEach((l) => l.dispose?.());
  }
  expect(worst).toBeLessThan(TOL);
  return worst;
}

