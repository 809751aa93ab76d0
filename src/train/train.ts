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
import { Detector } from '../detector';
import { DetectionDataset } from './data/dataset';
import { applyFreeze } from './modelParts';
import { ProgressBar } from '../util/progress';
import { registerTrainingKernelsForBackend } from './wasmGradients';
import { TrainOptions, TrainResult, checkOptions } from './trainOptions';
import { prepareRun } from './trainRun';
import { resumeRun } from './resumeRun';
import { trainEpoch } from './trainEpoch';
import { evaluateAndSaveBest } from './evaluateEpoch';
import { checkpointEpoch } from './checkpointEpoch';
import { jsonl } from './trainLog';
import { attachEngine } from './engineTrainStep';

export type { TrainOptions, StepLog, EpochLog, TrainResult } from './trainOptions';
export { trainStep } from './trainStep';

/** Every `every` epochs (default 1), and after the last one. */
function due(epoch: number, every: number | undefined, lastEpoch: boolean): boolean {
  return (epoch + 1) % (every ?? 1) === 0 || lastEpoch;
}

/**
 * Fine-tune `detector` on `dataset` (see {@link TrainOptions}). Returns the trained detector
 * (the same object unless the classes changed, in which case the input detector is left as it
 * was and a new one is returned), the per-step and per-epoch logs, and the optimiser.
 *
 * The phases: set-up (`prepareRun`), resume (`resumeRun`), then per epoch the steps
 * (`trainEpoch`), evaluation and the best detector (`evaluateAndSaveBest`) and the checkpoint
 * (`checkpointEpoch`).
 */
export async function train(detector: Detector, dataset: DetectionDataset, opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  if (dataset.images.length === 0) throw new Error('train: the dataset has no images');
  registerTrainingKernelsForBackend();

  const run = await prepareRun(detector, dataset, opts);
  try {
    if (opts.resume) await resumeRun(run, opts.resume);
    // After any resume, so the engine starts from those weights and optimizer slots.
    await attachEngine(run);
  } catch (e) {
    if (run.detector !== detector) run.detector.dispose();
    run.optimizer.dispose();
    run.ema?.dispose();
    applyFreeze(run.detector.model, run.detector.spec, undefined);
    throw e;
  }

  const report = { log: jsonl(opts.outDir), bar: new ProgressBar({ total: Math.max(0, run.totalSteps - run.step), label: 'train', silent: opts.progress === false }) };
  const det = run.detector;
  try {
    for (let epoch = run.startEpoch; epoch < opts.epochs && run.step < run.totalSteps; epoch++) {
      const e = await trainEpoch(run, epoch, report);
      const lastEpoch = epoch === opts.epochs - 1 || run.step >= run.totalSteps;
      if (opts.valDataset && due(epoch, opts.evalEvery, lastEpoch)) await evaluateAndSaveBest(run, opts.valDataset, e);
      run.epochs.push(e);
      report.log(e);
      opts.onEpoch?.(e);
      if (opts.outDir && due(epoch, opts.checkpointEvery, lastEpoch)) await checkpointEpoch(run, opts.outDir, epoch);
    }
    if (run.trainer) {
      run.trainer.syncToModel();
      await run.trainer.optimizer.exportTo(run.optimizer);
    }
    if (run.ema) run.ema.applyTo();
  } catch (e) {
    if (det !== detector) det.dispose();
    run.optimizer.dispose();
    throw e;
  } finally {
    run.trainer?.dispose();
    run.ema?.dispose();
    applyFreeze(det.model, det.spec, undefined);
  }
  return { detector: det, epochs: run.epochs, steps: run.steps, optimizer: run.optimizer, path: run.trainer ? 'engine' : 'tfjs', engineFallback: run.engineFallback };
}
