/**
 * train()'s step on the training engine (src/engine/training): the forward and backward run on
 * our wasm kernels, the family's loss stays in tfjs (`tf.grads` of it w.r.t. the head outputs
 * gives the gradients the engine back-propagates), the optimizer runs over the engine's master
 * weights. The LayersModel stays the source of truth: {@link EngineTrainer.syncToModel} writes
 * the engine's weights (and BN running statistics) into its variables, and a step re-reads any
 * variable whose tensor was replaced meanwhile (the user assigned weights).
 *
 * Differences from the tfjs path (trainStep): a FROZEN BatchNorm (trainable = false) normalises
 * with its running statistics and leaves them unchanged, as issue 15 asks (tfjs' layer still uses
 * batch statistics in training mode and updates them).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { TrainBox } from './augment';
import { LossTerms, TrainLoss } from './lossForSpec';
import { buildTrainingGraph } from '../engine/training/trainingGraph';
import { runTrainingTail } from '../engine/training/trainingTail';
import { StepProfileEntry, TrainingEngine } from '../engine/training/trainingEngine';
import { EngineOptimizer, EngineOptimizerConfig } from '../engine/training/engineOptimizer';
import { bnGammaVariables } from './gammaHistogram';
import { UnsupportedTrainingGraphError } from '../engine/training/trainingGraph';
import { TrainingPlanTooLargeError } from '../engine/training/trainingEngine';
import type { TrainRun } from './trainRun';
import { KERNEL_NAME } from './trainStep';
import { EngineEma } from './engineEma';
import { WeightEma } from './ema';
import { hashSeed } from '../util/random';

/** Options of {@link createEngineTrainer}. */
export interface EngineTrainerOptions extends EngineOptimizerConfig {
  batchSize: number;
  /** The trainable variables in train()'s order (the optimizer's slot order). */
  vars: tf.Variable[];
  /** Which variables get the decoupled weight decay. */
  decays: (v: tf.Variable) => boolean;
  threads?: number;
  /** Seed of the engine's random ops (drop-connect masks). */
  seed?: number;
}

/** The loss terms of one step, as numbers. */
export interface StepTerms {
  total: number;
  box: number;
  obj: number;
  cls: number;
}

/** A detector's model set up for training on the engine. */
export interface EngineTrainer {
  readonly engine: TrainingEngine;
  readonly optimizer: EngineOptimizer;
  /** One step: forward, loss, backward, update (engine weights; call syncToModel to publish). */
  step(images: tf.Tensor4D, boxes: TrainBox[][], loss: TrainLoss, lr: number, weightDecay: number, sparsity?: number): StepTerms;
  /** Forward + loss + backward only (gradients left in the engine); for tests and profiles. */
  gradients(images: tf.Tensor4D, boxes: TrainBox[][], loss: TrainLoss): StepTerms;
  /** Write the engine's weights into the model's variables. */
  syncToModel(): void;
  /** One step timed per node and phase. */
  profileStep(images: tf.Tensor4D, boxes: TrainBox[][], loss: TrainLoss, lr: number): { terms: StepTerms; entries: StepProfileEntry[]; kernels: Record<string, number> };
  dispose(): void;
}

/**
 * Set up the engine for `detector.model` (throws `UnsupportedTrainingGraphError` when a layer
 * cannot be trained there, `TrainingPlanTooLargeError` when the batch does not fit).
 */
