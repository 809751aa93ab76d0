// A whole training step on the engine (src/engine/training) against the tfjs path (autodiff of
// model.apply in training mode): loss, every weight gradient, BN running statistics, and the
// weights after one Adam update.
import { yoloFastestV2 } from '../../../src/models/yoloFastestV2/yoloFastestV2';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { writeDarknetWeights } from '../../../src/weights/writeDarknetWeights';
import { LINEAR_PATHS_CFG, randomDarknetTensors } from '../../prune/pruneCfgs';
import { registerTrainingKernelsForBackend } from '../../../src/train/wasmGradients';
import { compareStep, seedWeights } from './stepParity';

const conv = (filters: number, size: number, act: string, stride = 1) =>
  `[convolutional]\nbatch_normalize=1\nfilters=${filters}\nsize=${size}\nstride=${stride}\npad=1\nactivation=${act}\n`;
const head = '[convolutional]\nfilters=24\nsize=1\nstride=1\npad=1\nactivation=linear\n';
const yolo = (mask: string) => `[yolo]\nmask=${mask}\nanchors=10,14, 23,27, 37,58, 81,82, 135,169, 344,319\nclasses=3\nnum=6\n`;
/** tiny YOLOv3's layer kinds at small widths: maxpool 2/2 and 2/1, two heads, upsample + route. */
const TINY_V3_LIKE_CFG = [
  '[net]\nwidth=64\nheight=64\nchannels=3\n',
  conv(8, 3, 'leaky'),
  '[maxpool]\nsize=2\nstride=2\n',
  conv(16, 3, 'leaky'),
  '[maxpool]\nsize=2\nstride=2\n',
  conv(16, 3, 'leaky'),
  '[maxpool]\nsize=2\nstride=2\n',
  conv(32, 3, 'leaky'),
  '[maxpool]\nsize=2\nstride=2\n',
  conv(32, 3, 'leaky'),
  '[maxpool]\nsize=2\nstride=1\n',
  conv(32, 1, 'leaky'),
  head,
  yolo('3,4,5'),
  '[route]\nlayers=-3\n',
  conv(16, 1, 'leaky'),
  '[upsample]\nstride=2\n',
  '[route]\nlayers=-1,6\n',
  conv(32, 3, 'leaky'),
  head,
  yolo('0,1,2'),
].join('\n');

describe('training engine step vs the tfjs path', () => {
  beforeAll(() => {
    registerTrainingKernelsForBackend(); // the reference: train()'s tfjs gradients on this backend
  });

  it('YOLO-FastestV2 (128x128, batch 2)', async () => {
    const d = yoloFastestV2({ inputSize: 128, numClasses: 3 });
    seedWeights(d, 1);
    try {
      // Measured 1.2e-4 overall, 9e-4 on the worst variable (a beta whose gradient is float
      // noise). ~50 training-mode BNs in a row on few pixels amplify rounding: tfjs' own cpu and
      // wasm backends differ by 2.8e-2 overall on this model.
      await compareStep(d, 2, { grad: 1e-3, worst: 1e-2, weight: 1e-6 });
    } finally {
      d.dispose();
    }
  });

  const darknet = (cfg: string) => loadDarknet(cfg, writeDarknetWeights(parseDarknetCfg(cfg), randomDarknetTensors(cfg, 5)));

  it('a tiny-YOLOv3-like Darknet cfg (64x64, batch 2)', async () => {
    const d = darknet(TINY_V3_LIKE_CFG);
    try {
      await compareStep(d, 2, { grad: 1e-4, worst: 1e-2, weight: 1e-6 });
    } finally {
      d.dispose();
    }
  });

  it('shortcut, route groups, upsample (Darknet, 32x32, batch 2)', async () => {
    const d = darknet(LINEAR_PATHS_CFG);
    try {
      await compareStep(d, 2, { grad: 1e-4, worst: 1e-2, weight: 1e-6 });
    } finally {
      d.dispose();
    }
  });
});
