/**
 * SSD MultiBox loss (multibox_loss.py / box_utils.match): matching with the forced best prior,
 * encoded targets, hard negative mining 3:1, hand-computed loss values; a tiny SSD-head model
 * trained by `train()` (SSD augmentation) lowers its loss.
 */
import * as tf from '@tensorflow/tfjs';
import { matchPriors, mineNegatives, multiboxLoss } from '../../../src/models/rfsong/multiboxLoss';
import { ssdPriors } from '../../../src/decode/ssdPriors';
import { ModelSpec, SsdHeadSpec } from '../../../src/spec';
import { Detector } from '../../../src/detector';
import { train } from '../../../src/train/train';
import { ssdAugment } from '../../../src/train/ssdAugment';

/** One 2x2 map of 64 px cells on a 128 px input, one 64x64 prior per cell. */
const head: SsdHeadSpec = {
  kind: 'ssd', locOutputs: [0], confOutputs: [1], variances: [0.1, 0.2], backgroundClass: 0,
  priors: { featureMaps: [2], minDim: 128, steps: [64], minSizes: [64], maxSizes: [100], shapes: [[{ size: 'min', ratio: 1 }]], clip: true },
};

describe('MultiBox matching and loss', () => {
  const priors = ssdPriors(head.priors); // centres (0.25|0.75, 0.25|0.75), size 0.5

  it('matches by IoU threshold, forces each box onto its best prior, encodes offsets with variances', () => {
    // box A = prior 0 exactly; box B overlaps prior 3 (bottom right) with IoU 0.25 only: forced
    const gt = [[{ x1: 0, y1: 0, x2: 64, y2: 64, classId: 1 }, { x1: 96, y1: 96, x2: 128, y2: 128, classId: 0 }]];
    const t = matchPriors(priors, gt, [128, 128], [0.1, 0.2], 0.4);
    expect(Array.from(t.conf)).toEqual([2, 0, 0, 1]);
    expect(t.numPositive).toEqual([2]);
    expect(Array.from(t.loc.slice(0, 4)).map((v) => Math.abs(v))).toEqual([0, 0, 0, 0]);
    // B: centre (0.875, 0.875) vs prior (0.75, 0.75), size 0.25 vs 0.5
    const b = Array.from(t.loc.slice(12, 16));
    [0.125 / (0.1 * 0.5), 0.125 / (0.1 * 0.5), Math.log(0.5) / 0.2, Math.log(0.5) / 0.2].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
  });

  it('mines ratio x positives negatives with the highest loss (at most P - 1)', () => {
    const conf = Int32Array.from([1, 0, 0, 0, 0, 0]);
    const mask = mineNegatives(Float32Array.from([9, 1, 5, 3, 4, 2]), conf, [1], 3);
    expect(Array.from(mask)).toEqual([0, 0, 1, 0, 1, 0].map((v, i) => (i === 3 ? 1 : v)));
    expect(Array.from(mineNegatives(Float32Array.from([0, 1]), Int32Array.from([1, 0]), [1], 3))).toEqual([0, 1]);
  });

  it('loss values by hand: smooth L1 / N and cross-entropy over positives + 3 negatives / N', () => {
    const gt = [[{ x1: 0, y1: 0, x2: 64, y2: 64, classId: 0 }]];
    // loc prediction 2 on dx of prior 0 (target 0): smooth L1 = 2 - 0.5; zero logits: CE = ln 2 each
    const loc = tf.tensor4d([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 2, 4]);
    const conf = tf.zeros([1, 2, 2, 2]);
    const r = multiboxLoss(head, [loc, conf], gt, [128, 128], 1);
    expect(r.box.dataSync()[0]).toBeCloseTo(1.5, 5);
    // 1 positive + min(3, P - 1 = 3) negatives
    expect(r.cls.dataSync()[0]).toBeCloseTo(4 * Math.log(2), 5);
    expect(r.total.dataSync()[0]).toBeCloseTo(1.5 + 4 * Math.log(2), 5);
    // no boxes: nothing positive, nothing mined, zero loss
    const empty = multiboxLoss(head, [loc, conf], [[]], [128, 128], 1);
    expect(empty.total.dataSync()[0]).toBe(0);
    tf.dispose([loc, conf, r.total, r.box, r.cls, r.obj, empty.total, empty.box, empty.cls, empty.obj]);
  });
});

