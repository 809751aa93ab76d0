/**
 * The options and logs of `train` (what a caller passes and gets back), and the checks of the
 * options that run before anything is allocated.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { DatasetImage, DetectionDataset } from './data/dataset';
import { AugmentOptions } from './augment';
import { FreezeSpec } from './modelParts';
import { EmaOptions } from './ema';
import { LossForSpecOptions, TrainLoss } from './lossForSpec';
import { GammaStats } from './gammaHistogram';

/** Options of {@link train}. */
export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /**
   * 'adam' (default) or 'sgd' (momentum, Nesterov). Adam is the default because fine-tuning a
   * rebuilt class layer with SGD diverged in our tests unless the warm-up is long.
   */
  optimizer?: 'sgd' | 'adam';
  /** Peak learning rate. Default 0.01 for SGD, 0.001 for Adam. */
  lr?: number;
  /** SGD momentum (Adam beta1). Default 0.937 (YOLOv5) for SGD, 0.9 for Adam. */
  momentum?: number;
  /** Warm-up length in epochs (may be fractional). Default: min(1 epoch, 10% of the run). */
  warmupEpochs?: number;
  /** 'cosine' (default), 'step' or 'constant'. */
  schedule?: 'cosine' | 'step' | 'constant';
  /** Cosine: final lr factor (default 0.01). */
  finalLrFactor?: number;
  /** Step: milestones as fractions of the run (default [0.7, 0.9]) and factor (default 0.1). */
  milestones?: number[];
  gamma?: number;
  /** Decoupled weight decay on conv/dense kernels (`w -= lr * wd * w`). Default 5e-4. */
  weightDecay?: number;
  /** EMA of the weights (true for defaults). The returned detector carries the EMA weights. */
  ema?: boolean | EmaOptions;
  /** Freeze the backbone, everything but the heads, or layers by name prefix. */
  freeze?: FreezeSpec;
  /**
   * Train for these classes (default: the dataset's). When they differ from the detector's,
   * the class layers are rebuilt by `withClasses` and the result is a NEW detector.
   */
  classNames?: string[];
  /** Class count (names `class0..`) when `classNames` is not given; must agree with the dataset. */
  numClasses?: number;
  /** Augmentation (default: `defaultAugmentForSpec`, i.e. SSD's for SSD heads, else `DEFAULT_AUGMENT`; false: resize only). */
  augment?: AugmentOptions | false;
  /** Seed for shuffling, augmentation and, on the training engine, the drop-connect masks (EfficientDet). Default 0. */
  seed?: number;
  /** Held-out set evaluated (VOC mAP@0.5) after each `evalEvery` epochs. */
  valDataset?: DetectionDataset;
  /** Default 1. */
  evalEvery?: number;
  /** Also compute COCO mAP@[.5:.95] on the held-out set. Default false. */
  cocoEval?: boolean;
  /** Node: folder for checkpoints (`checkpoint/`, `best/`), `train.jsonl` and `curves.png`. */
  outDir?: string;
  /** Save a checkpoint every N epochs (default 1) when `outDir` is set. */
  checkpointEvery?: number;
  /** Node: resume from this checkpoint folder (e.g. `<outDir>/checkpoint`). */
  resume?: string;
  /** Stop after this many optimisation steps in total (tests, quick checks). */
  maxSteps?: number;
  /** Show a progress bar on stderr. Default true. */
  progress?: boolean;
  /**
   * Sparsity training (network slimming, Lam1360's `-sr --s`): add `sparsity * sign(gamma)` to
   * the gradient of every BatchNorm gamma, the L1 subgradient that drives unneeded channels'
   * gammas to zero before `prune`. Default none. When set (0 included), each epoch log gets
   * `gamma` (|gamma| histogram and summary) and `outDir` gets `gammas.png`.
   */
  sparsity?: number;
  /** Loss override (default: `lossForSpec` of the (possibly re-classed) spec). */
  loss?: TrainLoss;
  /** Options of the default loss (e.g. a Darknet cfg's full anchor list and masks). */
  lossOptions?: LossForSpecOptions;
  /**
   * Where the steps run. 'auto' (default): on the project's wasm kernels (src/engine/training)
   * when the backend is wasm or cpu and every layer can be trained there, else tfjs autodiff.
   * 'engine' forces the kernels (an error when a layer cannot run there); 'tfjs' forces autodiff.
   * On the engine a frozen BatchNorm normalises with its running statistics and keeps them;
   * the tfjs path still normalises frozen BNs with batch statistics (and updates them).
   */
  engine?: 'auto' | 'engine' | 'tfjs';
  /** Threads of the engine path (default: as inference, `YOLO_TFJS_THREADS` or the cores). */
  engineThreads?: number;
  /** Called after every step. */
  onStep?: (s: StepLog) => void;
  /** Called after every epoch. */
  onEpoch?: (e: EpochLog) => void;
  /** Image decoder (default: `loadImage(image.file)`). */
  readImage?: (image: DatasetImage) => Promise<tf.Tensor3D>;
}

