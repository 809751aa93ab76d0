/**
 * The optimizer of the training engine: Adam or SGD with (Nesterov) momentum over the engine's
 * master weights and gradients, as tfjs' `AdamOptimizer` / `MomentumOptimizer` compute them,
 * then the decoupled weight decay `w *= 1 - lr * wd` of train(). Adam runs the `adam` kernel
 * (bit-identical to tf.train.adam, slots in engine memory); SGD with (Nesterov) momentum on the
 * `sgdMomentum` kernel (bit-identical to tf.train.momentum). Its slots can be exported to /
 * imported from a tfjs optimizer (checkpoints, the `optimizer` train() returns), in tfjs' order.
 */
import * as tf from '@tensorflow/tfjs';
import type { EngineVariable, TrainingEngine } from './trainingEngine';
import { adamScalars } from '../optimizerScalars';

/** Which optimizer and its constants. */
export interface EngineOptimizerConfig {
  kind: 'adam' | 'sgd';
  /** Adam beta1 / SGD momentum. */
  momentum: number;
  /** Adam beta2 (default 0.999, tfjs'). */
  beta2?: number;
  /** Adam epsilon (default tfjs backend epsilon, 1e-7). */
  epsilon?: number;
  /** SGD: Nesterov momentum (default true, as train()). */
  nesterov?: boolean;
}

/** What one update adds to the plain optimizer step. */
export interface UpdateOptions {
  lr: number;
  /** Decoupled weight decay factor (0: none) applied to the variables `decays` selects. */
  weightDecay: number;
  decays: (v: tf.Variable) => boolean;
  /** `sparsity * sign(gamma)` added to the gradients of the variables `isGamma` selects. */
  sparsity: number;
  isGamma: (v: tf.Variable) => boolean;
}

export class EngineOptimizer {
  readonly config: Required<EngineOptimizerConfig>;
  /** Updates done (tfjs' `iterations`). */
  iterations = 0;
  /** The optimised variables, in the order of `vars` given at construction (tfjs' slot order). */
  private readonly slots: { ev: EngineVariable; m: number; v: number }[];

  constructor(
    private readonly engine: TrainingEngine,
    vars: tf.Variable[],
    config: EngineOptimizerConfig,
  ) {
    this.config = { beta2: 0.999, epsilon: tf.backend().epsilon(), nesterov: true, ...config };
    const byVar = new Map(engine.variables.map((ev) => [ev.variable, ev]));
    this.slots = vars
      .map((v) => byVar.get(v))
      .filter((ev): ev is EngineVariable => !!ev && ev.trainable)
      .map((ev) => ({ ev, m: engine.allocate(ev.size), v: config.kind === 'adam' ? engine.allocate(ev.size) : -1 }));
  }

  /** One update of every optimised variable from the engine's gradients. */
  update(o: UpdateOptions): void {
    const { kind, momentum: b1, beta2, epsilon, nesterov } = this.config;
    const t = this.iterations + 1;
    const lr = o.lr;
    const decayOf = (v: tf.Variable) => (o.weightDecay > 0 && o.decays(v) ? Math.fround(1 - lr * o.weightDecay) : 1);
    for (const s of this.slots) {
      const variable = s.ev.variable;
      if (o.sparsity > 0 && o.isGamma(variable)) {
        const w = this.engine.weights(variable);
        const g = this.engine.gradient(variable);
        for (let i = 0; i < g.length; i++) g[i] += o.sparsity * Math.sign(w[i]);
      }
      if (kind === 'adam') {
        this.engine.adamUpdate(s.ev, s.m, s.v, adamScalars({ learningRate: lr, beta1: b1, beta2, epsilon, step: t, decayFactor: decayOf(variable) }));
        continue;
      }
      this.engine.momentumUpdate(s.ev, s.m, { learningRate: lr, momentum: b1, nesterov: !!nesterov, decayFactor: decayOf(variable) });
    }
    this.iterations = t;
  }

  /** Put this optimizer's slots into a tfjs optimizer of the same kind (it then continues from here). */
  async exportTo(opt: tf.Optimizer): Promise<void> {
    const named = (suffix: string, pick: (s: (typeof this.slots)[number]) => number) =>
      this.slots.map((s) => ({ name: `${s.ev.variable.name}/${suffix}`, tensor: tf.tensor(this.engine.view(pick(s), s.ev.size).slice(), s.ev.shape) }));
    const list = [{ name: 'iter', tensor: tf.scalar(this.iterations, 'int32') }, ...(this.config.kind === 'adam' ? [...named('m', (s) => s.m), ...named('v', (s) => s.v)] : named('momentum', (s) => s.m))];
    // setWeights keeps the tensors as variables (it calls .variable()); ours can go.
    const old = await opt.getWeights();
    await opt.setWeights(list);
    tf.dispose(list.map((l) => l.tensor));
    tf.dispose(old.map((l) => l.tensor));
  }

  /** Read the slots of a tfjs optimizer of the same kind (checkpoint resume); missing slots stay zero. */
  async importFrom(opt: tf.Optimizer): Promise<void> {
    const w = await opt.getWeights();
    if (w.length === 0) return;
    this.iterations = (await w[0].tensor.data())[0];
    w[0].tensor.dispose(); // a new scalar (saveIterations); the slots are the optimizer's own
    const byName = new Map(w.slice(1).map((x) => [x.name, x.tensor]));
    for (const s of this.slots) {
      const m = byName.get(`${s.ev.variable.name}/${this.config.kind === 'adam' ? 'm' : 'momentum'}`);
      if (m) this.engine.view(s.m, s.ev.size).set(m.dataSync() as Float32Array);
      const v = byName.get(`${s.ev.variable.name}/v`);
      if (v && s.v >= 0) this.engine.view(s.v, s.ev.size).set(v.dataSync() as Float32Array);
    }
  }
}
