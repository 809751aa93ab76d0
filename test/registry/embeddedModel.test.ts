/**
 * The embedded default model (Yolo-Fastest 1.1 COCO, int16 kernels): `load()` with no name
 * needs no file, cache or network and finds the objects of examples/images/dog.jpg; with the
 * fixtures, the committed asset is exactly what scripts/embed-default-model.js makes from the
 * upstream cfg + weights, and its detections stay within 0.5 px (boxes) and 1e-3 (scores) of
 * the float32 original on the three fixture images. Darknet parity of the embedded copy is in
 * test/models/darknet/loadDarknet.parity.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import { load } from '../../src/registry/load';
import { EMBEDDED_MODEL_NAME, embeddedModelFiles, loadEmbeddedModel } from '../../src/registry/embeddedModel';
import { DEFAULT_MODEL_SOURCE_SHA256, DEFAULT_MODEL_YTDW_BASE64 } from '../../src/registry/embedded/defaultModelAsset';
import { REGISTRY } from '../../src/registry/registry';
import { encodeCompactDarknet } from '../../src/weights/compactDarknetWeights';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';
import { describeFixtures, fixturePath, readF32, readJson } from '../helpers/fixtures';
import { matchDetections } from '../helpers/matchDetections';

const DOG = path.resolve(__dirname, '..', '..', 'examples', 'images', 'dog.jpg');

describe('load() with no name: the embedded model', () => {
  test('is Yolo-Fastest 1.1 COCO, reads no file and no network, and finds the dog, bicycle and car', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-embedded-'));
    fs.rmdirSync(cache);
    const env = { ...process.env };
    const fetchSpy = jest.fn(() => Promise.reject(new Error('no network in this test')));
    const realFetch = globalThis.fetch;
    (globalThis as { fetch: unknown }).fetch = fetchSpy;
    process.env.YOLO_TFJS_CACHE = cache;
    let det;
    try {
      det = await load();
    } finally {
      (globalThis as { fetch: unknown }).fetch = realFetch;
      process.env = env;
    }
    try {
      expect(fetchSpy).not.toHaveBeenCalled();
      expect(fs.existsSync(cache)).toBe(false);
      expect(det.spec.name).toBe(EMBEDDED_MODEL_NAME);
      expect(det.spec.input.size).toEqual([320, 320]);
      expect(det.spec.classNames.length).toBe(80);
      const dets = await det.detect(DOG);
      const labels = dets.map((d) => d.label);
      expect(labels).toEqual(expect.arrayContaining(['dog', 'bicycle', 'car']));
      const dog = dets.find((d) => d.label === 'dog')!;
      // the dog sits in the lower left of the 768x576 image
      expect(dog.box[0]).toBeLessThan(200);
      expect(dog.box[3]).toBeGreaterThan(450);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) await det.detect(DOG);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      det.dispose();
    }
  });

  test('a new Detector each call, with an input size override; dispose frees its weights', () => {
    const before = tf.memory().numTensors;
    const a = loadEmbeddedModel({ inputSize: 416 });
    const b = loadEmbeddedModel();
    try {
      expect(a.model).not.toBe(b.model);
      expect(a.spec.input.size).toEqual([416, 416]);
      const out = tf.tidy(() => a.predict(tf.zeros([1, 416, 416, 3]) as tf.Tensor4D));
      expect(out.map((t) => t.shape)).toEqual([[1, 13, 13, 255], [1, 26, 26, 255]]);
      tf.dispose(out);
    } finally {
      a.dispose();
      b.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describeFixtures('darknet/weights/yolo-fastest-1.1.weights', 'embedded model vs the upstream float32 files', () => {
  const cfgText = () => fs.readFileSync(fixturePath('darknet/weights/yolo-fastest-1.1.cfg'), 'utf8');
  const weights = () => new Uint8Array(fs.readFileSync(fixturePath('darknet/weights/yolo-fastest-1.1.weights')));

  test('the committed asset is what scripts/embed-default-model.js makes from the upstream files', () => {
    const sha = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');
    // the asset records the registry's sha256 of the upstream files, and the fixtures are those files
    const files = REGISTRY['yolo-fastest-1.1'].files;
    expect(DEFAULT_MODEL_SOURCE_SHA256).toEqual({ cfg: files[0].sha256, weights: files[1].sha256 });
    expect(sha(cfgText())).toBe(DEFAULT_MODEL_SOURCE_SHA256.cfg);
    expect(sha(weights())).toBe(DEFAULT_MODEL_SOURCE_SHA256.weights);
    const expected = Buffer.from(encodeCompactDarknet(cfgText(), weights()));
    const committed = Buffer.from(DEFAULT_MODEL_YTDW_BASE64, 'base64');
    expect(committed.length).toBe(expected.length);
    expect(committed.equals(expected)).toBe(true);
    expect(embeddedModelFiles().cfgText).toBe(cfgText());
  });

  test('detections within 0.5 px and 1e-3 of the float32 weights on dog, person, 000004', () => {
    const f32 = loadDarknet(cfgText(), weights());
    const emb = loadEmbeddedModel();
    try {
      for (const img of ['dog', 'person', '000004']) {
        const ref = readJson('darknet', 'yolo-fastest-1.1', `detections_yolo-fastest-1.1_${img}.json`);
        const x = tf.tensor4d(readF32('darknet', 'yolo-fastest-1.1', `input_${img}_hwc.f32`), [1, 320, 320, 3]);
        const [a, b] = [f32, emb].map((d) => {
          const raw = d.predict(x);
          try {
            return d.postprocess(raw, { imageSize: [ref.image_h, ref.image_w] });
          } finally {
            tf.dispose(raw);
          }
        });
        x.dispose();
        const asRef = a.map((d) => ({ class_id: d.classId, score: d.score, x1: d.box[0], y1: d.box[1], x2: d.box[2], y2: d.box[3] }));
        const m = matchDetections(b, asRef, { boxTol: 0.5, scoreTol: 1e-3 });
        // eslint-disable-next-line no-console
        console.log(`[embedded vs float32] ${img}: ${b.length}/${a.length} detections, worst box ${m.maxBoxErr.toExponential(2)} px, worst score ${m.maxScoreErr.toExponential(2)}`);
        expect(b.length).toBe(a.length);
        expect(a.length).toBeGreaterThan(4);
      }
    } finally {
      f32.dispose();
      emb.dispose();
    }
  });
});
