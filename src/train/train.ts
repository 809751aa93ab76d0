/**
 * `train(detector, dataset, opts)`: fine-tune a detector. Streams augmented batches, computes
 * the model family's original loss (chosen from the spec's head kind), steps SGD-momentum or
 * Adam with warm-up and a cosine/step schedule, decoupled weight decay, optional EMA of the
 * weights, layer freezing and a class-count change (`withClasses`). In Node it can write
 * checkpoints (and resume from them), a JSONL log and a PNG of the loss / mAP curves.
 *
 * On the wasm backend the missing gradient kernels are registered first
 * (`registerWasmTrainingKernels`); on the cpu backend its wrong nearest-upsample gradient is
 * replaced (`registerCpuTrainingFixes`).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { DatasetImage, DetectionDataset } from './data/dataset';
import { AugmentOptions, TrainBox } from './augment';
import { defaultAugmentForSpec } from './augmentForSpec';
import { batchCount, batches } from './batches';
import { FreezeSpec, applyFreeze } from './modelParts';
import { withClasses } from './withClasses';
import { learningRateAt } from './schedule';
import { EmaOptions, WeightEma, modelVariables } from './ema';
import { LossForSpecOptions, LossTerms, TrainLoss, lossForSpec } from './lossForSpec';
import { evaluate } from './evaluate';
import { ProgressBar } from '../util/progress';
import { registerCpuTrainingFixes, registerWasmTrainingKernels } from './wasmGradients';
import { nodeRequire } from '../util/nodeRequire';
import { GammaStats, absGammas, bnGammaVariables, gammaPanels, gammaStats } from './gammaHistogram';
import { createEngineTrainer, EngineTrainer } from './engineTrainStep';
import { UnsupportedTrainingGraphError } from '../engine/training/trainingGraph';
import { TrainingPlanTooLargeError } from '../engine/training/trainingEngine';

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
  /** Seed for shuffling and augmentation. Default 0. */
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
   * the tfjs path still normalises frozen BNs with batch statistics.
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
  /** Which path ran the steps. */
  path: 'engine' | 'tfjs';
}

const KERNEL_NAME = /(^|\/)(kernel|depthwise_kernel|pointwise_kernel)(_\d+)?$/;

function resolveClassNames(detector: Detector, dataset: DetectionDataset, o: TrainOptions): string[] {
  let names = o.classNames ?? (o.numClasses !== undefined ? Array.from({ length: o.numClasses }, (_, i) => dataset.classNames[i] ?? `class${i}`) : dataset.classNames);
  if (!names || names.length === 0) names = detector.spec.classNames;
  if (names.length !== dataset.classNames.length) {
    throw new Error(`train: ${names.length} classes requested but the dataset has ${dataset.classNames.length} (${dataset.classNames.join(', ')})`);
  }
  return names;
}

function checkOptions(o: TrainOptions): void {
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

function setLr(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  // SGD / Momentum keep a -lr scalar that setLearningRate refreshes; Adam reads the field
  if (typeof o.setLearningRate === 'function' && opt.getClassName() !== 'Adam') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/**
 * One optimisation step: forward in training mode, loss, gradients of the trainable weights
 * (plus `sparsity * sign(gamma)` on the BatchNorm gammas when `sparsity` > 0), optimizer update,
 * decoupled weight decay. Returns the loss terms as numbers.
 */
export function trainStep(
  detector: Detector,
  images: tf.Tensor4D,
  boxes: TrainBox[][],
  loss: TrainLoss,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  lr: number,
  weightDecay: number,
  sparsity = 0,
): { total: number; box: number; obj: number; cls: number } {
  const kept: tf.Tensor[] = [];
  try {
    const terms = tf.tidy(() => {
      let parts: LossTerms | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const out = detector.model.apply(images, { training: true }) as tf.Tensor | tf.Tensor[];
        parts = loss(Array.isArray(out) ? out : [out], boxes, detector.spec);
        kept.push(tf.keep(parts.box), tf.keep(parts.obj), tf.keep(parts.cls));
        return parts.total;
      }, vars);
      if (sparsity > 0) {
        for (const g of bnGammaVariables(vars)) {
          if (grads[g.name]) grads[g.name] = tf.add(grads[g.name], tf.mul(tf.sign(g), sparsity));
        }
      }
      optimizer.applyGradients(grads);
      if (weightDecay > 0) {
        const f = 1 - lr * weightDecay;
        for (const v of vars) if (KERNEL_NAME.test(v.name)) v.assign(tf.mul(v, f));
      }
      return tf.stack([value, ...kept.map((k) => tf.reshape(k, []))]);
    });
    const [total, box, obj, cls] = Array.from(terms.dataSync());
    terms.dispose();
    if (!Number.isFinite(total)) throw new Error(`train: the loss became ${total} (box ${box}, obj ${obj}, cls ${cls}); lower the learning rate`);
    return { total, box, obj, cls };
  } finally {
    tf.dispose(kept);
  }
}

