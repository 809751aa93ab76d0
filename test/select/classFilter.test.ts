/**
 * The `classes` option of postprocess / detect, on the embedded model and examples/images/dog.jpg
 * (no fixtures needed): names or ids keep exactly those classes' detections, applied before NMS
 * and `maxDetections`; bad names and ids fail with a message listing valid classes.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadEmbeddedModel } from '../../src/registry/embeddedModel';
import { Detector } from '../../src/detector';
import { loadImage } from '../../src/preprocess/preprocess';
import { preprocessImage } from '../../src/preprocess/preprocess';
import { keepOnlyClasses, resolveClassFilter } from '../../src/select/classFilter';
import { COCO_CLASSES } from '../../src/spec';

const DOG = path.resolve(__dirname, '..', '..', 'examples', 'images', 'dog.jpg');

describe('classes option', () => {
  let det: Detector;
  let raw: tf.Tensor[];
  let imageSize: [number, number];
  beforeAll(async () => {
    det = loadEmbeddedModel();
    const px = await loadImage(DOG);
    const pre = preprocessImage(px.tensor, det.spec.input);
    if (px.owned) px.tensor.dispose();
    imageSize = pre.imageSize;
    raw = det.predict(pre.tensor);
    pre.tensor.dispose();
  });
  afterAll(() => {
    tf.dispose(raw);
    det.dispose();
  });

  test('names, ids and any case keep exactly the detections of those classes', () => {
    const all = det.postprocess(raw, { imageSize });
    expect(new Set(all.map((d) => d.label))).toEqual(new Set(['car', 'dog', 'cat', 'bicycle', 'person']));
    const want = all.filter((d) => d.label === 'dog' || d.label === 'car');
    expect(want.length).toBeGreaterThanOrEqual(3);
    const byName = det.postprocess(raw, { imageSize, classes: ['dog', 'car'] });
    expect(byName).toEqual(want); // per-class NMS: filtering first changes nothing else
    expect(det.postprocess(raw, { imageSize, classes: [16, 2] })).toEqual(want);
    expect(det.postprocess(raw, { imageSize, classes: ['Dog', 'CAR'] })).toEqual(want);
    expect(det.postprocess(raw, { imageSize, classes: [] })).toEqual([]);
  });

  test('applied before maxDetections and before class-agnostic NMS', () => {
    const cars = det.postprocess(raw, { imageSize, classes: ['car'] });
    expect(cars.length).toBeGreaterThanOrEqual(2);
    expect(det.postprocess(raw, { imageSize, classes: ['car'], maxDetections: 1 })).toEqual([cars[0]]);
    // class-agnostic NMS: the cat box overlaps the dog box (IoU > 0.9) and is suppressed by it;
    // with only 'cat' wanted, the dog box is gone before NMS and the cat box survives
    const agnostic = { perClass: false };
    expect(det.postprocess(raw, { imageSize, nms: agnostic }).some((d) => d.label === 'cat')).toBe(false);
    expect(det.postprocess(raw, { imageSize, nms: agnostic, classes: ['cat'] }).map((d) => d.label)).toEqual(['cat']);
  });

  test('an unknown name or a bad id fails with a clear message, before the image is read', async () => {
    expect(() => det.postprocess(raw, { imageSize, classes: ['persn'] })).toThrow(
      /^unknown class 'persn': did you mean 'person'\? valid classes include person, .*\(80 in all\)$/,
    );
    expect(() => det.postprocess(raw, { imageSize, classes: ['spaceship'] })).toThrow(
      /^unknown class 'spaceship': valid classes include person, bicycle, car, .* \(80 in all\)$/,
    );
    expect(() => det.postprocess(raw, { imageSize, classes: [80] })).toThrow(/class id 80 is out of range: this model has classes 0\.\.79/);
    expect(() => det.postprocess(raw, { imageSize, classes: [1.5] })).toThrow(/class id 1.5 is out of range/);
    expect(() => det.postprocess(raw, { imageSize, classes: 'person' as unknown as string[] })).toThrow(/classes must be an array/);
    const before = tf.memory().numTensors;
    await expect(det.detect('/no/such/image.jpg', { classes: ['unicorn'] })).rejects.toThrow(/unknown class 'unicorn'/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('resolveClassFilter / keepOnlyClasses on single-label rows', () => {
  expect([...resolveClassFilter(COCO_CLASSES, ['person', 2, 'person'])].sort()).toEqual([0, 2]);
  // a huge unknown name: a short message, no edit distances over a million characters
  const huge = 'x'.repeat(1_000_000);
  expect(() => resolveClassFilter(COCO_CLASSES, [huge])).toThrow(new RegExp(`^unknown class '${'x'.repeat(64)}\\.\\.\\.': valid classes include person, `));
  // two candidates: best class 0 (score 0.9) and best class 3 (score 0.8)
  const d = { batch: 1, count: 2, numClasses: 4, multiLabel: false, stride: 6, rows: new Float32Array([0, 0, 1, 1, 0.9, 0, 0, 0, 1, 1, 0.8, 3]) };
  keepOnlyClasses(d, new Set([3]));
  expect(d.rows[4]).toBe(-Infinity);
  expect(d.rows[10]).toBeCloseTo(0.8);
});
