/**
 * Parity of YOLO-FastestV2 with upstream (dog-qiuqiu/Yolo-FastestV2, PyTorch 1.13) using the
 * REAL COCO weights: raw heads, backbone/neck activations, decode + NMS, and detect() from a JPEG.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { chwToHwc, describeFixtures, fixturePath, maxAbsDiff, readF32, readJson } from '../../helpers/fixtures';
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { yoloFastestV2FromStateDict } from '../../../src/models/yoloFastestV2/fromStateDict';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';
import { Detector, Detection } from '../../../src/detector';

const DIR = 'yolo-fastestv2';
const IMAGES = ['000139', '000004'];
const GRIDS = [22, 11];
const PARTS: [string, number][] = [['reg', 12], ['obj', 3], ['cls', 80]];

interface RefDetection {
  box: [number, number, number, number];
  score: number;
  class: number;
  label: string;
}

/** The six upstream NCHW heads of an image as our two NHWC [1, g, g, 95] outputs. */
function upstreamRaw(img: string): tf.Tensor4D[] {
  return GRIDS.map((g) => {
    const out = new Float32Array(g * g * 95);
    let off = 0;
    for (const [name, c] of PARTS) {
      const hwc = chwToHwc(readF32(DIR, 'tensors', `${img}_head_${name}_${g}.bin`), c, g, g);
      for (let p = 0; p < g * g; p++) for (let k = 0; k < c; k++) out[p * 95 + off + k] = hwc[p * c + k];
      off += c;
    }
    return tf.tensor4d(out, [1, g, g, 95]);
  });
}

function iou(a: number[], b: number[]): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

describeFixtures(DIR, 'YOLO-FastestV2 parity with upstream (real COCO weights)', () => {
  let det: Detector;
  const report: string[] = [];

  beforeAll(() => {
    const sd = readPytorchStateDict(fs.readFileSync(fixturePath(DIR, 'coco2017-0.241078ap-model.pth')));
    det = yoloFastestV2FromStateDict(sd);
  });
  afterAll(() => {
    disposeLayersModel(det.model);
    // eslint-disable-next-line no-console
    console.log(`YOLO-FastestV2 parity:\n  ${report.join('\n  ')}`);
  });

  it.each(IMAGES)('%s: the six raw head outputs match upstream to 1e-3', (img) => {
    const x = tf.tensor4d(readF32(DIR, 'tensors', `${img}_input_nhwc.bin`), [1, 352, 352, 3]);
    const out = det.predict(x);
    expect(out.map((o) => o.shape)).toEqual([[1, 22, 22, 95], [1, 11, 11, 95]]);
    GRIDS.forEach((g, s) => {
      let off = 0;
      for (const [name, c] of PARTS) {
        const ours = tf.tidy(() => tf.slice(out[s], [0, 0, 0, off], [1, g, g, c]));
        const ref = chwToHwc(readF32(DIR, 'tensors', `${img}_head_${name}_${g}.bin`), c, g, g);
        const err = maxAbsDiff(ours.dataSync(), ref);
        ours.dispose();
        report.push(`${img} ${name}_${g}: max |d| = ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-3);
        off += c;
      }
    });
    tf.dispose([x, ...out]);
  });

  it('000139: backbone stage outputs and neck activations match upstream', () => {
    const taps = [
      ['backbone.first_conv', 'backbone.first_conv.2'],
      ['backbone.maxpool', 'backbone.maxpool'],
      ['backbone.stage2', 'backbone.stage2.3.concat'],
      ['backbone.stage3', 'backbone.stage3.7.concat'],
      ['backbone.stage4', 'backbone.stage4.3.concat'],
      ['fpn.P2_concat', 'fpn.P2_concat'],
      ['fpn.conv1x1_2', 'fpn.conv1x1_2.2'],
      ['fpn.cls_head_2', 'fpn.cls_head_2.block.9'],
      ['fpn.reg_head_3', 'fpn.reg_head_3.block.9'],
    ];
    const sub = tf.model({ inputs: det.model.inputs, outputs: taps.map(([, layer]) => det.model.getLayer(layer).output as tf.SymbolicTensor) });
    const x = tf.tensor4d(readF32(DIR, 'tensors', '000139_input_nhwc.bin'), [1, 352, 352, 3]);
    const acts = sub.predict(x) as tf.Tensor[];
    taps.forEach(([ref], i) => {
      const [, h, w, c] = acts[i].shape;
      const expected = chwToHwc(readF32(DIR, 'tensors', `000139_act_${ref}.bin`), c, h, w);
      const err = maxAbsDiff(acts[i].dataSync(), expected);
      report.push(`000139 act ${ref} [${h}x${w}x${c}]: max |d| = ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-3);
    });
    tf.dispose([x, ...acts]);
  });

  describe.each(IMAGES)('%s: postprocess of upstream raw heads reproduces upstream detections', (img) => {
    it.each([
      ['threshold 0.3 (spec default)', '', undefined],
      ['threshold 0.05', '_t005', 0.05],
    ] as const)('%s', (_what, suffix, threshold) => {
      const ref = readJson<{ orig_width: number; orig_height: number; conf_thres: number; detections: RefDetection[] }>(
        DIR, `detections_${img}${suffix}.json`,
      );
      expect(ref.conf_thres).toBe(threshold ?? 0.3);
      const raw = upstreamRaw(img);
      const dets: Detection[] = det.postprocess(raw, { imageSize: [ref.orig_height, ref.orig_width], scoreThreshold: threshold });
      tf.dispose(raw);
      expect(dets.length).toBe(ref.detections.length);
      let boxErr = 0;
      let scoreErr = 0;
      dets.forEach((d, i) => {
        const r = ref.detections[i];
        expect(d.classId).toBe(r.class);
        expect(d.label).toBe(r.label);
        boxErr = Math.max(boxErr, maxAbsDiff(d.box, r.box));
        scoreErr = Math.max(scoreErr, Math.abs(d.score - r.score));
      });
      report.push(`${img}${suffix} postprocess: ${dets.length} dets, box max |d| = ${boxErr.toExponential(2)} px, score max |d| = ${scoreErr.toExponential(2)}`);
      expect(boxErr).toBeLessThan(0.5);
      expect(scoreErr).toBeLessThan(1e-3);
    });
  });

  it('detect(000139.jpg) from the JPEG (our resize, BGR) gives upstream boxes', async () => {
    const ref = readJson<{ detections: RefDetection[] }>(DIR, 'detections_000139.json').detections;
    const dets = await det.detect(fixturePath('images', '000139.jpg'));
    expect(dets.length).toBe(ref.length);
    const sorted = dets.slice().sort((a, b) => b.score - a.score);
    sorted.forEach((d, i) => {
      expect(d.classId).toBe(ref[i].class);
      const o = iou(d.box, ref[i].box);
      report.push(`detect 000139 #${i} ${d.label}: IoU ${o.toFixed(4)}, score ${d.score.toFixed(4)} vs ${ref[i].score.toFixed(4)}`);
      expect(o).toBeGreaterThan(0.9);
      expect(Math.abs(d.score - ref[i].score)).toBeLessThan(0.03);
    });
  });

  it('tf.memory().numTensors is flat across repeated predict and detect calls', async () => {
    const x = tf.tensor4d(readF32(DIR, 'tensors', '000004_input_nhwc.bin'), [1, 352, 352, 3]);
    tf.dispose(det.predict(x));
    await det.detect(fixturePath('images', '000004.jpg'));
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(det.predict(x));
    await det.detect(fixturePath('images', '000004.jpg'));
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
  });
});
