// The whole-step comparison of the training engine with the tfjs path, shared by the
// family tests (trainStepParity.test.ts, efficientDetStep.test.ts).
import * as tf from '@tensorflow/tfjs';
import { lossForSpec } from '../../../src/train/lossForSpec';
import { createEngineTrainer, EngineTrainer } from '../../../src/train/engineTrainStep';
import { modelVariables } from '../../../src/train/ema';
import { Detector } from '../../../src/detector';
import { TrainBox } from '../../../src/train/augment';
import { mulberry32 } from '../../../src/util/random';

/** Seeded weights: convs uniform with fan-in scale, BN gamma / variance in [0.5, 1.5], beta / mean in [-0.5, 0.5]. */
export function seedWeights(d: Detector, seed: number): void {
  const rnd = mulberry32(seed);
  for (const l of d.model.layers) {
    const bn = l.getClassName() === 'BatchNormalization';
    const fusion = l.getClassName() === 'YoloTfjsWeightedFusion';
    l.setWeights(l.getWeights().map((w, i) => {
      const s = w.shape as number[];
      const depthwise = l.getClassName() === 'DepthwiseConv2D' || (l.getClassName() === 'SeparableConv2D' && i === 0);
      const fan = w.rank === 4 ? s[0] * s[1] * (depthwise ? 1 : s[2]) : 1;
      const v = new Float32Array(w.size);
      const scale = Math.sqrt(3 / fan);
      for (let k = 0; k < v.length; k++) {
        v[k] = fusion ? 0.5 + rnd() : bn ? (i === 0 || i === 3 ? 0.5 + rnd() : rnd() - 0.5) : w.rank === 4 ? (2 * rnd() - 1) * scale : 0.2 * (rnd() - 0.5);
      }
      const t = tf.tensor(v, w.shape);
      return t;
    }));
  }
}

export function boxesFor(n: number, size: number, classes: number, seed: number): TrainBox[][] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: 2 }, () => {
      const w = size * (0.2 + 0.5 * rnd());
      const h = size * (0.2 + 0.5 * rnd());
      const x1 = rnd() * (size - w);
      const y1 = rnd() * (size - h);
      return { x1, y1, x2: x1 + w, y2: y1 + h, classId: Math.floor(rnd() * classes) };
    }),
  );
}

export const relErr = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, floor);
};

/**
 * One step on the engine against tfjs autodiff of `model.apply(x, {training: true})`: loss,
 * every gradient, running statistics, one Adam update. `beforeReference` runs after the engine's
 * forward + backward and before the reference (e.g. to make the reference draw the engine's
 * random masks); it returns its undo.
 */
export async function compareStep(
  d: Detector,
  n: number,
  tol: { grad: number; worst: number; weight: number; loss?: number },
  beforeReference?: (trainer: EngineTrainer) => () => void,
): Promise<void> {
  const size = d.spec.input.size[0];
  const x = tf.randomUniform([n, size, size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const boxes = boxesFor(n, size, d.spec.classNames.length, 5);
  const loss = lossForSpec(d.spec);
  const vars = modelVariables(d.model, true);
  const all = modelVariables(d.model);
  const start = all.map((v) => tf.keep(v.clone()));

  // The engine first (it keeps its own copy of the weights and running statistics), then the tfjs path.
  const trainer = createEngineTrainer(d, { batchSize: n, vars, kind: 'adam', momentum: 0.9, decays: () => false, threads: 2 });
  const terms = trainer.gradients(x, boxes, loss);
  const undo = beforeReference?.(trainer);
  let ref: { value: tf.Tensor; grads: Record<string, tf.Tensor> };
  try {
    ref = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = d.model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
        return loss(Array.isArray(out) ? out : [out], boxes, d.spec).total as tf.Scalar;
      }, vars);
      return { value: tf.keep(value), grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.keep(g)])) };
    });
  } finally {
    undo?.();
  }
  const refLoss = ref.value.dataSync()[0];
  const refStats = new Map(all.map((v) => [v, v.dataSync().slice()]));
  const opt = tf.train.adam(1e-3, 0.9);
  all.forEach((v, i) => v.assign(start[i]));
  try {
    expect(Math.abs(terms.total - refLoss) / Math.abs(refLoss)).toBeLessThan(tol.loss ?? 1e-4);
    // Error of a gradient: max |engine - tfjs| over max |tfjs|, the latter floored at 1e-4 of the
    // model's largest gradient (a beta followed by conv + training BN has a gradient that is
    // zero up to float noise in both).
    let largest = 0;
    for (const v of vars) for (const g of ref.grads[v.name].dataSync()) largest = Math.max(largest, Math.abs(g));
    const floor = 1e-4 * largest;
    let worst = 0;
    let worstName = '';
    const errs: [number, string][] = [];
    let diff2 = 0;
    let ref2 = 0;
    for (const v of vars) {
      const a = trainer.engine.gradient(v).slice(); // (a copy: reading shared wasm memory element by element is slow)
      const b = ref.grads[v.name].dataSync();
      for (let i = 0; i < b.length; i++) {
        diff2 += (a[i] - b[i]) ** 2;
        ref2 += b[i] ** 2;
      }
      const e = relErr(a, b, floor);
      if (process.env.PARITY_DEBUG) errs.push([e, v.name]);
      if (e > worst) [worst, worstName] = [e, v.name];
    }
    const global = Math.sqrt(diff2 / ref2);
    if (process.env.PARITY_DEBUG) console.log(errs.sort((p, q) => q[0] - p[0]).slice(0, 25).map(([e, k]) => `${e.toExponential(1)} ${k}`).join('\n'));
    console.log(`${d.model.name}: loss ${terms.total} vs ${refLoss}; all gradients |engine - tfjs| / |tfjs| ${global.toExponential(2)}; worst variable ${worst.toExponential(2)} (${worstName})`);
    expect(global).toBeLessThan(tol.grad);
    expect(worst).toBeLessThan(tol.worst);
    // Running statistics as tfjs' layer updated them.
    for (const v of all) if (/moving_(mean|variance)$/.test(v.name)) expect(relErr(trainer.engine.weights(v), refStats.get(v)!)).toBeLessThan(1e-5);
    // The update: tfjs' Adam on the engine's own gradients (from the same start weights).
    const engineGrads: tf.NamedTensorMap = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(trainer.engine.gradient(v).slice(), v.shape)]));
    trainer.optimizer.update({ lr: 1e-3, weightDecay: 0, decays: () => false, sparsity: 0, isGamma: () => false });
    opt.applyGradients(engineGrads as never);
    tf.dispose(Object.values(engineGrads));
    let wWorst = 0;
    for (const v of vars) wWorst = Math.max(wWorst, relErr(trainer.engine.weights(v), v.dataSync()));
    all.forEach((v, i) => v.assign(start[i]));
    console.log(`${d.model.name}: worst updated-weight error ${wWorst.toExponential(2)}`);
    expect(wWorst).toBeLessThan(tol.weight);
  } finally {
    trainer.dispose();
    tf.dispose([x, ref.value, ...Object.values(ref.grads), ...start]);
    opt.dispose();
  }
}

