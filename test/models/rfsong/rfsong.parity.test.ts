/**
 * Parity of RFSong with upstream (songwsx/RFSong-7993 run unmodified, torch 1.13, deterministic
 * random weights: ../shared/fixtures/rfsong, NOTES.md there): priors, raw loc and conf logits,
 * source feature maps, decode + softmax + py_cpu_nms detections (test_RFB.py and demo.py
 * settings, matched by prior index), on the wasm kernels and on the tfjs graph; detect(jpeg).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath, readF32, readJson, readU8 } from '../../helpers/fixtures';
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { Detector, Detection } from '../../../src/detector';
import { SsdHeadSpec } from '../../../src/spec';
import { ssdPriors } from '../../../src/decode/ssdPriors';
import { decodeOutputs } from '../../../src/decode/decode';
import { RFSONG_DEMO_THRESHOLDS } from '../../../src/models/rfsong/rfsongSpec';
import { expectFlatTensors } from '../../helpers/expectFlatTensors';

const DIR = 'rfsong';
const P = 7759;
const MAPS = [38, 19, 10, 5, 3, 1];
const ANCHORS = [4, 4, 4, 4, 4, 3];
const SIZES: Record<string, [number, number]> = { '1': [575, 640], '2': [422, 640] };

interface RefDet { class_id: number; score: number; x1: number; y1: number; x2: number; y2: number; prior_index: number }

/** NCHW fixture input -> NHWC tensor. */
function inputTensor(img: string): tf.Tensor4D {
  const chw = readF32(DIR, `input_${img}_nchw.f32`);
  return tf.tidy(() => tf.transpose(tf.tensor4d(chw, [1, 3, 300, 300]), [0, 2, 3, 1]) as tf.Tensor4D);
}

/** Our 12 raw outputs flattened in upstream prior order: loc [P*4], logits [P*2]. */
function flatHeads(out: tf.Tensor[]): { loc: Float32Array; conf: Float32Array } {
  const cat = (ts: tf.Tensor[], k: number) => tf.tidy(() => tf.concat(ts.map((t) => tf.reshape(t, [-1, k])), 0).dataSync() as Float32Array);
  return { loc: cat(out.slice(0, 6), 4), conf: cat(out.slice(6), 2) };
}

/** max |a - b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/**
 * Prior index of each of our detections: the row whose decoded box (unmapped to the image, as
 * postprocess does) equals the detection's box. Boxes are compared to 1e-6 px.
 */
function priorIndices(dets: Detection[], rows: Float32Array, stride: number, size: [number, number]): number[] {
  const [h, w] = size;
  return dets.map((d) => {
    for (let k = 0; k < P; k++) {
      const r = k * stride;
      if (
        Math.abs(rows[r] * (w / 300) - d.box[0]) < 1e-6 && Math.abs(rows[r + 1] * (h / 300) - d.box[1]) < 1e-6 &&
        Math.abs(rows[r + 2] * (w / 300) - d.box[2]) < 1e-6 && Math.abs(rows[r + 3] * (h / 300) - d.box[3]) < 1e-6 &&
        Math.abs(rows[r + 4 + d.classId] - d.score) < 1e-9
      ) return k;
    }
    throw new Error(`no prior gives detection ${JSON.stringify(d)}`);
  });
}

/** Our detections equal upstream's: same prior indices, boxes within 1e-2 px, scores within 2e-5. */
function expectSameDetections(ours: Detection[], idx: number[], ref: RefDet[]): { box: number; score: number } {
  expect(ours.length).toBe(ref.length);
  expect([...idx].sort((a, b) => a - b)).toEqual(ref.map((r) => r.prior_index).sort((a, b) => a - b));
  let box = 0;
  let score = 0;
  ref.forEach((r) => {
    const d = ours[idx.indexOf(r.prior_index)];
    expect(d.classId).toBe(r.class_id - 1);
    box = Math.max(box, ...[r.x1, r.y1, r.x2, r.y2].map((v, j) => Math.abs(v - d.box[j])));
    score = Math.max(score, Math.abs(d.score - r.score));
  });
  expect(box).toBeLessThan(1e-2);
  expect(score).toBeLessThan(2e-5);
  return { box, score };
}

