/**
 * The EMA of the weights (src/train/ema.ts's `WeightEma`) kept in the training engine's memory:
 * after each step the `ema` kernel updates the shadow from the engine's master weights, with the
 * same decay ramp, so the weights need not be published to the model every step. It offers what
 * train() uses of a `WeightEma` (update, swapIn for evaluation, applyTo at the end, values for
 * checkpoints), in the model's variable order.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainingEngine, EngineVariable } from '../engine/training/trainingEngine';
import { WeightEma, modelVariables } from './ema';

export class EngineEma {
  readonly decay: number;
  readonly tau: number;
  updates: number;
  /** Per model variable (modelVariables order): its engine variable and shadow buffer. */
  private readonly slots: { variable: tf.Variable; ev: EngineVariable; shadow: number }[];
  private published: tf.Tensor[] = [];

  /** Takes over `from` (its settings, update count and current shadow values); `from` is left as it was. */
  constructor(
    private readonly engine: TrainingEngine,
    model: tf.LayersModel,
    from: WeightEma,
    private readonly publish: () => void,
  ) {
    this.decay = from.decay;
    this.tau = from.tau;
    this.updates = from.updates;
    const byVar = new Map(engine.variables.map((ev) => [ev.variable, ev]));
    const vars = modelVariables(model);
    const values = from.values;
    this.slots = vars.map((variable, i) => {
      const ev = byVar.get(variable);
      if (!ev) throw new Error(`EngineEma: variable '${variable.name}' is not in the training graph`);
      const shadow = engine.allocate(ev.size);
      engine.view(shadow, ev.size).set(values[i].dataSync() as Float32Array);
      return { variable, ev, shadow };
    });
  }

  /** The current decay (after `updates` updates), as WeightEma. */
  currentDecay(): number {
    return this.decay * (1 - Math.exp(-this.updates / this.tau));
  }

  /** One update from the engine's current weights. */
  update(): void {
    this.updates++;
    const d = this.currentDecay();
    for (const s of this.slots) this.engine.emaUpdate(s.ev, s.shadow, Math.fround(d), Math.fround(1 - d));
  }

  private writeShadow(): void {
    for (const s of this.slots) {
      const t = tf.tensor(this.engine.view(s.shadow, s.ev.size).slice(), s.ev.shape);
      s.variable.assign(t);
      t.dispose();
    }
  }

  /** Put the averaged weights into the model (for good). */
  applyTo(): void {
    this.writeShadow();
  }

  /** Put the averaged weights into the model; the returned function puts the live ones back. */
  swapIn(): () => void {
    this.writeShadow();
    return () => this.publish();
  }

  /** The shadow as tensors in the model's variable order (owned here, valid until the next call or dispose). */
  get values(): tf.Tensor[] {
    tf.dispose(this.published);
    this.published = this.slots.map((s) => tf.tensor(this.engine.view(s.shadow, s.ev.size).slice(), s.ev.shape));
    return this.published;
  }

  /** Replace the shadow values (model variable order) and the update count, as WeightEma.setValues. */
  setValues(values: tf.Tensor[], updates: number): void {
    if (values.length !== this.slots.length) throw new Error(`EMA checkpoint has ${values.length} tensors, the model ${this.slots.length}`);
    this.slots.forEach((s, i) => {
      if (values[i].size !== s.ev.size) throw new Error(`EMA checkpoint tensor ${i} has shape [${values[i].shape}], the model's is [${s.ev.shape}]`);
      this.engine.view(s.shadow, s.ev.size).set(values[i].dataSync() as Float32Array);
    });
    this.updates = updates;
  }

  dispose(): void {
    tf.dispose(this.published);
    this.published = [];
  }
}
