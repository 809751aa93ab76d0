/**
 * The optimizer of the training engine: Adam or SGD with (Nesterov) momentum over the engine's
 * master weights and gradients, computed as tfjs' `AdamOptimizer` / `MomentumOptimizer` do
 * (same formulas, same epsilon, same bias correction by beta^t), then the decoupled weight decay
 * `w *= 1 - lr * wd` of train(). Its slots can be exported to / imported from a tfjs optimizer
 * (checkpoints, the `optimizer` train() returns), in tfjs' slot order.
 */
import * as tf from '@tensorflow/tfjs';
import type { EngineVariable, TrainingEngine } from './trainingEngine';

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
  private readonly slots: { ev: EngineVariable; m: Float32Array; v: Float32Array | null }[];

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
      .map((ev) => ({ ev, m: new Float32Array(ev.size), v: config.kind === 'adam' ? new Float32Array(ev.size) : null }));
  }

  /** One update of every optimised variable from the engine's gradients. */
  update(o: UpdateOptions): void {
    const { kind, momentum: b1, beta2: b2, epsilon, nesterov } = this.config;
    const t = this.iterations + 1;
    const c1 = 1 - Math.fround(Math.pow(b1, t));
    const c2 = 1 - Math.fround(Math.pow(b2, t));
    const lr = o.lr;
    for (const s of this.slots) {
      const w = this.engine.weights(s.ev.variable);
      const g = this.engine.gradient(s.ev.variable);
      if (o.sparsity > 0 && o.isGamma(s.ev.variable)) for (let i = 0; i < g.length; i++) g[i] += o.sparsity * Math.sign(w[i]);
      const m = s.m;
      if (kind === 'adam') {
        const v = s.v!;
        for (let i = 0; i < g.length; i++) {
          const gi = g[i];
          m[i] = m[i] * b1 + gi * (1 - b1);
          v[i] = v[i] * b2 + gi * gi * (1 - b2);
          w[i] = w[i] - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
        }
      } else {
        for (let i = 0; i < g.length; i++) {
          m[i] = b1 * m[i] + g[i];
          w[i] = w[i] - lr * (nesterov ? g[i] + m[i] * b1 : m[i]);
        }
      }
      if (o.weightDecay > 0 && o.decays(s.ev.variable)) {
        const f = 1 - lr * o.weightDecay;
        for (let i = 0; i < w.length; i++) w[i] *= f;
      }
    }
    this.iterations = t;
  }

  /** Put this optimizer's slots into a tfjs optimizer of the same kind (it then continues from here). */
  async exportTo(opt: tf.Optimizer): Promise<void> {
    const named = (suffix: string, pick: (s: (typeof this.slots)[number]) => Float32Array) =>
      this.slots.map((s) => ({ name: `${s.ev.variable.name}/${suffix}`, tensor: tf.tensor(pick(s).slice(), s.ev.shape) }));
    const list = [{ name: 'iter', tensor: tf.scalar(this.iterations, 'int32') }, ...(this.config.kind === 'adam' ? [...named('m', (s) => s.m), ...named('v', (s) => s.v!)] : named('momentum', (s) => s.m))];
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
    const byName = new Map(w.slice(1).map((x) => [x.name, x.tensor]));
    for (const s of this.slots) {
      const m = byName.get(`${s.ev.variable.name}/${this.config.kind === 'adam' ? 'm' : 'momentum'}`);
      if (m) s.m.set(m.dataSync() as Float32Array);
      const v = byName.get(`${s.ev.variable.name}/v`);
      if (v && s.v) s.v.set(v.dataSync() as Float32Array);
    }
  }
}
