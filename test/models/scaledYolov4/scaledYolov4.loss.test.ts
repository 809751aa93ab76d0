/**
 * The yolov4-large training loss: hand-checked terms on a tiny case, and a training smoke test
 * (the loss of a tiny YAML model decreases over a few steps on a two-image set).
 */
import * as tf from '@tensorflow/tfjs';
import { scaledYoloLoss } from '../../../src/models/scaledYolov4/loss';
import { scaledYolov4 } from '../../../src/models/scaledYolov4/scaledYolov4';
import { registerWasmTrainingKernels } from '../../../src/train/wasmGradients';
import { randomInput, randomizeWeights } from '../../infer/randomWeights';

const TINY_YAML = [
  'nc: 3',
  'depth_multiple: 0.33',
  'width_multiple: 0.125',
  'anchors:',
  '  - [8,8, 16,12]',
  '  - [24,24, 40,32]',
  'backbone:',
  '  [[-1, 1, Conv, [32, 3, 2]],',
  '   [-1, 1, Conv, [64, 3, 2]],',
  '   [-1, 1, BottleneckCSP, [64]],',
  '   [-1, 1, Conv, [64, 3, 2]],',
  '   [-1, 1, SPPCSP, [64]]]',
  'head:',
  '  [[-1, 1, Conv, [32, 1, 1]],',
  '   [-1, 1, nn.Upsample, [None, 2, nearest]],',
  '   [[-1, 2], 1, Concat, [1]],',
  '   [-1, 1, BottleneckCSP2, [32]],',
  '   [[8, 4], 1, Detect, [nc, anchors]]]',
].join('\n');

describe('scaledYoloLoss', () => {
  it('all-zero logits, no boxes: objectness BCE log(2) weighted by balance and 3/levels, times batch', () => {
    const outs = [tf.zeros([2, 4, 4, 2 * 8]), tf.zeros([2, 2, 2, 2 * 8])];
    const terms = scaledYoloLoss(outs, [[], []], { inputSize: [32, 32], anchors: [[[8, 8], [16, 12]], [[24, 24], [40, 32]]], numClasses: 3 });
    // (4.0 + 1.0) * ln 2 * obj 1.0 * (3 / 2) * batch 2
    expect(terms.obj.dataSync()[0]).toBeCloseTo(5 * Math.log(2) * 1.5 * 2, 4);
    expect(terms.box.dataSync()[0]).toBe(0);
    expect(terms.cls.dataSync()[0]).toBe(0);
    tf.dispose([...outs, terms.total, terms.box, terms.obj, terms.cls]);
  });

  it('a box exactly predicted gives CIoU 1 (box term 0) and objectness target 1', () => {
    // One level, 1 anchor 8x8, grid 4x4 of stride 8; box centre (12, 12) size 8x8 -> cell (1, 1),
    // x fraction 0.5: neighbour cells are not used (< 0.5 is strict).
    const C = 2;
    const data = new Float32Array(4 * 4 * (5 + C)).fill(-30);
    const at = (1 * 4 + 1) * (5 + C);
    data[at] = 0; // sigmoid 0.5 -> 2*0.5 - 0.5 = 0.5 within the cell
    data[at + 1] = 0;
    data[at + 2] = 0; // (2*0.5)^2 * 1 anchor = 1 grid unit = 8 px
    data[at + 3] = 0;
    data[at + 4] = 30;
    data[at + 5] = 30;
    const out = tf.tensor4d(data, [1, 4, 4, 5 + C]);
    const terms = scaledYoloLoss([out], [[{ x1: 8, y1: 8, x2: 16, y2: 16, classId: 0 }]], { inputSize: [32, 32], anchors: [[[8, 8]]], numClasses: C });
    expect(terms.box.dataSync()[0]).toBeLessThan(1e-5);
    expect(terms.obj.dataSync()[0]).toBeLessThan(1e-3);
    expect(terms.cls.dataSync()[0]).toBeLessThan(1e-3);
    tf.dispose([out, terms.total, terms.box, terms.obj, terms.cls]);
  });

  it('rejects outputs whose channels do not fit the anchors and classes', () => {
    const out = tf.zeros([1, 4, 4, 7]);
    expect(() => scaledYoloLoss([out], [[]], { inputSize: [32, 32], anchors: [[[8, 8], [4, 4]]], numClasses: 2 })).toThrow(/output 0 has 7 channels, expected 2 anchors x \(5 \+ 2\) = 14/);
    out.dispose();
  });
});

describe('training smoke test', () => {
  it('the loss of a tiny YAML model decreases on a two-image set', () => {
    registerWasmTrainingKernels();
    const det = scaledYolov4({ model: TINY_YAML, inputSize: 32, kernelInitializer: 'zeros' });
    randomizeWeights(det.model, 5); // deterministic weights: the test must not depend on a random init
    try {
      const x = randomInput([2, 32, 32, 3], 7);
      const boxes = [[{ x1: 4, y1: 6, x2: 14, y2: 16, classId: 1 }], [{ x1: 10, y1: 8, x2: 30, y2: 30, classId: 2 }]];
      const anchors = det.spec.heads.map((h) => (h.kind === 'yolov5' ? h.anchors : []));
      const opt = tf.train.adam(0.01);
      const lossOf = (): tf.Scalar => {
        const outs = det.model.apply(x, { training: true }) as tf.Tensor[];
        const t = scaledYoloLoss(outs, boxes, { inputSize: [32, 32], anchors, numClasses: 3 });
        return t.total;
      };
      const losses: number[] = [];
      for (let step = 0; step < 10; step++) {
        const l = opt.minimize(lossOf, true) as tf.Scalar;
        losses.push(l.dataSync()[0]);
        l.dispose();
      }
      opt.dispose();
      x.dispose();
      expect(losses.every(Number.isFinite)).toBe(true);
      // Adam steps are deterministic here (fixed weights and data); the last is well below the first
      expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0] * 0.8);
    } finally {
      det.dispose();
    }
  });
});
