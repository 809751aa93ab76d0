/**
 * The Detector API on a small tiny-YOLOv3 (random weights): input checks, batch postprocess,
 * every image input kind, batched detect, and flat tensor memory over 100 detect calls.
 */
import * as tf from '@tensorflow/tfjs';
import { tinyYoloV3 } from '../src/models/darknet/tinyYoloV3';
import { Detector } from '../src/detector';

describe('Detector', () => {
  let det: Detector;
  beforeAll(() => {
    det = tinyYoloV3({ numClasses: 2, classNames: ['a', 'b'], inputSize: 96 });
  });
  afterAll(() => det.dispose());

  test('predict returns one NHWC tensor per head, Darknet channel layout', () => {
    const x = tf.zeros([2, 96, 96, 3]);
    const out = det.predict(x);
    expect(out.map((t) => t.shape)).toEqual([
      [2, 3, 3, 21],
      [2, 6, 6, 21],
    ]);
    tf.dispose([x, ...out]);
  });

  test('predict rejects wrong shapes with the expected and actual sizes', () => {
    const a = tf.zeros([1, 64, 64, 3]);
    const b = tf.zeros([1, 96, 96]);
    expect(() => det.predict(a)).toThrow(/expects input 96x96 .* got 64x64/);
    expect(() => det.predict(b)).toThrow(/\[N, H, W, 3\].*got shape \[1, 96, 96\]/);
    tf.dispose([a, b]);
  });

  test('postprocess: batch of 1 gives a list, batches need postprocessBatch, imageSize is checked', () => {
    const x = tf.randomUniform([2, 96, 96, 3], 0, 1, 'float32', 1);
    const raw = det.predict(x);
    const lists = det.postprocessBatch(raw, { imageSize: [[100, 200], [50, 60]], scoreThreshold: 0.1 });
    expect(lists.length).toBe(2);
    for (const d of lists.flat()) {
      expect(d.label === 'a' || d.label === 'b').toBe(true);
      expect(d.score).toBeGreaterThan(0.1);
    }
    expect(() => det.postprocess(raw, { imageSize: [100, 200] })).toThrow(/postprocessBatch/);
    expect(() => det.postprocessBatch(raw, { imageSize: [[1, 1]] })).toThrow(/1 entries for a batch of 2/);
    expect(() => det.postprocessBatch(raw, { imageSize: [100, 200], scoreThreshold: 2 })).toThrow(/scoreThreshold/);
    tf.dispose([x, ...raw]);
  });

  test('class count mismatch between spec and outputs is an error that says so', () => {
    const wrong = tf.zeros([1, 3, 3, 255]);
    const ok = tf.zeros([1, 6, 6, 21]);
    expect(() => det.postprocess([wrong, ok], { imageSize: [96, 96] })).toThrow(/class count mismatch.*255 channels.*2 classes/);
    tf.dispose([wrong, ok]);
  });

  test('detect accepts a Tensor3D, ImageData-like RGBA, and an array (batched) with the same result', async () => {
    const px = new Uint8ClampedArray(40 * 30 * 4);
    for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 251;
    for (let i = 3; i < px.length; i += 4) px[i] = 255;
    const rgb = new Int32Array(40 * 30 * 3);
    for (let i = 0, j = 0; i < px.length; i += 4) {
      rgb[j++] = px[i];
      rgb[j++] = px[i + 1];
      rgb[j++] = px[i + 2];
    }
    const t = tf.tensor3d(rgb, [30, 40, 3], 'int32');
    const opts = { scoreThreshold: 0.05 };
    const a = await det.detect(t, opts);
    const b = await det.detect({ data: px, width: 40, height: 30 }, opts);
    const c = await det.detect([t, { data: px, width: 40, height: 30 }], opts);
    expect(b).toEqual(a);
    expect(c.length).toBe(2);
    for (const list of c) {
      expect(list.length).toBe(a.length);
      list.forEach((d, i) => {
        expect(d.classId).toBe(a[i].classId);
        expect(d.score).toBeCloseTo(a[i].score, 5);
      });
    }
    t.dispose();
  });

  test('tf.memory().numTensors stays flat across 100 detect calls', async () => {
    const img = tf.randomUniform([48, 64, 3], 0, 255, 'int32', 7) as tf.Tensor3D;
    await det.detect(img); // warm-up
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) await det.detect(img, { scoreThreshold: 0.2 });
    expect(tf.memory().numTensors).toBe(before);
    img.dispose();
  });

  test('the compiled fast path equals model.predict and follows weight changes', () => {
    const x = tf.randomUniform([1, 96, 96, 3], 0, 1, 'float32', 3);
    const viaLayers = det.model.predict(x) as tf.Tensor[];
    const fast = det.predict(x);
    fast.forEach((t, i) => expect(tf.max(tf.abs(tf.sub(t, viaLayers[i]))).dataSync()[0]).toBeLessThan(1e-4));
    // change a weight: the next predict must see it (recompiled), not the stale folded copy
    const head = det.model.getLayer('conv_15_conv');
    const [k, b] = head.getWeights();
    head.setWeights([k, tf.add(b, 1)]);
    const after = det.predict(x);
    const diff = tf.max(tf.abs(tf.sub(after[0], fast[0]))).dataSync()[0];
    expect(diff).toBeCloseTo(1, 4);
    head.setWeights([k, b]);
    tf.dispose([x, ...viaLayers, ...fast, ...after]);
  });

  test('spec referring to a missing output is rejected at construction', () => {
    expect(() => new Detector(det.model, { ...det.spec, heads: [{ ...det.spec.heads[0], output: 5 } as never] })).toThrow(
      /refers to output 5 but the model has 2 outputs/,
    );
  });
});
