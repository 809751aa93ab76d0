// YOLO-FastestV2 loss (upstream utils/loss.py) on a hand-computed case.
import * as tf from '@tensorflow/tfjs';
import { buildYoloFastestV2Targets, yoloFastestV2Loss, YoloFastestV2LossOptions } from '../../../src/models/yoloFastestV2/yoloFastestV2Loss';
import { GroundTruthBox } from '../../../src/loss/types';
import { registerWasmTrainingKernels } from '../../../src/train/wasmGradients';

const LN2 = Math.log(2);
const softplus = (x: number): number => Math.log(1 + Math.exp(x));

/*
 * Input 64x64, 2 classes. Scale 0: 4x4 grid (stride 16), anchors (16,16) and (48,16) -> (1,1),
 * (3,1) in grid units. Scale 1: 2x2 grid (stride 32), anchors (64,64), (128,128) -> (2,2), (4,4).
 * Channels per scale: 4*2 + 2 + 2 = 12 (boxes, objectness, classes).
 * One box, class 1, centre (36.8, 27.2), size 16x16 -> scale 0: gxy = (2.3, 1.7), gwh = (1, 1).
 * Anchor match (max(r, 1/r) < 2): anchor (1,1) r = 1 yes; (3,1): 1/(1/3) = 3 no. Scale 1:
 * gwh 0.5 vs 2 and 4 -> r = 4, 8: no match.
 * Cells for the (1,1) anchor: own cell (gi 2, gj 1); x fraction 0.3 < 0.5 and gx > 1 -> left
 * neighbour gi = trunc(2.3 - 0.5) = 1; y fraction 0.7: no; 4 - 2.3 = 1.7 -> fraction 0.7: no;
 * 4 - 1.7 = 2.3 -> fraction 0.3 -> lower neighbour gj = trunc(1.7 + 0.5) = 2.
 * Targets (gxy - gij, gwh): (0.3, 0.7, 1, 1), (1.3, 0.7, 1, 1), (0.3, -0.3, 1, 1).
 * All logits 0 except: scale 1 objectness = -2 everywhere; scale 0 class logits at (gi 2, gj 1)
 * = (1, 3).
 * Predictions at all matches: xy = 0.5*2 - 0.5 = 0.5, wh = (0.5*2)^2 * 1 = 1 -> box (0.5, 0.5,
 * 1, 1); same aspect as the targets, so v = 0 and CIoU = IoU - rho^2/c^2:
 *   own:   inter 0.8*0.8 = 0.64, union 1.36, enclosing 1.2 x 1.2 (c2 2.88), rho2 0.2^2+0.2^2 = 0.08
 *   left:  inter 0.2*0.8 = 0.16, union 1.84, enclosing 1.8 x 1.2 (c2 4.68), rho2 0.8^2+0.2^2 = 0.68
 *   lower: inter 0.8*0.2 = 0.16, union 1.84, enclosing 1.2 x 1.8 (c2 4.68), rho2 0.68
 *   CIoU = 0.442810, -0.058343, -0.058343 -> lbox = mean(1 - CIoU) = 0.891292; box = 3.2 * that.
 * obj: scale 0: 32 logits at 0 -> mean BCE ln 2 (targets 0 or 1 alike), balance 1; scale 1:
 *   8 logits -2, targets 0 -> softplus(-2) = 0.126928, balance 0.4 -> 64 * (0.693147 + 0.050771).
 * cls: CE of (1, 3) for class 1 = log(1 + e^-2) = 0.126928; the others ln 2 ->
 *   mean (0.126928 + 2 ln 2) / 3, / C = 2, * 32.
 */
const opts: YoloFastestV2LossOptions = { inputSize: [64, 64], anchors: [[[16, 16], [48, 16]], [[64, 64], [128, 128]]], numClasses: 2 };
const GT: GroundTruthBox[][] = [[{ x1: 28.8, y1: 19.2, x2: 44.8, y2: 35.2, classId: 1 }]];

function outputs(): [Float32Array, Float32Array] {
  const s0 = new Float32Array(4 * 4 * 12);
  s0.set([1, 3], (1 * 4 + 2) * 12 + 10);
  const s1 = new Float32Array(2 * 2 * 12);
  for (let c = 0; c < 4; c++) s1.set([-2, -2], c * 12 + 8);
  return [s0, s1];
}

beforeAll(() => registerWasmTrainingKernels()); // gather's gradient on wasm

