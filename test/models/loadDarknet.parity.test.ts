/**
 * Parity of `loadDarknet` against AlexeyAB Darknet (CPU build): the output of the layer
 * feeding each [yolo] (`yolo<L>_in_<img>.f32`, CHW) for the exact network input
 * (`input_<img>_hwc.f32`). Tolerance: max abs error 1e-3.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath, readF32, chwToHwc, maxAbsDiff } from '../helpers/fixtures';
import { loadDarknet } from '../../src/models/loadDarknet';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { darknetYoloLayers } from '../../src/models/darknetCfg';

const TOL = 1e-3;

interface Case {
  model: string;
  cfg: string;
  weights: string;
  images: string[];
}

const CASES: Case[] = [
  { model: 'yolov3-tiny', cfg: 'yolov3-tiny.cfg', weights: 'yolov3-tiny_random_seed1234.weights', images: ['dog'] },
  { model: 'yolov4-tiny', cfg: 'yolov4-tiny.cfg', weights: 'yolov4-tiny_random_seed1234.weights', images: ['dog'] },
  {
    model: 'yolo-fastest-1.1',
    cfg: 'yolo-fastest-1.1.cfg',
    weights: 'yolo-fastest-1.1.weights',
    images: ['dog', 'person', '000004'],
  },
  { model: 'yolo-fastest-1.1-xl', cfg: 'yolo-fastest-1.1-xl.cfg', weights: 'yolo-fastest-1.1-xl.weights', images: ['dog'] },
  {
    model: 'yolov4-csp-s-mish',
    cfg: 'yolov4-csp-s-mish.cfg',
    weights: 'yolov4-csp-s-mish_random_seed1234.weights',
    images: ['dog'],
  },
];

describeFixtures('darknet', 'loadDarknet parity with Darknet (yolo<L>_in, max abs error <= 1e-3)', () => {
  for (const c of CASES) {
    test(`${c.model}: ${c.images.join(', ')}`, () => {
      const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', c.cfg), 'utf8');
      const weights = fs.readFileSync(fixturePath('darknet', 'weights', c.weights));
      const det = loadDarknet(cfgText, weights);
      try {
        const yolos = darknetYoloLayers(parseDarknetCfg(cfgText));
        const [h, w] = det.spec.input.size;
        expect(det.model.outputs.length).toBe(yolos.length);
        for (const img of c.images) {
          const x = tf.tensor4d(readF32('darknet', c.model, `input_${img}_hwc.f32`), [1, h, w, 3]);
          const outs = det.predict(x);
          x.dispose();
          try {
            const errs: string[] = [];
            yolos.forEach((y, k) => {
              const [, oh, ow, oc] = outs[k].shape;
              const ref = chwToHwc(readF32('darknet', c.model, `yolo${y.index}_in_${img}.f32`), oc, oh, ow);
              const err = maxAbsDiff(outs[k].dataSync(), ref);
              errs.push(`yolo${y.index} ${oh}x${ow}x${oc}: ${err.toExponential(2)}`);
              expect(err).toBeLessThanOrEqual(TOL);
            });
            // eslint-disable-next-line no-console
            console.log(`[parity] ${c.model} ${img}: max abs error ${errs.join(', ')}`);
          } finally {
            tf.dispose(outs);
          }
        }
      } finally {
        det.dispose();
      }
    });
  }
});