/** One step's record (also a line of `train.jsonl`). */
export interface StepLog {
  type: 'step';
  epoch: number;
  step: number;
  lr: number;
  total: number;
  box: number;
  obj: number;
  cls: number;
  ms: number;
}

/** One epoch's record (also a line of `train.jsonl`). */
export interface EpochLog {
  type: 'epoch';
  epoch: number;
  steps: number;
  total: number;
  box: number;
  obj: number;
  cls: number;
  /** Held-out VOC mAP@0.5 (when a valDataset was given). */
  mAP50?: number;
  /** Held-out COCO mAP@[.5:.95] (with cocoEval). */
  mAP?: number;
  /** BatchNorm |gamma| after this epoch (when the `sparsity` option is set). */
  gamma?: GammaStats;
  seconds: number;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** The trained detector: the input one, or a new one when the classes changed. */
  detector: Detector;
  epochs: EpochLog[];
  steps: StepLog[];
  /** The optimiser (its iteration count and slots); the caller may dispose it. */
  optimizer: tf.Optimizer;
  /** Which code ran the steps: the training engine or tfjs autodiff. */
  path: 'engine' | 'tfjs';
  /** With `engine: 'auto'` on wasm/cpu: why the engine was not used (a layer or the batch does not fit it). */
  engineFallback?: string;
}

/** The classes to train for: `classNames`, else `numClasses` names, else the dataset's; must match the dataset. */
export function resolveClassNames(detector: Detector, dataset: DetectionDataset, o: TrainOptions): string[] {
  let names = o.classNames ?? (o.numClasses !== undefined ? Array.from({ length: o.numClasses }, (_, i) => dataset.classNames[i] ?? `class${i}`) : dataset.classNames);
  if (!names || names.length === 0) names = detector.spec.classNames;
  if (names.length !== dataset.classNames.length) {
    throw new Error(`train: ${names.length} classes requested but the dataset has ${dataset.classNames.length} (${dataset.classNames.join(', ')})`);
  }
  return names;
}

/** Reject bad option values before anything is allocated. */
export function checkOptions(o: TrainOptions): void {
  const posInt = (k: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`train: ${k} must be a positive integer, got ${v}`);
  };
  posInt('epochs', o.epochs);
  posInt('batchSize', o.batchSize);
  if (o.epochs === undefined || o.batchSize === undefined) throw new Error('train: epochs and batchSize are required');
  posInt('maxSteps', o.maxSteps);
  if (o.lr !== undefined && !(o.lr > 0)) throw new Error(`train: lr must be > 0, got ${o.lr}`);
  if (o.optimizer !== undefined && o.optimizer !== 'sgd' && o.optimizer !== 'adam') throw new Error(`train: optimizer must be 'sgd' or 'adam', got '${o.optimizer as string}'`);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new Error(`train: weightDecay must be >= 0, got ${o.weightDecay}`);
  if (o.engine !== undefined && !['auto', 'engine', 'tfjs'].includes(o.engine)) throw new Error(`train: engine must be 'auto', 'engine' or 'tfjs', got '${String(o.engine)}'`);
  if (o.sparsity !== undefined && !(typeof o.sparsity === 'number' && o.sparsity >= 0 && Number.isFinite(o.sparsity))) {
    throw new Error(`train: sparsity must be a finite number >= 0, got ${String(o.sparsity)}`);
  }
}