describeFixtures(DIR, 'RFSong parity with upstream (random weights, seed 1234)', () => {
  let det: Detector;
  const report: string[] = [];

  beforeAll(() => {
    det = loadPytorch('rfsong', fs.readFileSync(fixturePath(DIR, 'rfsong_random_seed1234.pth')));
  });
  afterAll(() => {
    det?.dispose();
    // eslint-disable-next-line no-console
    console.log(`RFSong parity:\n  ${report.join('\n  ')}`);
  });

  it('reads the class count from the conf heads; parameter count as upstream', () => {
    expect(det.spec.classNames).toEqual(['person']);
    const sd = readPytorchStateDict(fs.readFileSync(fixturePath(DIR, 'rfsong_random_seed1234.pth')));
    let n = 0;
    for (const [k, t] of sd) if (!k.endsWith('num_batches_tracked')) n += t.shape.reduce((a, b) => a * b, 1);
    const ours = det.model.weights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);
    expect(ours).toBe(n);
    expect(n).toBe(readJson(DIR, 'manifest.json')._about.params_state_dict_excl_num_batches_tracked);
  });

  // NOTES.md: the legacy file is not kept; Debian's python3-torch writes one from the zip file.
  const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 120000 }).status === 0;
  if (!torchAvailable) {
    // eslint-disable-next-line no-console
    console.warn('SKIPPED legacy-format check: /usr/bin/python3 with torch is not available (apt-get install python3-torch)');
  }
  (torchAvailable ? it : it.skip)('the legacy (pre-1.6 pickle) format of the same state dict loads to the same weights', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rfsong-legacy-'));
    try {
      const legacy = path.join(tmp, 'legacy.pth');
      const py = 'import sys, torch; torch.save(torch.load(sys.argv[1]), sys.argv[2], _use_new_zipfile_serialization=False)';
      const r = spawnSync('/usr/bin/python3', ['-c', py, fixturePath(DIR, 'rfsong_random_seed1234.pth'), legacy], { encoding: 'utf8', timeout: 120000 });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      const bytes = fs.readFileSync(legacy);
      expect(bytes[0]).toBe(0x80); // a pickle, not a zip
      const other = loadPytorch('rfsong', bytes);
      try {
        const a = det.model.getWeights();
        const b = other.model.getWeights();
        expect(b.length).toBe(a.length);
        a.forEach((w, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(w, b[i]))).dataSync()[0])).toBe(0));
      } finally {
        other.dispose();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('priors equal prior_box.py bit for bit', () => {
    const ours = ssdPriors((det.spec.heads[0] as SsdHeadSpec).priors);
    const ref = readF32(DIR, 'priors.f32');
    expect(ours.length).toBe(ref.length);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) if (ours[i] !== ref[i]) diff++;
    expect(diff).toBe(0);
  });

  describe.each([['wasm-kernels'], ['tfjs']] as const)('engine %s', (engine) => {
    beforeAll(() => {
      det.engine = engine;
    });

    it.each(['1', '2'])('image %s: raw loc and class logits (1e-4 of their scale) and detections (test and demo settings, by prior index) match upstream', (img) => {
      const x = inputTensor(img);
      const out = det.predict(x);
      expect(out.map((o) => o.shape.slice(1))).toEqual([
        ...MAPS.map((f, k) => [f, f, ANCHORS[k] * 4]),
        ...MAPS.map((f, k) => [f, f, ANCHORS[k] * 2]),
      ]);
      expect(det.inferenceInfo().engine).toBe(engine === 'tfjs' ? 'tfjs-graph' : 'wasm-kernels');
      const { loc, conf } = flatHeads(out);
      const eLoc = relErr(loc, readF32(DIR, `loc_${img}.f32`));
      const eConf = relErr(conf, readF32(DIR, `conf_logits_${img}.f32`));
      report.push(`${engine} image ${img}: loc rel err ${eLoc.toExponential(2)}, logits rel err ${eConf.toExponential(2)}`);
      expect(eLoc).toBeLessThan(1e-4);
      expect(eConf).toBeLessThan(1e-4);
      const size = SIZES[img];
      const decoded = decodeOutputs(det.spec, out);
      const variants: [string, { scoreThreshold?: number; iouThreshold?: number }][] = [
        ['', {}],
        ['_demo', RFSONG_DEMO_THRESHOLDS],
      ];
      for (const [suffix, opts] of variants) {
        const ours = det.postprocess(out, { imageSize: size, ...opts });
        const ref = readJson<RefDet[]>(DIR, `detections_${img}${suffix}.json`);
        const e = expectSameDetections(ours, priorIndices(ours, decoded.rows, decoded.stride, size), ref);
        report.push(`${engine} image ${img}${suffix}: ${ours.length} detections, box err ${e.box.toExponential(2)} px, score err ${e.score.toExponential(2)}`);
      }
      tf.dispose([x, ...out]);
    });
  });

  it('decoded boxes and softmax equal upstream (decoded_1, conf_1)', () => {
    const x = inputTensor('1');
    const out = det.predict(x);
    const d = decodeOutputs(det.spec, out);
    const refBoxes = readF32(DIR, 'decoded_norm_1.f32');
    const refConf = readF32(DIR, 'conf_1.f32');
    let box = 0;
    let score = 0;
    for (let k = 0; k < P; k++) {
      for (let j = 0; j < 4; j++) box = Math.max(box, Math.abs(d.rows[k * d.stride + j] / 300 - refBoxes[k * 4 + j]));
      score = Math.max(score, Math.abs(d.rows[k * d.stride + 4] - refConf[k * 2 + 1]));
    }
    report.push(`decoded_norm_1 max |d| ${box.toExponential(2)}, softmax max |d| ${score.toExponential(2)}`);
    expect(box).toBeLessThan(2e-5);
    expect(score).toBeLessThan(2e-5);
    tf.dispose([x, ...out]);
  });

  it('the preprocessing matches BaseTransform on the resized image (BGR, minus means, no /255)', () => {
    const { preprocessImage } = require('../../../src/preprocess/preprocess') as typeof import('../../../src/preprocess/preprocess');
    // The resized uint8 BGR image as a 300x300 RGB "image": no resize, so the input must be exact.
    const bgr = readU8(DIR, 'resized_1_hwc_bgr.u8');
    const rgb = new Uint8Array(bgr.length);
    for (let i = 0; i < bgr.length; i += 3) [rgb[i], rgb[i + 1], rgb[i + 2]] = [bgr[i + 2], bgr[i + 1], bgr[i]];
    const img = tf.tensor3d(rgb, [300, 300, 3], 'int32');
    const pre = preprocessImage(img, det.spec.input);
    const ref = inputTensor('1');
    expect(tf.max(tf.abs(tf.sub(pre.tensor, ref))).dataSync()[0]).toBe(0);
    tf.dispose([img, pre.tensor, ref]);
  });

  it.each(['1', '2'])('detect(%s.jpg) end to end is close to upstream (IoU > 0.9, scores within 0.03; 1: test, 2: demo settings)', async (img) => {
    for (const [suffix, opts] of [[img === '1' ? '' : '_demo', img === '1' ? {} : RFSONG_DEMO_THRESHOLDS]] as const) {
      const ref = readJson<RefDet[]>(DIR, `detections_${img}${suffix}.json`);
      const ours = await det.detect(fs.readFileSync(fixturePath(DIR, `${img}.jpg`)), opts);
      expect(ours.length).toBe(ref.length);
      const used = new Set<number>();
      let worstIou = 1;
      let worstScore = 0;
      for (const r of ref) {
        let best = -1;
        let bestIou = 0;
        ours.forEach((d, i) => {
          if (used.has(i)) return;
          const iw = Math.max(0, Math.min(d.box[2], r.x2) - Math.max(d.box[0], r.x1));
          const ih = Math.max(0, Math.min(d.box[3], r.y2) - Math.max(d.box[1], r.y1));
          const inter = iw * ih;
          const iou = inter / ((d.box[2] - d.box[0]) * (d.box[3] - d.box[1]) + (r.x2 - r.x1) * (r.y2 - r.y1) - inter);
          if (iou > bestIou) [best, bestIou] = [i, iou];
        });
        expect(best).toBeGreaterThanOrEqual(0);
        used.add(best);
        worstIou = Math.min(worstIou, bestIou);
        worstScore = Math.max(worstScore, Math.abs(ours[best].score - r.score));
      }
      report.push(`detect(${img}.jpg)${suffix}: ${ours.length} detections as upstream; worst IoU ${worstIou.toFixed(6)}, worst score diff ${worstScore.toExponential(2)}`);
      expect(worstIou).toBeGreaterThan(0.9);
      expect(worstScore).toBeLessThan(0.03);
    }
  });

  it('predict + postprocess keep the tensor count flat', () => {
    const x = inputTensor('2');
    expectFlatTensors(() => {
      const out = det.predict(x);
      det.postprocess(out, { imageSize: SIZES['2'] });
      tf.dispose(out);
    }, 1);
    x.dispose();
  });
});
