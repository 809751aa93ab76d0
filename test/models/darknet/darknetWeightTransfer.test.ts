/**
 * The hand-written tiny YOLOv3 / YOLOv4-tiny and the cfg-built networks (`loadDarknet`) are the
 * same networks: weights move between them by layer name and give identical outputs.
 * Built at 160x160 (the weights do not depend on the input size) to keep the test fast.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath, maxAbsDiff } from '../../helpers/fixtures';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { tinyYoloV3 } from '../../../src/models/darknet/tinyYoloV3';
import { yoloV4Tiny } from '../../../src/models/darknet/yoloV4Tiny';
import { copyLayerWeights } from '../../../src/layers/copyLayerWeights';
import { Detector } from '../../../src/detector';
import { darknetConv2D } from '../../../src/layers/darknetConv2D';

const SIZE = 160;

function outputsDiff(a: Detector, b: Detector, x: tf.Tensor4D): number {
  const oa = a.predict(x);
  const ob = b.predict(x);
  try {
    expect(oa.map((t) => t.shape)).toEqual(ob.map((t) => t.shape));
    return Math.max(...oa.map((t, i) => maxAbsDiff(t.dataSync(), ob[i].dataSync())));
  } finally {
    tf.dispose([...oa, ...ob]);
  }
}

const CASES: [string, string, string, (o: { inputSize: number }) => Detector][] = [
  ['yolov3-tiny', 'yolov3-tiny.cfg', 'yolov3-tiny_random_seed1234.weights', tinyYoloV3],
  ['yolov4-tiny', 'yolov4-tiny.cfg', 'yolov4-tiny_random_seed1234.weights', yoloV4Tiny],
];

describeFixtures('darknet/weights', 'weights move between the hand-written models and loadDarknet', () => {
  it.each(CASES)('%s', (_name, cfgFile, weightsFile, build) => {
    const cfg = fs.readFileSync(fixturePath('darknet', 'weights', cfgFile), 'utf8');
    const loaded = loadDarknet(cfg, fs.readFileSync(fixturePath('darknet', 'weights', weightsFile)), { inputSize: SIZE });
    const mine = build({ inputSize: SIZE });
    const x = tf.randomUniform([1, SIZE, SIZE, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    try {
      // the same spec data (decode / NMS) from both routes
      expect(mine.spec.heads).toEqual(loaded.spec.heads);
      expect(mine.spec.nms).toEqual(loaded.spec.nms);
      expect(mine.model.countParams()).toBe(loaded.model.countParams());
      // fresh random weights differ ...
      expect(outputsDiff(loaded, mine, x)).toBeGreaterThan(1e-2);
      // ... Darknet weights: cfg-built -> hand-written gives identical outputs
      copyLayerWeights(loaded.model, mine.model);
      expect(outputsDiff(loaded, mine, x)).toBe(0);
      // and back: random weights of the hand-written model into the cfg-built one
      const fresh = build({ inputSize: SIZE });
      try {
        copyLayerWeights(fresh.model, loaded.model);
        expect(outputsDiff(loaded, fresh, x)).toBe(0);
        expect(outputsDiff(loaded, mine, x)).toBeGreaterThan(1e-2);
      } finally {
        fresh.dispose();
      }
    } finally {
      x.dispose();
      loaded.dispose();
      mine.dispose();
    }
  });

  it('copyLayerWeights names the layer when the architectures differ', () => {
    const small = (filters: number, extra: boolean) => {
      const inp = tf.input({ shape: [8, 8, 3] });
      let y = darknetConv2D({ filters, size: 3, batchNormalize: true, activation: 'leaky', name: 'conv_0' })(inp);
      if (extra) y = darknetConv2D({ filters: 2, size: 1, name: 'conv_1' })(y);
      return tf.model({ inputs: inp, outputs: y, name: `m${filters}${extra}` });
    };
    const a = small(4, false);
    const b = small(5, false);
    const c = small(4, true);
    try {
      expect(() => copyLayerWeights(a, b)).toThrow(/layer 'conv_0_conv' weight shapes differ/);
      expect(() => copyLayerWeights(a, c)).toThrow(/layer 'conv_1_conv' of 'm4true' has no counterpart/);
      expect(() => copyLayerWeights(c, a)).toThrow(/layer 'conv_1_conv' of 'm4true' has no weighted counterpart/);
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });
});
