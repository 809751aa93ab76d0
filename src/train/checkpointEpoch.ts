/**
 * NODE-ONLY: the checkpoint phase of `train`: `<outDir>/checkpoint` (weights, optimiser slots,
 * EMA shadow, loop state) after an epoch, and the plots of the run so far.
 */
import { nodeRequire } from '../util/nodeRequire';
import { TrainRun } from './trainRun';
import { writeCurves, writeGammaPlot } from './trainCurves';

/** Save the state after `epoch` (0-based) of `run` to `outDir`, so that `resume` continues at the next epoch. */
export async function checkpointEpoch(run: TrainRun, outDir: string, epoch: number): Promise<void> {
  const path = nodeRequire('path') as typeof import('path');
  const { saveCheckpoint } = require('./checkpoint') as typeof import('./checkpoint');
  if (run.trainer) await run.trainer.optimizer.exportTo(run.optimizer);
  await saveCheckpoint(
    path.join(outDir, 'checkpoint'),
    run.detector,
    run.optimizer,
    { epoch: epoch + 1, step: run.step, seed: run.seed, optimizer: run.optimizerKind, emaUpdates: run.ema?.updates, history: run.epochs },
    run.ema?.values,
  );
  await writeCurves(outDir, run.steps, run.epochs);
  if (run.gammas.history.length) await writeGammaPlot(outDir, run.gammas.history);
}
