// A whole training step on the engine (src/engine/training) against the tfjs path (autodiff of
// model.apply in training mode): loss, every weight gradient, BN running statistics, and the
// weights after one Adam update.
import { yoloFastestV2 } from '../../../src/models/yoloFastestV2/yoloFastestV2';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { writeDarknetWeights } from '../../../src/weights/writeDarknetWeights';
import { LINEAR_PATHS_CFG, randomDarknetTensors } from '../../prune/pruneCfgs';
import { registerTrainingKernelsForBackend } from '../../../src/train/wasmGradients';
import { scaledYolov4 } from '../../../src/models/scaledYolov4/scaledYolov4';
import { largeModelDict } from '../../../src/models/scaledYolov4/architectures';
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

/** yolov4-csp-s-mish's layer kinds at small widths: mish, a stride-2 CSP stage with a shortcut, SPP
 * (max pools 5 / 9 / 13 stride 1), logistic heads with new_coords (scale_x_y 2). */
const yolo2 = (mask: string) =>
  `[yolo]\nmask=${mask}\nanchors=10,14, 23,27, 37,58, 81,82, 135,169, 344,319\nclasses=3\nnum=6\nscale_x_y=2.0\nnew_coords=1\n`;
const logisticHead = '[convolutional]\nfilters=24\nsize=1\nstride=1\npad=1\nactivation=logistic\n';
const MISH_CSP_CFG = [
  '[net]\nwidth=64\nheight=64\nchannels=3\n',
  conv(8, 3, 'mish'),
  conv(16, 3, 'mish', 2),
  conv(8, 1, 'mish'),
  '[route]\nlayers=-2\n',
  conv(8, 1, 'mish'),
  conv(8, 3, 'mish'),
  '[shortcut]\nfrom=-2\nactivation=linear\n',
  '[route]\nlayers=-1,-5\n',
  conv(16, 3, 'mish', 2),
  conv(16, 3, 'mish', 2),
  conv(8, 1, 'mish'),
  '[maxpool]\nstride=1\nsize=5\n',
  '[route]\nlayers=-2\n',
  '[maxpool]\nstride=1\nsize=9\n',
  '[route]\nlayers=-4\n',
  '[maxpool]\nstride=1\nsize=13\n',
  '[route]\nlayers=-1,-3,-5,-6\n',
  conv(16, 1, 'mish'),
  logisticHead,
  yolo2('3,4,5'),
  '[route]\nlayers=-3\n',
  conv(8, 1, 'mish'),
  '[upsample]\nstride=2\n',
  '[route]\nlayers=-1,8\n',
  conv(16, 3, 'mish'),
  logisticHead,
  yolo2('0,1,2'),
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

  it('mish + SPP + logistic heads (Darknet, yolov4-csp-s-mish kinds, 64x64, batch 2)', async () => {
    const d = darknet(MISH_CSP_CFG);
    try {
      await compareStep(d, 2, { grad: 1e-4, worst: 1e-2, weight: 1e-6 });
    } finally {
      d.dispose();
    }
  });

  it('Scaled-YOLOv4 yolov4-p5 (mish; depth 0.33, width 0.125 of the published; 128x128, batch 2)', async () => {
    const d = scaledYolov4({ model: largeModelDict('yolov4-p5', { depth: 0.33, width: 0.125 }), numClasses: 3, inputSize: 128 });
    seedWeights(d, 2);
    try {
      // Measured 4.0e-4 overall. ~90 training-mode BNs, the deepest on 4x4 pixels x 2 images:
      // the tfjs path's own gradients move by 1.7e-4 overall when the input moves by 1e-6
      // (relative), and by 1.1e-3 at 64x64 where the engine differs by 1.9e-3.
      await compareStep(d, 2, { grad: 1e-3, worst: 1e-2, weight: 1e-6 });
    } finally {
      d.dispose();
    }
  });
});
