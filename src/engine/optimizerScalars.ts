/**
 * The float32 scalars of the optimizer kernels (native/optimizer.c), computed exactly as tfjs
 * makes them, so that the kernels reproduce tf.train.adam / tf.train.momentum bit for bit:
 * tfjs turns `1 - beta1` (a JS double) into a float32 scalar, and keeps `accBeta1` as a float32
 * variable that starts at beta1 and is multiplied by beta1 after every step.
 */
const f32 = Math.fround;

/** AdamParams' float fields for update number `step` (1 for the first update). */
export function adamScalars(o: { learningRate: number; beta1: number; beta2: number; epsilon: number; step: number; decayFactor?: number }): {
  negLr: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  epsilon: number;
  decayFactor: number;
} {
  if (!(Number.isInteger(o.step) && o.step >= 1)) throw new Error(`adamScalars: step must be an integer >= 1, got ${o.step}`);
  const b1 = f32(o.beta1), b2 = f32(o.beta2);
  let acc1 = b1, acc2 = b2;
  for (let i = 1; i < o.step; i++) {
    acc1 = f32(acc1 * b1);
    acc2 = f32(acc2 * b2);
  }
  return {
    negLr: f32(-o.learningRate),
    beta1: b1,
    oneMinusBeta1: f32(1 - o.beta1),
    beta2: b2,
    oneMinusBeta2: f32(1 - o.beta2),
    oneMinusAccBeta1: f32(1 - acc1),
    oneMinusAccBeta2: f32(1 - acc2),
    epsilon: f32(o.epsilon),
    decayFactor: f32(o.decayFactor ?? 1),
  };
}

/** The multiplier of decoupled weight decay after an update: `1 - lr * wd` (train.ts). */
export function weightDecayFactor(learningRate: number, weightDecay: number): number {
  return f32(1 - learningRate * weightDecay);
}
