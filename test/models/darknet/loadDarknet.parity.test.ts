/**
 * Parity of `loadDarknet` against AlexeyAB Darknet (CPU build): the output of the layer
 * feeding each [yolo] (`yolo<L>_in_<img>.f32`, CHW) for the exact network input
 * (`input_<img>_hwc.f32`). Tolerance: max abs error 1e-3; 1e-2 for the embedded copy of
 * Yolo-Fastest 1.1 (16-bit kernels, src/registry/embeddedModel.ts), whose detections must still
 * match Darknet's within 0.5 px and 1e-3.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath, readF32, readJson, chwToHwc, maxAbsDiff } from '../../helpers/fixtures';
import { matchDetections, RefDetection } from '../../helpers/matchDetections';
import { expectFlatLoadPredictDispose } from '../../helpers/expectFlatTensors';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { darknetYoloLayers } from '../../../src/models/darknet/darknetCfg';
import { loadEmbeddedModel } from '../../../src/registry/embeddedModel';
import { Detector } from '../../../src/detector';

const TOL = 1e-3;
/** Detections: boxes within 0.5 original-image px, scores within 1e-3 (issue 2). */
const BOX_TOL = 0.5;
const SCORE_TOL = 1e-3;



interface Case {
  model: string;
  cfg: string;
  weights: string;
  images: string[];
  /** How the detector is made (default: `loadDarknet` of the fixture cfg + weights). */
  load?: () => Detector;
  /** Test title suffix for a case whose detector is not the fixture weights. */
  label?: string;
  /** Max abs error of the raw heads (default TOL). */
  tol?: number;
}

/** Raw heads of the embedded copy: 16-bit kernels move them by up to ~5e-3 over the 100+ layers. */
const EMBEDDED_TOL = 1e-2;

const CASES: Case[] = [
  { model: 'yolov3-tiny', cfg: 'yolov3-tiny.cfg', weights: 'yolov3-tiny_random_seed1234.weights', images: ['dog'] },
  { model: 'yolov4-tiny', cfg: 'yolov4-tiny.cfg', weights: 'yolov4-tiny_random_seed1234.weights', images: ['dog'] },
  {
    model: 'yolo-fastest-1.1',
    cfg: 'yolo-fastest-1.1.cfg',
    weights: 'yolo-fastest-1.1.weights',
    images: ['dog', 'person', '000004'],
  },
  {
    model: 'yolo-fastest-1.1',
    cfg: 'yolo-fastest-1.1.cfg',
    weights: 'yolo-fastest-1.1.weights',
    images: ['dog', 'person', '000004'],
    load: () => loadEmbeddedModel(),
    label: 'the embedded copy (int16 kernels)',
    tol: EMBEDDED_TOL,
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
    test(`${c.model}${c.label ? `, ${c.label}` : ''}: ${c.images.join(', ')}`, () => {
      const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', c.cfg), 'utf8');
      const det = c.load ? c.load() : loadDarknet(cfgText, fs.readFileSync(fixturePath('darknet', 'weights', c.weights)));
      const tol = c.tol ?? TOL;
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
              expect(err).toBeLessThanOrEqual(tol);
            });
            // Decode + the cfg's NMS with the spec derived from the cfg vs Darknet's detections.
            const ref = readJson('darknet', c.model, `detections_${c.model}_${img}.json`);
            const exp = ref.expected_from_saved_tensors_cfg_nms as { count: number; detections: RefDetection[] };
            const dets = det.postprocess(outs, { imageSize: [ref.image_h, ref.image_w] });
            const m = matchDetections(dets, exp.detections, { boxTol: BOX_TOL, scoreTol: SCORE_TOL });
            // eslint-disable-next-line no-console
            console.log(
              `[parity] ${c.model}${c.label ? ` (${c.label})` : ''} ${img}: max abs error ${errs.join(', ')}; detections ${dets.length}/${exp.count}, ` +
                `worst box ${m.maxBoxErr.toExponential(2)} px, score ${m.maxScoreErr.toExponential(2)}`,
            );
            expect(dets.length).toBe(exp.count);
          } finally {
            tf.dispose(outs);
          }
        }
      } finally {
        det.dispose();
      }
    });
  }

  test('spec from the fixture cfgs (anchors by mask, scale_x_y, NMS kind, letterbox)', () => {
    const spec = (f: string) => {
      const det = loadDarknet(
        fs.readFileSync(fixturePath('darknet', 'weights', `${f}.cfg`), 'utf8'),
        fs.readFileSync(fixturePath('darknet', 'weights', CASES.find((c) => c.cfg === `${f}.cfg` && !c.load)!.weights)),
      );
      det.dispose();
      return det.spec;
    };
    const v4 = spec('yolov4-tiny');
    expect(v4.heads).toEqual([
      { kind: 'darknet', output: 0, anchors: [[81, 82], [135, 169], [344, 319]], scaleXY: 1.05, newCoords: false },
      { kind: 'darknet', output: 1, anchors: [[23, 27], [37, 58], [81, 82]], scaleXY: 1.05, newCoords: false },
    ]);
    expect(v4.nms).toEqual({ kind: 'diou', beta: 0.6, perClass: true, iouThreshold: 0.45 });
    expect(v4.input).toMatchObject({ size: [416, 416], resize: 'stretch', channelOrder: 'RGB' });
    expect(v4.classNames[16]).toBe('dog');
    expect(spec('yolov3-tiny').nms).toEqual({ kind: 'iou', perClass: true, iouThreshold: 0.45 });
    const csp = spec('yolov4-csp-s-mish');
    expect(csp.input).toMatchObject({ size: [320, 320], resize: 'letterbox', letterbox: { align: 'darknet', padValue: 0.5 } });
    expect(csp.heads.map((h) => (h.kind === 'darknet' ? [h.scaleXY, h.newCoords, h.anchors[0]] : null))).toEqual([
      [2, true, [12, 16]],
      [2, true, [36, 75]],
      [2, true, [142, 110]],
    ]);
    expect(csp.nms).toMatchObject({ kind: 'diou', iouThreshold: 0.45 });
  });

  test('tensor count is flat across repeated loadDarknet + predict + dispose (yolo-fastest-1.1)', () => {
    const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1.cfg'), 'utf8');
    const weights = fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1.weights'));
    const x = tf.tensor4d(readF32('darknet', 'yolo-fastest-1.1', 'input_dog_hwc.f32'), [1, 320, 320, 3]);
    expectFlatLoadPredictDispose(() => loadDarknet(cfgText, weights), x);
    x.dispose();
  });

  test('weights of another model give the byte-count error', () => {
    const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1.cfg'), 'utf8');
    const xl = fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1-xl.weights'));
    expect(() => loadDarknet(cfgText, xl)).toThrow(/Darknet weights: .*(needs \d+ floats|extra)/);
    expect(() => loadDarknet(cfgText, fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1.weights')), {
      classNames: ['a'],
    })).toThrow(/classNames has 1 names but the cfg has classes=80/);
  });
});
