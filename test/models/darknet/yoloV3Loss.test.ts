// keras-yolo3 loss on a hand-computed case.
import * as tf from '@tensorflow/tfjs';
import { preprocessTrueBoxes, kerasAnchorMask } from '../../../src/models/darknet/preprocessTrueBoxes';
import { yoloV3Loss } from '../../../src/models/darknet/yoloV3Loss';
import { GroundTruthBox } from '../../../src/loss/types';

const LN2 = Math.log(2);
const softplus = (x: number): number => Math.log(1 + Math.exp(x));
/** BCE(z, sigmoid(x)) written out: -(z log s + (1-z) log(1-s)). */
const bce = (z: number, x: number): number => {
  const s = 1 / (1 + Math.exp(-x));
  return -(z * Math.log(s) + (1 - z) * Math.log(1 - s));
};

/*
 * The case: input 64x64, ONE scale with a 2x2 grid (32 px cells), anchors (32,32) and (32,16),
 * mask [[0, 1]], 2 classes, so 2 x (5+2) = 14 channels. Batch of 2; image 1 has no boxes.
 * Image 0: box (8,8)-(40,24) class 1. keras: centre = floor((8+40)/2), floor((8+24)/2) =
 * (24, 16) -> relative (0.375, 0.25); size (32, 16) -> (0.5, 0.25). IoU with anchor 0:
 * 512 / (512 + 1024 - 512) = 0.5; with anchor 1: 1 -> anchor 1 (k = 1), cell i = floor(0.375*2)
 * = 0, j = floor(0.25*2) = 0.
 *
 * Raw outputs: everywhere tx = ty = 0, tw = th = -5 (tiny boxes, IoU ~0), obj = cls = 0, except
 * - image 0, cell (0,0), anchor 0: tx = ln 3, ty = 0, tw = 0, th = ln 0.5 -> predicted box
 *   ((0.75+0)/2, (0.5+0)/2, 1*32/64, 0.5*32/64) = (0.375, 0.25, 0.5, 0.25) = the true box,
 *   IoU 1 >= 0.5 -> its background objectness term is IGNORED;
 * - image 0, cell (0,0), anchor 1 (responsible): tx = ty = 0, tw = 0.2, th = -0.1, obj = 2,
 *   classes (0.5, 1.5);
 * - image 0, cell (1,1), anchor 0: obj = -1.
 *
 * box_loss_scale = 2 - 0.5*0.25 = 1.875. raw true xy = (0.375*2 - 0, 0.25*2 - 0) = (0.75, 0.5),
 * raw true wh = (log(0.5/32*64), log(0.25/16*64)) = (0, 0).
 * xy: 1.875 * (BCE(0.75, 0) + BCE(0.5, 0)) = 1.875 * 2 ln 2 = 2.599302
 * wh: 1.875 * 0.5 * ((0 - 0.2)^2 + (0 + 0.1)^2) = 0.046875
 * obj: image 0: BCE(1, 2) = log(1 + e^-2) = 0.126928 (responsible), 1 ignored, five at 0 ->
 *      5 ln 2, one at -1 -> log(1 + e^-1) = 0.313262; image 1: 8 slots at 0, no true box so
 *      none ignored -> 8 ln 2. Total 0.126928 + 0.313262 + 13 ln 2 = 9.451103
 * cls: BCE(0, 0.5) + BCE(1, 1.5) = 0.974077 + 0.201413 = 1.175490
 * Everything / batch 2: box 1.323089, obj 4.725551, cls 0.587745.
 */
const INPUT: [number, number] = [64, 64];
const ANCHORS: [number, number][] = [[32, 32], [32, 16]];
const GT: GroundTruthBox[][] = [[{ x1: 8, y1: 8, x2: 40, y2: 24, classId: 1 }], []];

