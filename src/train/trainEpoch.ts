/**
 * The epoch phase of `train`: stream the epoch's augmented batches, one `trainStep` each (with
 * the scheduled learning rate and the EMA update), log every step, and summarise the epoch.
 */
import { batches } from './batches';
import { learningRateAt } from './schedule';
import { ProgressBar } from '../util/progress';
import { setLearningRate, trainStep } from './trainStep';
import { TrainRun } from './trainRun';
import { EpochLog, StepLog } from './trainOptions';

/** Where the loop reports to: the JSONL log and the progress bar. */
export interface TrainReport {
  log: (rec: object) => void;
  bar: ProgressBar;
}

/**
 * Run epoch `epoch` of `run` (stopping early at `run.totalSteps`) and return its summary: the
 * mean loss terms, and the |gamma| state when a sparsity run follows it. Evaluation is not part
 * of it.
 */
export async function trainEpoch(run: TrainRun, epoch: number, report: TrainReport): Promise<EpochLog> {
  const { opts, detector: det } = run;
  const t0 = Date.now();
  const sums = { total: 0, box: 0, obj: 0, cls: 0 };
  let n = 0;
  const stream = batches(run.dataset, det.spec.input, { batchSize: opts.batchSize, epoch, seed: run.seed, augment: run.augment, readImage: opts.readImage });
  for await (const batch of stream) {
    const ts = Date.now();
    const lr = learningRateAt(run.step, run.schedule);
    setLearningRate(run.optimizer, lr);
    let r: { total: number; box: number; obj: number; cls: number };
    try {
      r = run.trainer
        ? run.trainer.step(batch.images, batch.boxes, run.loss, lr, run.weightDecay, opts.sparsity ?? 0)
        : trainStep(det, batch.images, batch.boxes, run.loss, run.optimizer, run.vars, lr, run.weightDecay, opts.sparsity ?? 0);
    } finally {
      batch.images.dispose();
    }
    // onStep may read the model's variables: publish the engine's weights first (the EMA of an
    // engine run lives in engine memory and reads the engine's weights).
    if (opts.onStep) run.trainer?.syncToModel();
    run.ema?.update();
    const rec: StepLog = { type: 'step', epoch, step: run.step, lr, ...r, ms: Date.now() - ts };
    run.steps.push(rec);
    report.log(rec);
    opts.onStep?.(rec);
    for (const k of ['total', 'box', 'obj', 'cls'] as const) sums[k] += r[k];
    n++;
    run.step++;
    report.bar.tick(1, { epoch: `${epoch + 1}/${opts.epochs}`, loss: r.total, box: r.box, obj: r.obj, cls: r.cls, lr: lr.toExponential(2) });
    if (run.step >= run.totalSteps) {
      await stream.return(undefined);
      break;
    }
  }
  const e: EpochLog = {
    type: 'epoch', epoch, steps: n,
    total: sums.total / Math.max(1, n), box: sums.box / Math.max(1, n), obj: sums.obj / Math.max(1, n), cls: sums.cls / Math.max(1, n),
    seconds: (Date.now() - t0) / 1000,
  };
  // Evaluation, checkpoints and the |gamma| record read the model: publish the engine's weights.
  run.trainer?.syncToModel();
  const gamma = run.gammas.record();
  if (gamma) e.gamma = gamma;
  return e;
}
