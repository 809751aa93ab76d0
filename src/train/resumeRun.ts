/**
 * NODE-ONLY: the resume phase of `train`: load a checkpoint folder into a freshly set-up run
 * (weights, optimiser slots, EMA shadow, step / epoch counters and the epoch history).
 */
import * as tf from '@tensorflow/tfjs';
import { TrainRun } from './trainRun';
import { EpochLog } from './trainOptions';

/** Continue `run` from the checkpoint in `dir`; its optimiser must be the run's. */
export async function resumeRun(run: TrainRun, dir: string): Promise<void> {
  const { loadCheckpoint } = require('./checkpoint') as typeof import('./checkpoint');
  const { copyLayerWeights } = require('../layers/copyLayerWeights') as typeof import('../layers/copyLayerWeights');
  const ck = await loadCheckpoint(dir);
  try {
    if (ck.state.optimizer !== run.optimizerKind) throw new Error(`train: checkpoint ${dir} used optimizer '${ck.state.optimizer}', not '${run.optimizerKind}'`);
    copyLayerWeights(ck.detector.model, run.detector.model);
    await run.optimizer.setWeights(ck.optimizerSlots);
    if (run.ema && ck.ema) run.ema.setValues(ck.ema, ck.state.emaUpdates ?? 0);
    run.step = ck.state.step;
    run.startEpoch = ck.state.epoch;
    run.epochs.push(...(ck.state.history as EpochLog[]));
  } finally {
    ck.detector.dispose();
    tf.dispose(ck.optimizerSlots.map((s) => s.tensor));
    if (ck.ema) tf.dispose(ck.ema);
  }
}
