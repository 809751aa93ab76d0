import * as tf from '@tensorflow/tfjs';
import { tinyYoloV3, tinyYoloBody } from '../../src/models/tinyYoloV3';
import { darknetConvLayers } from '../../src/models/darknetConvLayers';
import { describeFixtures, fixturePath, readF32, readJson, chwToHwc, maxAbsDiff } from '../helpers/fixtures';
import { matchDetections, RefDetection as ExpectedDetection } from '../helpers/matchDetections';
import * as fs from 'fs';
import { readDarknetWeights } from '../../src/weights/readDarknetWeights';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { setDarknetWeights } from '../../src/models/darknetCfg';

function trainableCount(m: tf.LayersModel): number {
  return m.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

describe('tinyYoloV3 (shapes)', () => {
  it('416 / 80 classes: two heads in cfg order and keras-yolo3 parameter count', () => {
    const det = tinyYoloV3();
    expect(det.model.outputs.map((o) => o.shape)).toEqual([[null, 13, 13, 255], [null, 26, 26, 255]]);
    // keras-yolo3 tiny_yolo_body total params (BN gamma, beta, moving mean, moving variance all
    // counted, as tfjs countParams does) = Darknet's float count in the .weights file.
    expect(det.model.countParams()).toBe(8858734);
    // trainable: everything except the BN moving statistics
    const bnChannels = [16, 32, 64, 128, 256, 512, 1024, 256, 512, 128, 256].reduce((a, b) => a + b, 0);
    expect(trainableCount(det.model)).toBe(8858734 - 2 * bnChannels);
    expect(darknetConvLayers(det.model).map((c) => c.index)).toEqual([0, 2, 4, 6, 8, 10, 12, 13, 14, 15, 18, 21, 22]);
    expect(det.spec.heads).toEqual([
      { kind: 'darknet', output: 0, anchors: [[81, 82], [135, 169], [344, 319]], scaleXY: 1, newCoords: false },
      { kind: 'darknet', output: 1, anchors: [[10, 14], [23, 27], [37, 58]], scaleXY: 1, newCoords: false },
    ]);
    expect(det.spec.input).toEqual({ size: [416, 416], resize: 'stretch', channelOrder: 'RGB', scale: 1 / 255 });
    expect(det.spec.nms).toEqual({ kind: 'iou', perClass: true, iouThreshold: 0.45 });
    expect(det.spec.multiLabel).toBe(true);
    expect(det.spec.scoreThreshold).toBe(0.25);
    expect(det.spec.maxDetections).toBe(0);
    expect(det.classNames.length).toBe(80);
    expect(det.classNames[16]).toBe('dog');
    det.dispose();
  });

  it('other sizes, classes and anchors', () => {
    const det = tinyYoloV3({ numClasses: 2, inputSize: [320, 256], anchors: [1, 2, 3, 4, 5, 6, 7, 8], classNames: ['a', 'b'] });
    expect(det.model.outputs.map((o) => o.shape)).toEqual([[null, 10, 8, 2 * 7], [null, 20, 16, 2 * 7]]);
    expect(det.spec.heads.map((h) => (h.kind === 'darknet' ? h.anchors : []))).toEqual([[[5, 6], [7, 8]], [[1, 2], [3, 4]]]);
    expect(det.spec.classNames).toEqual(['a', 'b']);
    det.dispose();
  });

  it('rejects bad options with clear errors', () => {
    expect(() => tinyYoloV3({ inputSize: 400 })).toThrow(/tinyYoloV3: inputSize must be a positive multiple of 32, got 400/);
    expect(() => tinyYoloV3({ numClasses: 0 })).toThrow(/numClasses must be a positive integer, got 0/);
    expect(() => tinyYoloV3({ anchors: [1, 2, 3] })).toThrow(/flat anchors need an even count/);
    expect(() => tinyYoloV3({ anchors: [[1, 2], [3, 4], [5, 6]] })).toThrow(/even number of anchors/);
    expect(() => tinyYoloV3({ anchors: [[1, -2], [3, 4]] })).toThrow(/anchors must be positive/);
    expect(() => tinyYoloV3({ numClasses: 3, classNames: ['a'] })).toThrow(/classNames has 1 names but numClasses is 3/);
    expect(() => tinyYoloBody(tf.input({ shape: [32, 32, 3] }), 0, 80)).toThrow(/numAnchors must be a positive integer, got 0/);
  });
});

describeFixtures('darknet/yolov3-tiny', 'tinyYoloV3 parity with Darknet (random weights, dog)', () => {
  let det: ReturnType<typeof tinyYoloV3>;
  let input: tf.Tensor4D;
  beforeAll(() => {
    det = tinyYoloV3();
    // the library's reader + assignment by cfg conv index (layer names conv_<i>_conv / _bn)
    const cfg = parseDarknetCfg(fs.readFileSync(fixturePath('darknet', 'weights', 'yolov3-tiny.cfg'), 'utf8'));
    setDarknetWeights(det.model, cfg, readDarknetWeights(fs.readFileSync(fixturePath('darknet', 'weights', 'yolov3-tiny_random_seed1234.weights')), cfg).tensors);
    input = tf.tensor4d(readF32('darknet', 'yolov3-tiny', 'input_dog_hwc.f32'), [1, 416, 416, 3]);
  });
  afterAll(() => {
    input.dispose();
    det.dispose();
  });

  it('raw head outputs match yolo16_in / yolo23_in to 1e-3', () => {
    const out = det.predict(input);
    const refs: [string, number][] = [['yolo16_in_dog.f32', 13], ['yolo23_in_dog.f32', 26]];
    refs.forEach(([file, g], i) => {
      expect(out[i].shape).toEqual([1, g, g, 255]);
      const ref = chwToHwc(readF32('darknet', 'yolov3-tiny', file), 255, g, g);
      const err = maxAbsDiff(out[i].dataSync(), ref);
      // eslint-disable-next-line no-console
      console.log(`yolov3-tiny ${file}: max abs err ${err.toExponential(3)}`);
      expect(err).toBeLessThan(1e-3);
    });
    tf.dispose(out);
  });

  it('postprocess reproduces Darknet\'s detections (do_nms_sort) as a set', () => {
    const raw = det.predict(input);
    const dets = det.postprocess(raw, { imageSize: [576, 768] });
    tf.dispose(raw);
    const ref = readJson<{ expected_from_saved_tensors_cfg_nms: { count: number; detections: ExpectedDetection[] } }>(
      'darknet', 'yolov3-tiny', 'detections_yolov3-tiny_dog.json',
    ).expected_from_saved_tensors_cfg_nms;
    // same count, every reference detection matched (class, box within 0.5 px, score within 1e-3)
    const m = matchDetections(dets, ref.detections, { boxTol: 0.5, scoreTol: 1e-3 });
    // eslint-disable-next-line no-console
    console.log(`yolov3-tiny dog: ${dets.length}/${ref.count} detections matched, worst box ${m.maxBoxErr.toExponential(2)} px, worst score ${m.maxScoreErr.toExponential(2)}`);
    expect(dets.length).toBe(ref.count);
  });

  it('keeps tf.memory().numTensors flat across predict calls', () => {
    tf.dispose(det.predict(input));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(det.predict(input));
    expect(tf.memory().numTensors).toBe(before);
  });
});