export function createEngineTrainer(detector: Detector, o: EngineTrainerOptions): EngineTrainer {
  const graph = buildTrainingGraph(detector.model);
  const engine = new TrainingEngine(graph, { batchSize: o.batchSize, threads: o.threads, seed: o.seed });
  const optimizer = new EngineOptimizer(engine, o.vars, o);
  const gammas = new Set(bnGammaVariables(o.vars));
  const spec = detector.spec;

  const forwardBackward = (images: tf.Tensor4D, boxes: TrainBox[][], loss: TrainLoss): StepTerms => {
    const heads = engine.forward(images);
    try {
      const kept: tf.Tensor[] = [];
      const { terms, dHeads } = tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((...hs: tf.Tensor[]) => {
          // The graph's tail (EfficientDet's reshape / concat of anchors) in tfjs, inside the autodiff.
          const parts: LossTerms = loss(runTrainingTail(graph, hs), boxes, spec);
          kept.push(tf.keep(parts.box), tf.keep(parts.obj), tf.keep(parts.cls));
          return parts.total as tf.Scalar;
        })(heads);
        return { terms: tf.stack([value, ...kept.map((k) => tf.reshape(k, []))]), dHeads: grads };
      });
      tf.dispose(kept);
      try {
        const [total, box, obj, cls] = Array.from(terms.dataSync());
        if (!Number.isFinite(total)) throw new Error(`train: the loss became ${total} (box ${box}, obj ${obj}, cls ${cls}); lower the learning rate`);
        engine.backward(dHeads);
        return { total, box, obj, cls };
      } finally {
        tf.dispose([terms, ...dHeads]);
      }
    } finally {
      tf.dispose(heads);
    }
  };

  const update = (lr: number, weightDecay: number, sparsity: number) => {
    optimizer.update({ lr, weightDecay, decays: o.decays, sparsity, isGamma: (v) => gammas.has(v) });
    engine.repack(true);
  };

  return {
    engine,
    optimizer,
    step(images, boxes, loss, lr, weightDecay, sparsity = 0) {
      const terms = forwardBackward(images, boxes, loss);
      update(lr, weightDecay, sparsity);
      return terms;
    },
    gradients: forwardBackward,
    syncToModel: () => engine.writeWeights(),
    profileStep(images, boxes, loss, lr) {
      const entries: StepProfileEntry[] = [];
      const time = <T>(what: string, f: () => T): T => {
        const t0 = performance.now();
        const r = f();
        entries.push({ layer: '(step)', what, ms: performance.now() - t0 });
        return r;
      };
      const r = engine.profile(() => time('forward+loss+backward', () => forwardBackward(images, boxes, loss)));
      time('optimizer', () => update(lr, 0, 0));
      return { terms: r.result, entries: [...r.entries, ...entries], kernels: r.kernels };
    },
    dispose: () => engine.dispose(),
  };
}

/**
 * Put `run` on the engine when its options ask for it (`engine: 'engine'`, or 'auto' on the wasm
 * / cpu backends) and the model can be trained there; with 'auto', a model the engine cannot
 * train (or a batch that does not fit) stays on tfjs autodiff. Reads the optimizer slots of a
 * resumed run.
 */
export async function attachEngine(run: TrainRun): Promise<void> {
  const want = run.opts.engine ?? 'auto';
  const backend = tf.getBackend();
  if (want === 'tfjs' || (want === 'auto' && backend !== 'wasm' && backend !== 'cpu')) return;
  let trainer: EngineTrainer | null = null;
  try {
    trainer = createEngineTrainer(run.detector, {
      batchSize: run.opts.batchSize,
      vars: run.vars,
      kind: run.optimizerKind,
      momentum: run.opts.momentum ?? (run.optimizerKind === 'adam' ? 0.9 : 0.937),
      decays: (v) => KERNEL_NAME.test(v.name),
      threads: run.opts.engineThreads,
      seed: hashSeed(run.seed, 0xd0c0),
    });
    await trainer.optimizer.importFrom(run.optimizer);
    if (run.ema instanceof WeightEma) {
      const t = trainer;
      const ema = new EngineEma(t.engine, run.detector.model, run.ema, () => t.syncToModel());
      run.ema.dispose();
      run.ema = ema;
    }
    run.trainer = trainer;
  } catch (e) {
    trainer?.dispose();
    if (want === 'engine' || !(e instanceof UnsupportedTrainingGraphError || e instanceof TrainingPlanTooLargeError)) throw e;
    run.engineFallback = e.message.split('\n')[0];
  }
}