function jsonl(outDir: string | undefined): (rec: object) => void {
  if (!outDir) return () => undefined;
  const fs = nodeRequire('fs') as typeof import('fs');
  const path = nodeRequire('path') as typeof import('path');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'train.jsonl');
  return (rec) => fs.appendFileSync(file, `${JSON.stringify(rec)}\n`);
}

/** Node: `gammas.png`, the |gamma| histograms of a sparsity run. */
async function writeGammaPlot(outDir: string, history: GammaStats[]): Promise<void> {
  const path = nodeRequire('path') as typeof import('path');
  const { writeCurvesPng } = require('./plotCurves') as typeof import('./plotCurves');
  await writeCurvesPng(path.join(outDir, 'gammas.png'), gammaPanels(history));
}

async function writeCurves(outDir: string, steps: StepLog[], epochs: EpochLog[]): Promise<void> {
  const path = nodeRequire('path') as typeof import('path');
  const { writeCurvesPng } = require('./plotCurves') as typeof import('./plotCurves');
  const win = Math.max(1, Math.round(steps.length / 50));
  const smooth = (k: 'total' | 'box' | 'obj' | 'cls'): number[] =>
    steps.map((_, i) => {
      const a = steps.slice(Math.max(0, i - win + 1), i + 1);
      return a.reduce((s, x) => s + x[k], 0) / a.length;
    });
  const x = steps.map((s) => s.step);
  const panels = [
    {
      title: 'training loss (per step, smoothed)',
      series: [
        { label: 'total', x, y: smooth('total'), color: [20, 20, 20] as [number, number, number] },
        { label: 'box', x, y: smooth('box'), color: [31, 119, 180] as [number, number, number] },
        { label: 'obj', x, y: smooth('obj'), color: [255, 127, 14] as [number, number, number] },
        { label: 'cls', x, y: smooth('cls'), color: [44, 160, 44] as [number, number, number] },
      ],
    },
    {
      title: 'held-out mAP (per epoch)',
      yRange: [0, 1] as [number, number],
      series: [
        { label: 'mAP@0.5', x: epochs.map((e) => e.epoch + 1), y: epochs.map((e) => e.mAP50 ?? NaN), color: [214, 39, 40] as [number, number, number] },
        { label: 'mAP@.5:.95', x: epochs.map((e) => e.epoch + 1), y: epochs.map((e) => e.mAP ?? NaN), color: [148, 103, 189] as [number, number, number] },
      ],
    },
  ];
  await writeCurvesPng(path.join(outDir, 'curves.png'), panels);
}

/**
 * Fine-tune `detector` on `dataset` (see {@link TrainOptions}). Returns the trained detector
 * (the same object unless the classes changed, in which case the input detector is left as it
 * was and a new one is returned), the per-step and per-epoch logs, and the optimiser.
 */