function rawOutput(): Float32Array {
  const D = 7;
  const v = new Float32Array(2 * 2 * 2 * 2 * D);
  for (let c = 0; c < 16; c++) {
    v[c * D + 2] = -5;
    v[c * D + 3] = -5;
  }
  const at = (b: number, j: number, i: number, k: number): number => (((b * 2 + j) * 2 + i) * 2 + k) * D;
  v.set([Math.log(3), 0, 0, Math.log(0.5), 0, 0, 0], at(0, 0, 0, 0));
  v.set([0, 0, 0.2, -0.1, 2, 0.5, 1.5], at(0, 0, 0, 1));
  v[at(0, 1, 1, 0) + 4] = -1;
  return v;
}

const opts = { inputSize: INPUT, anchors: ANCHORS, anchorMask: [[0, 1]], numClasses: 2 };

describe('preprocessTrueBoxes', () => {
  it('puts the box in the best anchor of its cell, keras layout', () => {
    const [y] = preprocessTrueBoxes(GT, { ...opts, gridSizes: [[2, 2]] });
    expect(y.shape).toEqual([2, 2, 2, 14]);
    const v = y.arraySync() as number[][][][];
    expect(v[0][0][0].slice(7, 14)).toEqual([0.375, 0.25, 0.5, 0.25, 1, 0, 1]);
    expect(tf.tidy(() => tf.sum(y).arraySync())).toBeCloseTo(0.375 + 0.25 + 0.5 + 0.25 + 1 + 1, 6);
    y.dispose();
  });

  it('tiny-YOLO default mask: anchor 0 is in no scale (box dropped), anchor 3 in both', () => {
    const anchors: [number, number][] = [[10, 14], [23, 27], [37, 58], [81, 82], [135, 169], [344, 319]];
    expect(kerasAnchorMask(6)).toEqual([[3, 4, 5], [1, 2, 3]]);
    const gt: GroundTruthBox[][] = [[
      { x1: 100, y1: 100, x2: 110, y2: 114, classId: 0 }, // fits anchor 0 best -> nowhere
      { x1: 210, y1: 210, x2: 291, y2: 292, classId: 2 }, // anchor 3 -> both scales
    ]];
    const ys = preprocessTrueBoxes(gt, { inputSize: [416, 416], anchors, numClasses: 3 });
    expect(ys.map((y) => y.shape)).toEqual([[1, 13, 13, 24], [1, 26, 26, 24]]);
    const objSums = ys.map((y) => tf.tidy(() => tf.sum(tf.reshape(y, [-1, 8]).slice([0, 4], [-1, 1])).arraySync()));
    expect(objSums).toEqual([1, 1]);
    // centre floor(501/2) = 250 -> cell 250/32 = 7.8 -> 7 on the 13 grid (slot k = 0), 15.6 -> 15 on the 26 grid (k = 2)
    expect((ys[0].arraySync() as number[][][][])[0][7][7][4]).toBe(1);
    expect((ys[1].arraySync() as number[][][][])[0][15][15][2 * 8 + 4]).toBe(1);
    tf.dispose(ys);
  });

  it('rejects bad input with a clear message', () => {
    expect(() => preprocessTrueBoxes([[{ x1: 0, y1: 0, x2: 5, y2: 5, classId: 2 }]], opts)).toThrow(/image 0 box 0 has classId 2/);
    expect(() => preprocessTrueBoxes([[]], { ...opts, anchorMask: [[0, 5]] })).toThrow(/anchor 5/);
    expect(() => kerasAnchorMask(4)).toThrow(/pass anchorMask/);
  });
});

