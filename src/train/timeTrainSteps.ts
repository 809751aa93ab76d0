/**
 * Time training steps of a detector on synthetic data: the measurement behind
 * `yolo-tfjs bench --train` and the training table of `npm run bench`. One step is what
 * `train()` runs per batch (forward in training mode, the family's loss, gradients, Adam
 * update, decoupled weight decay), on seeded random images and boxes, on the path `train()`
 * would take: the training engine (`createEngineTrainer`) when the backend is wasm or cpu and
 * the model can run there, else `trainStep` (tfjs autodiff); `path` forces one.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { TrainBox } from './augment';
import { mulberry32 } from '../util/random';
import { modelVariables } from './ema';
import { lossForSpec } from './lossForSpec';
import { KERNEL_NAME, trainStep } from './trainStep';
import { registerTrainingKernelsForBackend } from './wasmGradients';
import { EngineTrainer, createEngineTrainer } from './engineTrainStep';
import { TrainingPlanTooLargeError } from '../engine/training/trainingEngine';
import { UnsupportedTrainingGraphError } from '../engine/training/trainingGraph';

/** Options of {@link timeTrainSteps}. */
export interface TimeTrainStepsOptions {
  batch: number;
  /** Timed steps after the warm-up. */
  steps: number;
  /** Untimed steps after the first one (the first step is always run and reported apart). */
  warmup: number;
  /** Seed of the synthetic images and boxes. Default 0. */
  seed?: number;
  /** Adam learning rate. Default 1e-4 (small, so random data does not blow the loss up). */
  lr?: number;
  /** 'auto' (default, as train()), 'engine' (an error when the model cannot run there) or 'tfjs'. */
  path?: 'auto' | 'engine' | 'tfjs';
  /** Threads of the engine path (default: as train()). */
  threads?: number;
}

/** What {@link timeTrainSteps} measured. */
export interface TrainStepTiming {
  /** Median of the timed steps, ms. */
  msPerStep: number;
  /** The first step (allocations, optimizer slots, kernel setup), ms. */
  firstStepMs: number;
  minMs: number;
  /** Every timed step, ms, in order. */
  timesMs: number[];
  /**
   * Median process CPU time (all threads) of the timed steps, ms; in Node only. On a busy
   * machine it moves less than the wall time (but counts threads that spin while waiting).
   */
  cpuMsPerStep?: number;
  /** Loss of the last step (finite, else the step throws). */
  lastLoss: number;
  /** Which code ran the steps: the training engine or tfjs autodiff. */
  path: 'engine' | 'tfjs';
  /** With path 'auto': why the engine was not used (the model or batch does not fit it). */
  engineFallback?: string;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Random boxes for `batch` images of `size` (network-input pixels): 1-4 boxes per image,
 * 5-50% of the side, classes below `numClasses`; the same for the same seed.
 */
export function syntheticTrainBoxes(batch: number, size: [number, number], numClasses: number, seed = 0): TrainBox[][] {
  const rng = mulberry32(seed);
  const [h, w] = size;
  return Array.from({ length: batch }, () => {
    const n = 1 + Math.floor(rng() * 4);
    return Array.from({ length: n }, () => {
      const bw = w * (0.05 + 0.45 * rng());
      const bh = h * (0.05 + 0.45 * rng());
      const x1 = rng() * (w - bw);
      const y1 = rng() * (h - bh);
      return { x1, y1, x2: x1 + bw, y2: y1 + bh, classId: Math.floor(rng() * numClasses) };
    });
  });
}

/**
 * Runs one step, `warmup` untimed steps and `steps` timed ones of `trainStep` with Adam on the
 * detector's trainable weights (which it changes: use a throw-away detector). Tensors it
 * allocates are disposed; the optimizer too.
 */
export function timeTrainSteps(detector: Detector, o: TimeTrainStepsOptions): TrainStepTiming {
  if (!(Number.isInteger(o.batch) && o.batch > 0)) throw new Error(`timeTrainSteps: batch must be a positive integer, got ${o.batch}`);
  if (!(Number.isInteger(o.steps) && o.steps > 0)) throw new Error(`timeTrainSteps: steps must be a positive integer, got ${o.steps}`);
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new Error(`timeTrainSteps: warmup must be an integer >= 0, got ${o.warmup}`);
  registerTrainingKernelsForBackend();
  const seed = o.seed ?? 0;
  const lr = o.lr ?? 1e-4;
  const [h, w] = detector.spec.input.size;
  const images = tf.randomUniform([o.batch, h, w, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
  const boxes = syntheticTrainBoxes(o.batch, [h, w], detector.spec.classNames.length, seed);
  const loss = lossForSpec(detector.spec);
  const vars = modelVariables(detector.model, true);
  const optimizer = tf.train.adam(lr, 0.9);
  const want = o.path ?? 'auto';
  const backend = tf.getBackend();
  let trainer: EngineTrainer | null = null;
  let engineFallback: string | undefined;
  if (want === 'engine' || (want === 'auto' && (backend === 'wasm' || backend === 'cpu'))) {
    try {
      trainer = createEngineTrainer(detector, {
        batchSize: o.batch, vars, kind: 'adam', momentum: 0.9, decays: (v) => KERNEL_NAME.test(v.name), threads: o.threads,
      });
    } catch (e) {
      if (want === 'engine' || !(e instanceof UnsupportedTrainingGraphError || e instanceof TrainingPlanTooLargeError)) {
        images.dispose();
        optimizer.dispose();
        throw e;
      }
      engineFallback = (e as Error).message.split('\n')[0];
    }
  }
  try {
    let lastLoss = NaN;
    const cpuUsage = typeof process !== 'undefined' && typeof process.cpuUsage === 'function' ? () => process.cpuUsage() : undefined;
    const cpuTimes: number[] = [];
    const once = (): number => {
      const c0 = cpuUsage?.();
      const t0 = performance.now();
      lastLoss = trainer
        ? trainer.step(images, boxes, loss, lr, 5e-4).total
        : trainStep(detector, images, boxes, loss, optimizer, vars, lr, 5e-4).total;
      const ms = performance.now() - t0;
      if (c0 && cpuUsage) {
        const c = process.cpuUsage(c0);
        cpuTimes.push((c.user + c.system) / 1000);
      }
      return ms;
    };
    const firstStepMs = once();
    for (let i = 0; i < o.warmup; i++) once();
    cpuTimes.length = 0;
    const timesMs: number[] = [];
    for (let i = 0; i < o.steps; i++) timesMs.push(once());
    const sorted = [...timesMs].sort((a, b) => a - b);
    return {
      msPerStep: median(timesMs),
      firstStepMs,
      minMs: sorted[0],
      timesMs,
      cpuMsPerStep: cpuTimes.length ? median(cpuTimes) : undefined,
      lastLoss,
      path: trainer ? 'engine' : 'tfjs',
      ...(engineFallback ? { engineFallback } : {}),
    };
  } finally {
    // the model's variables get the engine's weights, as after train()
    trainer?.syncToModel();
    trainer?.dispose();
    images.dispose();
    optimizer.dispose();
  }
}
