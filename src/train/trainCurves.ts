/**
 * NODE-ONLY: the PNG plots a training run writes to its `outDir` (`curves.png`, and
 * `gammas.png` for sparsity runs), drawn with the training-curve renderer.
 */
import { nodeRequire } from '../util/nodeRequire';
import { GammaStats, gammaPanels } from './gammaHistogram';
import { EpochLog, StepLog } from './trainOptions';

/** Node: `gammas.png`, the |gamma| histograms of a sparsity run. */
export async function writeGammaPlot(outDir: string, history: GammaStats[]): Promise<void> {
  const path = nodeRequire('path') as typeof import('path');
  const { writeCurvesPng } = require('./plotCurves') as typeof import('./plotCurves');
  await writeCurvesPng(path.join(outDir, 'gammas.png'), gammaPanels(history));
}

/** Node: `curves.png`, the smoothed per-step loss terms and the per-epoch held-out mAP. */
export async function writeCurves(outDir: string, steps: StepLog[], epochs: EpochLog[]): Promise<void> {
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
