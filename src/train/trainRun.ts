/**
 * The state one `train` call carries through its phases (resume, epochs, evaluation,
 * checkpoints), and its set-up: the class change, loss, optimiser, schedule, freezing, EMA and
 * the |gamma| history of a sparsity run.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { DetectionDataset } from './data/dataset';
import { AugmentOptions } from './augment';
import { defaultAugmentForSpec } from './augmentForSpec';
import { batchCount } from './batches';
import { applyFreeze } from './modelParts';
import { withClasses } from './withClasses';
import { LrScheduleOptions } from './schedule';
import { WeightEma, modelVariables } from './ema';
import { TrainLoss, lossForSpec } from './lossForSpec';
import { GammaTracker, bnGammaVariables } from './gammaHistogram';
import { EpochLog, StepLog, TrainOptions, resolveClassNames } from './trainOptions';
import type { EngineTrainer } from './engineTrainStep';
import type { EngineEma } from './engineEma';

/** What the phases of one `train` call share. */
export interface TrainRun {
  /** The detector being trained: the caller's, or a new one when the classes changed. */
  readonly detector: Detector;
  readonly dataset: DetectionDataset;
  readonly opts: TrainOptions;
  readonly loss: TrainLoss;
  readonly optimizer: tf.Optimizer;
  readonly optimizerKind: 'sgd' | 'adam';
  /** The trainable variables (after freezing). */
  readonly vars: tf.Variable[];
  readonly schedule: LrScheduleOptions;
  readonly weightDecay: number;
  readonly augment: AugmentOptions | false;
  readonly seed: number;
  /** Steps this run stops after (`epochs * steps per epoch`, or `maxSteps` when smaller). */
  readonly totalSteps: number;
  /** The EMA of the weights: in tfjs tensors, or in engine memory once the engine is attached. */
  ema?: WeightEma | EngineEma;
  readonly gammas: GammaTracker;
  /** The training engine when the steps run on it (`attachEngine`), else null (tfjs autodiff). */
  trainer: EngineTrainer | null;
  /** Why the engine was not attached although asked (`engine: 'auto'` on wasm/cpu). */
  engineFallback?: string;
  /** Optimisation steps done (global, across resumes). */
  step: number;
  /** The first epoch to run (a resumed checkpoint's next epoch). */
  startEpoch: number;
  /** Best held-out mAP@0.5 saved to `<outDir>/best` so far. */
  best: number;
  readonly epochs: EpochLog[];
  readonly steps: StepLog[];
}

/**
 * Set up a run: re-class the detector if the classes differ (a new detector; the caller's is
 * left as it was), pick the loss, build the optimiser and schedule, freeze, start the EMA and
 * the |gamma| history.
 */
export async function prepareRun(detector: Detector, dataset: DetectionDataset, opts: TrainOptions): Promise<TrainRun> {
  const classNames = resolveClassNames(detector, dataset, opts);
  const sameClasses = classNames.length === detector.spec.classNames.length && classNames.every((c, i) => c === detector.spec.classNames[i]);
  let det = detector;
  if (!sameClasses) det = await withClasses(detector, classNames);

  // A failed set-up leaves nothing behind: no optimizer, no re-classed copy, no frozen layer.
  let optimizer: tf.Optimizer | undefined;
  try {
    const loss = opts.loss ?? lossForSpec(det.spec, opts.lossOptions);
    const seed = opts.seed ?? 0;
    const kind = opts.optimizer ?? 'adam';
    const lr0 = opts.lr ?? (kind === 'adam' ? 0.001 : 0.01);
    const spe = batchCount(dataset.images.length, opts.batchSize);
    const plannedSteps = opts.epochs * spe;
    const totalSteps = Math.min(plannedSteps, opts.maxSteps ?? Infinity);
    const warmupSteps = Math.round((opts.warmupEpochs ?? Math.min(1, opts.epochs * 0.1)) * spe);
    const schedule = { lr: lr0, totalSteps: plannedSteps, warmupSteps, schedule: opts.schedule, finalLrFactor: opts.finalLrFactor, milestones: opts.milestones, gamma: opts.gamma };
    optimizer = kind === 'adam' ? tf.train.adam(lr0, opts.momentum ?? 0.9) : tf.train.momentum(lr0, opts.momentum ?? 0.937, true);
    const weightDecay = opts.weightDecay ?? 5e-4;
    const augment = opts.augment === undefined ? defaultAugmentForSpec(det.spec) : opts.augment;

    applyFreeze(det.model, det.spec, opts.freeze);
    const vars = modelVariables(det.model, true);
    if (vars.length === 0) throw new Error('train: no trainable weights (everything is frozen)');
    const ema = opts.ema ? new WeightEma(det.model, { tau: Math.max(1, Math.min(2000, totalSteps / 4)), ...(opts.ema === true ? {} : opts.ema) }) : undefined;
    // Sparsity runs follow the BN |gamma| distribution from the weights before any step.
    const gammas = new GammaTracker(opts.sparsity !== undefined ? bnGammaVariables(vars) : []);

    return {
      detector: det, dataset, opts, loss, optimizer, optimizerKind: kind, vars, schedule, weightDecay, augment, seed, totalSteps, ema, gammas,
      trainer: null, step: 0, startEpoch: 0, best: -Infinity, epochs: [], steps: [],
    };
  } catch (e) {
    optimizer?.dispose();
    applyFreeze(det.model, det.spec, undefined);
    if (det !== detector) det.dispose();
    throw e;
  }
}
