/**
 * The evaluate-and-save phase of `train`: held-out mAP of the weights as they will be returned
 * (the EMA's when used), and, in Node with `outDir`, the best detector so far in `<outDir>/best`.
 */
import { evaluate } from './evaluate';
import { nodeRequire } from '../util/nodeRequire';
import { TrainRun } from './trainRun';
import { EpochLog } from './trainOptions';

/** Evaluate `run` on its `valDataset` into `e` (`mAP50`, and `mAP` with `cocoEval`); save a new best. */
export async function evaluateAndSaveBest(run: TrainRun, valDataset: NonNullable<TrainRun['opts']['valDataset']>, e: EpochLog): Promise<void> {
  const { opts, detector: det } = run;
  const restore = run.ema?.swapIn();
  try {
    const ev = await evaluate(det, valDataset, { coco: opts.cocoEval, readImage: opts.readImage, progress: false });
    e.mAP50 = ev.mAP50;
    if (ev.mAP !== undefined) e.mAP = ev.mAP;
    if (opts.outDir && ev.mAP50 > run.best) {
      run.best = ev.mAP50;
      const { saveDetector } = require('../io/saveDetector') as typeof import('../io/saveDetector');
      await saveDetector(det, (nodeRequire('path') as typeof import('path')).join(opts.outDir, 'best'));
    }
  } finally {
    restore?.();
  }
}