export async function train(detector: Detector, dataset: DetectionDataset, opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  if (dataset.images.length === 0) throw new Error('train: the dataset has no images');
  const backend = tf.getBackend();
  if (backend === 'wasm') registerWasmTrainingKernels();
  else if (backend === 'cpu') registerCpuTrainingFixes();

  const classNames = resolveClassNames(detector, dataset, opts);
  const sameClasses = classNames.length === detector.spec.classNames.length && classNames.every((c, i) => c === detector.spec.classNames[i]);
  let det = detector;
  if (!sameClasses) det = await withClasses(detector, classNames);

  const loss = opts.loss ?? lossForSpec(det.spec, opts.lossOptions);
  const seed = opts.seed ?? 0;
  const kind = opts.optimizer ?? 'adam';
  const lr0 = opts.lr ?? (kind === 'adam' ? 0.001 : 0.01);
  const spe = batchCount(dataset.images.length, opts.batchSize);
  const plannedSteps = opts.epochs * spe;
  const totalSteps = Math.min(plannedSteps, opts.maxSteps ?? Infinity);
  const warmupSteps = Math.round((opts.warmupEpochs ?? Math.min(1, opts.epochs * 0.1)) * spe);
  const sched = { lr: lr0, totalSteps: plannedSteps, warmupSteps, schedule: opts.schedule, finalLrFactor: opts.finalLrFactor, milestones: opts.milestones, gamma: opts.gamma };
  const optimizer: tf.Optimizer = kind === 'adam' ? tf.train.adam(lr0, opts.momentum ?? 0.9) : tf.train.momentum(lr0, opts.momentum ?? 0.937, true);
  const weightDecay = opts.weightDecay ?? 5e-4;
  const augmentOpts = opts.augment === undefined ? defaultAugmentForSpec(det.spec) : opts.augment;

  applyFreeze(det.model, det.spec, opts.freeze);
  const vars = modelVariables(det.model, true);
  if (vars.length === 0) throw new Error('train: no trainable weights (everything is frozen)');
  const ema = opts.ema ? new WeightEma(det.model, { tau: Math.max(1, Math.min(2000, totalSteps / 4)), ...(opts.ema === true ? {} : opts.ema) }) : undefined;

  const epochs: EpochLog[] = [];
  const steps: StepLog[] = [];
  // Sparsity runs follow the BN |gamma| distribution, on fixed bins from 0 to the starting max.
  const gammaVars = opts.sparsity !== undefined ? bnGammaVariables(vars) : [];
  const gammaHistory: GammaStats[] = [];
  let gammaTop = 1;
  if (gammaVars.length) {
    const start = absGammas(gammaVars);
    gammaTop = start.reduce((m, v) => Math.max(m, v), 1e-6);
    gammaHistory.push(gammaStats(start, gammaTop));
  }
  let step = 0;
  let startEpoch = 0;
  if (opts.resume) {
    const { loadCheckpoint } = require('./checkpoint') as typeof import('./checkpoint');
    const { copyLayerWeights } = require('../models/copyLayerWeights') as typeof import('../models/copyLayerWeights');
    const ck = await loadCheckpoint(opts.resume);
    try {
      if (ck.state.optimizer !== kind) throw new Error(`train: checkpoint ${opts.resume} used optimizer '${ck.state.optimizer}', not '${kind}'`);
      copyLayerWeights(ck.detector.model, det.model);
      await optimizer.setWeights(ck.optimizerSlots);
      if (ema && ck.ema) ema.setValues(ck.ema, ck.state.emaUpdates ?? 0);
      step = ck.state.step;
      startEpoch = ck.state.epoch;
      epochs.push(...(ck.state.history as EpochLog[]));
    } finally {
      ck.detector.dispose();
      tf.dispose(ck.optimizerSlots.map((s) => s.tensor));
      if (ck.ema) tf.dispose(ck.ema);
    }
  }

  // The engine path (see TrainOptions.engine): set up after any resume so it reads those weights.
  let trainer: EngineTrainer | null = null;
  const want = opts.engine ?? 'auto';
  if (want === 'engine' || (want === 'auto' && (backend === 'wasm' || backend === 'cpu'))) {
    try {
      trainer = createEngineTrainer(det, {
        batchSize: opts.batchSize,
        vars,
        kind,
        momentum: opts.momentum ?? (kind === 'adam' ? 0.9 : 0.937),
        decays: (v) => KERNEL_NAME.test(v.name),
        threads: opts.engineThreads,
      });
      await trainer.optimizer.importFrom(optimizer);
    } catch (e) {
      trainer?.dispose();
      trainer = null;
      if (want === 'engine' || !(e instanceof UnsupportedTrainingGraphError || e instanceof TrainingPlanTooLargeError)) {
        if (det !== detector) det.dispose();
        optimizer.dispose();
        applyFreeze(det.model, det.spec, undefined);
        ema?.dispose();
        throw e;
      }
    }
  }
  /** Publish the engine's weights to the model (before anything reads the model's variables). */
  const sync = () => trainer?.syncToModel();

  const log = jsonl(opts.outDir);
  const bar = new ProgressBar({ total: Math.max(0, totalSteps - step), label: 'train', silent: opts.progress === false });
  let best = -Infinity;
  try {
    for (let epoch = startEpoch; epoch < opts.epochs && step < totalSteps; epoch++) {
      const t0 = Date.now();
      const sums = { total: 0, box: 0, obj: 0, cls: 0 };
      let n = 0;
      const stream = batches(dataset, det.spec.input, { batchSize: opts.batchSize, epoch, seed, augment: augmentOpts, readImage: opts.readImage });
      for await (const batch of stream) {
        const ts = Date.now();
        const lr = learningRateAt(step, sched);
        setLr(optimizer, lr);
        let r: { total: number; box: number; obj: number; cls: number };
        try {
          r = trainer
            ? trainer.step(batch.images, batch.boxes, loss, lr, weightDecay, opts.sparsity ?? 0)
            : trainStep(det, batch.images, batch.boxes, loss, optimizer, vars, lr, weightDecay, opts.sparsity ?? 0);
        } finally {
          batch.images.dispose();
        }
        if (ema || opts.onStep) sync();
        ema?.update();
        const rec: StepLog = { type: 'step', epoch, step, lr, ...r, ms: Date.now() - ts };
        steps.push(rec);
        log(rec);
        opts.onStep?.(rec);
        for (const k of ['total', 'box', 'obj', 'cls'] as const) sums[k] += r[k];
        n++;
        step++;
        bar.tick(1, { epoch: `${epoch + 1}/${opts.epochs}`, loss: r.total, box: r.box, obj: r.obj, cls: r.cls, lr: lr.toExponential(2) });
        if (step >= totalSteps) {
          await stream.return(undefined);
          break;
        }
      }
      const e: EpochLog = {
        type: 'epoch', epoch, steps: n,
        total: sums.total / Math.max(1, n), box: sums.box / Math.max(1, n), obj: sums.obj / Math.max(1, n), cls: sums.cls / Math.max(1, n),
        seconds: (Date.now() - t0) / 1000,
      };
      const lastEpoch = epoch === opts.epochs - 1 || step >= totalSteps;
      sync();
      if (gammaVars.length) {
        e.gamma = gammaStats(absGammas(gammaVars), gammaTop);
        gammaHistory.push(e.gamma);
      }
      if (opts.valDataset && ((epoch + 1) % (opts.evalEvery ?? 1) === 0 || lastEpoch)) {
        const restore = ema?.swapIn();
        try {
          const ev = await evaluate(det, opts.valDataset, { coco: opts.cocoEval, readImage: opts.readImage, progress: false });
          e.mAP50 = ev.mAP50;
          if (ev.mAP !== undefined) e.mAP = ev.mAP;
          if (opts.outDir && ev.mAP50 > best) {
            best = ev.mAP50;
            const { saveDetector } = require('../io/saveDetector') as typeof import('../io/saveDetector');
            await saveDetector(det, (nodeRequire('path') as typeof import('path')).join(opts.outDir, 'best'));
          }
        } finally {
          restore?.();
        }
      }
      epochs.push(e);
      log(e);
      opts.onEpoch?.(e);
      if (opts.outDir && ((epoch + 1) % (opts.checkpointEvery ?? 1) === 0 || lastEpoch)) {
        const path = nodeRequire('path') as typeof import('path');
        const { saveCheckpoint } = require('./checkpoint') as typeof import('./checkpoint');
        if (trainer) await trainer.optimizer.exportTo(optimizer);
        await saveCheckpoint(
          path.join(opts.outDir, 'checkpoint'),
          det,
          optimizer,
          { epoch: epoch + 1, step, seed, optimizer: kind, emaUpdates: ema?.updates, history: epochs },
          ema?.values,
        );
        await writeCurves(opts.outDir, steps, epochs);
        if (gammaHistory.length) await writeGammaPlot(opts.outDir, gammaHistory);
      }
    }
    sync();
    if (trainer) await trainer.optimizer.exportTo(optimizer);
    if (ema) ema.applyTo();
  } catch (e) {
    if (det !== detector) det.dispose();
    optimizer.dispose();
    throw e;
  } finally {
    trainer?.dispose();
    ema?.dispose();
    applyFreeze(det.model, det.spec, undefined);
  }
  return { detector: det, epochs, steps, optimizer, path: trainer ? 'engine' : 'tfjs' };
}