describe('yoloV3Loss (keras-yolo3 yolo_loss)', () => {
  it('equals the hand-computed terms', () => {
    const out = tf.tensor4d(rawOutput(), [2, 2, 2, 14]);
    const t = yoloV3Loss([out], GT, opts);
    const box = (1.875 * (bce(0.75, 0) + bce(0.5, 0)) + 1.875 * 0.5 * (0.2 ** 2 + 0.1 ** 2)) / 2;
    const obj = (softplus(-2) + softplus(-1) + 13 * LN2) / 2;
    const cls = (bce(0, 0.5) + bce(1, 1.5)) / 2;
    expect(box).toBeCloseTo(1.323089, 5); // the comment's numbers
    expect(obj).toBeCloseTo(4.725551, 5);
    expect(cls).toBeCloseTo(0.587745, 5);
    expect(t.box.arraySync()).toBeCloseTo(box, 5);
    expect(t.obj.arraySync()).toBeCloseTo(obj, 5);
    expect(t.cls.arraySync()).toBeCloseTo(cls, 5);
    expect(t.total.arraySync()).toBeCloseTo(box + obj + cls, 5);
    tf.dispose([out, t.box, t.obj, t.cls, t.total]);
  });

  it('without the matching prediction the background term is not ignored (ignore mask matters)', () => {
    const raw = rawOutput();
    raw[3] = -5; // anchor 0 of cell (0,0): h shrinks, IoU < 0.5 -> not ignored
    const out = tf.tensor4d(raw, [2, 2, 2, 14]);
    const t = yoloV3Loss([out], GT, opts);
    expect(t.obj.arraySync()).toBeCloseTo((softplus(-2) + softplus(-1) + 14 * LN2) / 2, 5);
    tf.dispose([out, t.box, t.obj, t.cls, t.total]);
  });

  it('CIoU option: (2 - w h) (1 - CIoU) worked out for the responsible box', () => {
    // pred (0.25, 0.25, e^0.2 * 0.5, e^-0.1 * 0.25), true (0.375, 0.25, 0.5, 0.25).
    const pw = Math.exp(0.2) * 0.5;
    const ph = Math.exp(-0.1) * 0.25;
    const iw = 0.25 + pw / 2 - 0.125; // pred right edge - true left edge (pred spans past it on the left)
    const ih = ph; // pred lies inside the true box vertically
    const iou = (iw * ih) / (pw * ph + 0.5 * 0.25 - iw * ih);
    const cw = 0.625 - (0.25 - pw / 2);
    const ch = 0.25;
    const rho2 = 0.125 ** 2;
    const v = (4 / Math.PI ** 2) * (Math.atan(0.5 / 0.25) - Math.atan(pw / ph)) ** 2;
    const ciou = iou - rho2 / (cw * cw + ch * ch) - (v * v) / (1 - iou + v);
    expect(ciou).toBeCloseTo(0.557363, 4);
    const out = tf.tensor4d(rawOutput(), [2, 2, 2, 14]);
    const t = yoloV3Loss([out], GT, { ...opts, boxLoss: 'ciou' });
    expect(t.box.arraySync()).toBeCloseTo((1.875 * (1 - ciou)) / 2, 5);
    tf.dispose([out, t.box, t.obj, t.cls, t.total]);
  });

  it('is differentiable w.r.t. the raw outputs, and leaks no tensors', () => {
    const v = tf.variable(tf.tensor4d(rawOutput(), [2, 2, 2, 14]));
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => yoloV3Loss([v], GT, { ...opts, boxLoss: 'ciou' }).total, [v]);
      tf.dispose([value, grads[v.name]]);
    };
    const { value, grads } = tf.variableGrads(() => yoloV3Loss([v], GT, opts).total, [v]);
    const g = grads[v.name].arraySync() as number[][][][];
    // d obj / d raw obj of the responsible slot = (sigmoid(2) - 1) / batch
    expect(g[0][0][0][7 + 4]).toBeCloseTo((1 / (1 + Math.exp(-2)) - 1) / 2, 5);
    // ignored slot: no objectness gradient
    expect(g[0][0][0][4]).toBeCloseTo(0, 7);
    tf.dispose([value, grads[v.name]]);
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });

  it('rejects mismatched outputs with a clear message', () => {
    const out = tf.zeros([2, 2, 2, 13]);
    expect(() => yoloV3Loss([out], GT, opts)).toThrow(/13 channels, expected 2 anchors x \(5 \+ 2\) = 14/);
    expect(() => yoloV3Loss([tf.zeros([2, 2, 2, 14])], [[]], opts)).toThrow(/ground truth for 2 image/);
    out.dispose();
  });
});
