import * as tf from '@tensorflow/tfjs';
import { tinyYoloV3, tinyYoloBody } from '../../../src/models/darknet/tinyYoloV3';
import { darknetConvLayers } from '../../../src/models/darknet/darknetConvLayers';
import { describeDarknetParity } from '../../helpers/darknetParity';

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

describeDarknetParity({
  name: 'yolov3-tiny',
  title: 'tinyYoloV3 parity with Darknet (random weights, dog)',
  build: () => tinyYoloV3(),
  heads: [['yolo16_in_dog.f32', 13], ['yolo23_in_dog.f32', 26]],
  nmsLabel: 'do_nms_sort',
});
