/**
 * Exponential moving average of a model's weights (YOLOv5's ModelEMA): after each step,
 * `ema = d * ema + (1 - d) * w` for every weight (BN statistics included), with the decay
 * ramped up as `d = decay * (1 - exp(-updates / tau))` so early averages follow the model.
 */
import * as tf from '@tensorflow/tfjs';

/** EMA settings. */
export interface EmaOptions {
  /** Final decay. Default 0.9999. */
  decay?: number;
  /** Ramp-up constant in updates. Default 2000. */
  tau?: number;
}

/** The distinct variables of a model (shared layers appear once), in a fixed order. */
export function modelVariables(model: tf.LayersModel, trainableOnly = false): tf.Variable[] {
  const seen = new Set<number>();
  const out: tf.Variable[] = [];
  for (const w of trainableOnly ? model.trainableWeights : model.weights) {
    const v = w.read() as tf.Variable;
    if (seen.has(v.id)) continue;
    seen.add(v.id);
    out.push(v);
  }
  return out;
}

/** Shadow weights of a model. Call `dispose()` when done. */
export class WeightEma {
  readonly decay: number;
  readonly tau: number;
  updates = 0;
  private readonly vars: tf.Variable[];
  private shadow: tf.Tensor[];

  constructor(model: tf.LayersModel, o: EmaOptions = {}) {
    this.decay = o.decay ?? 0.9999;
    this.tau = o.tau ?? 2000;
    if (!(this.decay > 0 && this.decay < 1)) throw new Error(`EMA decay must be in (0, 1), got ${this.decay}`);
    if (!(this.tau > 0)) throw new Error(`EMA tau must be > 0, got ${this.tau}`);
    this.vars = modelVariables(model);
    this.shadow = this.vars.map((v) => tf.keep(tf.clone(v)));
  }

  /** The current decay (after `updates` updates). */
  currentDecay(): number {
    return this.decay * (1 - Math.exp(-this.updates / this.tau));
  }

  /** One EMA update from the model's current weights. */
  update(): void {
    this.updates++;
    const d = this.currentDecay();
    const next = tf.tidy(() => this.shadow.map((s, i) => (this.vars[i].dtype === 'float32' ? tf.add(tf.mul(s, d), tf.mul(this.vars[i], 1 - d)) : tf.clone(this.vars[i]))));
    tf.dispose(this.shadow);
    this.shadow = next.map((t) => tf.keep(t));
  }

  /** Copy the averaged weights into the model (for good). */
  applyTo(): void {
    this.vars.forEach((v, i) => v.assign(this.shadow[i]));
  }

  /** Put the averaged weights into the model and return a function that restores the live ones. */
  swapIn(): () => void {
    const live = this.vars.map((v) => tf.keep(tf.clone(v)));
    this.applyTo();
    return () => {
      this.vars.forEach((v, i) => v.assign(live[i]));
      tf.dispose(live);
    };
  }

  /** The shadow tensors (same order as the model's distinct variables). */
  get values(): tf.Tensor[] {
    return this.shadow;
  }

  /** Replace the shadow values (checkpoint resume); shapes must match. */
  setValues(values: tf.Tensor[], updates: number): void {
    if (values.length !== this.shadow.length) throw new Error(`EMA checkpoint has ${values.length} tensors, the model ${this.shadow.length}`);
    values.forEach((v, i) => {
      if (JSON.stringify(v.shape) !== JSON.stringify(this.shadow[i].shape)) {
        throw new Error(`EMA checkpoint tensor ${i} has shape [${v.shape}], the model's is [${this.shadow[i].shape}]`);
      }
    });
    tf.dispose(this.shadow);
    this.shadow = values.map((v) => tf.keep(tf.clone(v)));
    this.updates = updates;
  }

  dispose(): void {
    tf.dispose(this.shadow);
    this.shadow = [];
  }
}