describe('buildYoloFastestV2Targets', () => {
  it('matches anchors by ratio and adds the two nearest neighbour cells', () => {
    const [t0, t1] = buildYoloFastestV2Targets(GT, [[4, 4], [2, 2]], opts);
    expect(t0.gi).toEqual([2, 1, 2]);
    expect(t0.gj).toEqual([1, 1, 2]);
    expect(t0.anchor).toEqual([0, 0, 0]);
    t0.box.forEach((b, e) => [[0.3, 0.7, 1, 1], [1.3, 0.7, 1, 1], [0.3, -0.3, 1, 1]][e].forEach((v, k) => expect(b[k]).toBeCloseTo(v, 6)));
    expect(t1.image).toEqual([]);
  });
});

describe('yoloFastestV2Loss', () => {
  it('equals the hand-computed terms', () => {
    const diou = (inter: number, union: number, c2: number, rho2: number): number => inter / union - rho2 / c2;
    const c = [diou(0.64, 1.36, 2.88, 0.08), diou(0.16, 1.84, 4.68, 0.68), diou(0.16, 1.84, 4.68, 0.68)];
    expect(c[0]).toBeCloseTo(0.44281, 5);
    expect(c[1]).toBeCloseTo(-0.058343, 5);
    const box = 3.2 * ((1 - c[0]) + (1 - c[1]) + (1 - c[2])) / 3;
    const obj = 64 * (LN2 + 0.4 * softplus(-2));
    const cls = 32 * ((softplus(-2) + 2 * LN2) / 3 / 2);
    const [a, b] = outputs();
    const o0 = tf.tensor4d(a, [1, 4, 4, 12]);
    const o1 = tf.tensor4d(b, [1, 2, 2, 12]);
    const t = yoloFastestV2Loss([o0, o1], GT, opts);
    expect(t.box.arraySync()).toBeCloseTo(box, 4);
    expect(t.obj.arraySync()).toBeCloseTo(obj, 4);
    expect(t.cls.arraySync()).toBeCloseTo(cls, 4);
    expect(t.total.arraySync()).toBeCloseTo(box + obj + cls, 4);
    tf.dispose([o0, o1, t.box, t.obj, t.cls, t.total]);
  });

  it('an image without boxes contributes only objectness', () => {
    const [a, b] = outputs();
    const o0 = tf.tensor4d(a, [1, 4, 4, 12]);
    const o1 = tf.tensor4d(b, [1, 2, 2, 12]);
    const t = yoloFastestV2Loss([o0, o1], [[]], opts);
    expect(t.box.arraySync()).toBe(0);
    expect(t.cls.arraySync()).toBe(0);
    expect(t.obj.arraySync()).toBeCloseTo(64 * (LN2 + 0.4 * softplus(-2)), 4);
    tf.dispose([o0, o1, t.box, t.obj, t.cls, t.total]);
  });

  it('is differentiable (gather + CIoU + softmax) and leaks no tensors', () => {
    const [a, b] = outputs();
    const v0 = tf.variable(tf.tensor4d(a, [1, 4, 4, 12]));
    const v1 = tf.variable(tf.tensor4d(b, [1, 2, 2, 12]));
    const step = (): tf.Tensor[] => {
      const { value, grads } = tf.variableGrads(() => yoloFastestV2Loss([v0, v1], GT, opts).total, [v0, v1]);
      return [value, grads[v0.name], grads[v1.name]];
    };
    const [value, g0] = step();
    expect(Number.isFinite(value.arraySync() as number)).toBe(true);
    const g = g0.arraySync() as number[][][][];
    // objectness logit of anchor 0 at a matched cell: 64 * (sigmoid(0) - 1) / 32
    expect(g[0][1][2][8]).toBeCloseTo((64 * (0.5 - 1)) / 32, 5);
    // class logits at (gi 2, gj 1): 32 / 2 / 3 * (softmax - onehot)
    const p = 1 / (1 + Math.exp(2));
    expect(g[0][1][2][10]).toBeCloseTo((32 / 6) * p, 5);
    expect(g[0][1][2][11]).toBeCloseTo((32 / 6) * (1 - p - 1), 5);
    tf.dispose(step());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([value, g0, v0, v1]);
  });

  it('rejects bad input with a clear message', () => {
    const o = tf.zeros([1, 4, 4, 11]);
    expect(() => yoloFastestV2Loss([o, o], GT, opts)).toThrow(/output 0 has 11 channels, expected 4\*2 \+ 2 \+ 2 = 12/);
    expect(() => yoloFastestV2Loss([o], GT, opts)).toThrow(/1 outputs but anchors are given for 2 scales/);
    const ok = [tf.zeros([1, 4, 4, 12]), tf.zeros([1, 2, 2, 12])];
    expect(() => yoloFastestV2Loss(ok, [[{ x1: 0, y1: 0, x2: 1, y2: 1, classId: 5 }]], opts)).toThrow(/image 0 box 0 has classId 5/);
    tf.dispose([o, ...ok]);
  });
});