describe('SSD augmentation', () => {
  it('keeps boxes on the object they mark (bright square on black) and is deterministic', () => {
    const img = tf.tidy(() => tf.pad(tf.fill([40, 60, 3], 255, 'int32'), [[50, 110], [70, 110], [0, 0]]) as tf.Tensor3D); // 200x240
    const input = { size: [128, 128] as [number, number], resize: 'stretch' as const, channelOrder: 'BGR' as const, scale: 1, mean: [104, 117, 123] as [number, number, number] };
    const box = { x1: 70, y1: 50, x2: 130, y2: 90, classId: 0 };
    let checked = 0;
    for (let seed = 0; seed < 12; seed++) {
      const a = ssdAugment(img, [box], input, { seed, photometric: false });
      const b = ssdAugment(img, [box], input, { seed, photometric: false });
      expect(b.boxes).toEqual(a.boxes);
      expect(a.image.shape).toEqual([128, 128, 3]);
      for (const bx of a.boxes) {
        // the centre pixel of the box is the white square (255 - mean > 100 in every channel)
        const cx = Math.floor((bx.x1 + bx.x2) / 2);
        const cy = Math.floor((bx.y1 + bx.y2) / 2);
        const px = tf.tidy(() => tf.slice(a.image, [cy, cx, 0], [1, 1, 3]).dataSync());
        expect(Math.min(...px)).toBeGreaterThan(100);
        checked++;
      }
      tf.dispose([a.image, b.image]);
    }
    expect(checked).toBeGreaterThan(6);
    img.dispose();
  });
});

describe('training an SSD head', () => {
  it('train() lowers the MultiBox loss of a tiny SSD model on a tiny set', async () => {
    const input = tf.input({ shape: [128, 128, 3] });
    let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 4, padding: 'same', activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 4, padding: 'same', activation: 'relu', name: 'c2' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 4, padding: 'same', activation: 'relu', name: 'c3' }).apply(x) as tf.SymbolicTensor; // 2x2
    const loc = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'loc' }).apply(x) as tf.SymbolicTensor;
    const conf = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conf' }).apply(x) as tf.SymbolicTensor;
    const spec: ModelSpec = {
      name: 'tiny-ssd',
      input: { size: [128, 128], resize: 'stretch', channelOrder: 'BGR', scale: 1, mean: [104, 117, 123] },
      classNames: ['a', 'b'], heads: [head], multiLabel: true, scoreThreshold: 0.05,
      nms: { kind: 'iou', perClass: true, iouThreshold: 0.45, pixelOffset: 1 }, maxDetections: 0,
    };
    const det = new Detector(tf.model({ inputs: input, outputs: [loc, conf] }), spec);
    const images = [0, 1].map((i) => ({ file: `img${i}`, width: 128, height: 128, boxes: [{ x1: 10 + 40 * i, y1: 20, x2: 70 + 40 * i, y2: 90, classId: i }] }));
    const pixels = (i: number) => tf.tidy(() => tf.pad(tf.fill([70, 60, 3], 200 + 50 * i, 'int32'), [[20, 38], [10 + 40 * i, 58 - 40 * i], [0, 0]]) as tf.Tensor3D);
    const r = await train(det, { classNames: ['a', 'b'], images, warnings: [] } as never, {
      epochs: 15, batchSize: 2, lr: 0.01, warmupEpochs: 0, schedule: 'constant', progress: false, ema: false, seed: 1, augment: false, weightDecay: 0,
      readImage: async (im) => pixels(Number(im.file.slice(3))),
    });
    const losses = r.steps.map((s) => s.total);
    expect(r.steps.every((s) => s.obj === 0 && Number.isFinite(s.total))).toBe(true);
    const head3 = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const tail3 = losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(tail3).toBeLessThan(head3 * 0.95);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    r.optimizer.dispose();
    det.dispose();
  });
});
