// EfficientDet focal + smooth-L1 loss (zylo117 efficientdet/loss.py) on a hand-computed case.
import * as tf from '@tensorflow/tfjs';
import { assignEfficientDetAnchors, efficientDetLoss } from '../../../src/models/efficientDet/efficientDetLoss';
import { GroundTruthBox } from '../../../src/loss/types';

/*
 * 4 anchors (y1, x1, y2, x2), 2 classes; one box (x1 1, y1 0, x2 11, y2 10), class 0.
 *   a0 (0, 0, 10, 10): inter 9*10 = 90, union 100 + 100 - 90 = 110 -> IoU 0.818 >= 0.5: positive
 *   a1 (0, 1, 4.5, 11): inter 10*4.5 = 45, union 45 + 100 - 45 = 100 -> 0.45: ignored
 *   a2 (0, 1, 2, 11): inter 20, union 100 -> 0.2 < 0.4: negative
 *   a3 (20, 20, 30, 30): 0: negative
 * a0 targets: anchor centre (5, 5) size 10x10, box centre (6, 5) size 10x10 ->
 *   (dy, dx, dh, dw) = (0, 0.1, log 1, log 1) = (0, 0.1, 0, 0).
 * Regression of a0 = (0.05, -0.2, 0.1, 0): |diff| = 0.05, 0.3, 0.1, 0; smooth-L1 beta 1/9:
 *   4.5*0.05^2 = 0.01125; 0.3 - 0.5/9 = 0.244444; 4.5*0.1^2 = 0.045; 0 -> mean 0.075174.
 * Classification (probabilities): a0 (0.7, 0.2) target (1, 0); a1 (0.6, 0.5) ignored;
 *   a2 (0.3, 0.1), a3 (0.05, 0.9) targets 0.
 *   focal(t=1, p) = 0.25 (1-p)^2 (-log p); focal(t=0, p) = 0.75 p^2 (-log(1-p)):
 *   a0: 0.25*0.09*0.356675 = 0.008025, 0.75*0.04*0.223144 = 0.006694
 *   a2: 0.75*0.09*0.356675 = 0.024076, 0.75*0.01*0.105361 = 0.000790
 *   a3: 0.75*0.0025*0.051293 = 0.000096, 0.75*0.81*2.302585 = 1.398820
 *   sum 1.438501, mean over A*C = 8 -> 0.179813, / max(1, 1 positive) -> 0.179813.
 * Image 1 (same predictions) has no boxes: all 8 entries negative, no division by positives:
 *   a0: 0.75*0.49*1.203973 = 0.442460, 0.006694; a1: 0.75*0.36*0.916291 = 0.247399,
 *   0.75*0.25*0.693147 = 0.129965; a2 + a3 as above -> sum 2.250300, / 8 = 0.281288; box 0.
 * Batch mean: cls (0.179813 + 0.281288) / 2 = 0.230550, box 0.075174 / 2 = 0.037587.
 */
const ANCHORS = new Float32Array([0, 0, 10, 10, 0, 1, 4.5, 11, 0, 1, 2, 11, 20, 20, 30, 30]);
const GT: GroundTruthBox[][] = [[{ x1: 1, y1: 0, x2: 11, y2: 10, classId: 0 }], []];
const REG = [[0.05, -0.2, 0.1, 0], [1, 1, 1, 1], [-1, 2, 0, 0], [3, 3, 3, 3]];
const CLS = [[0.7, 0.2], [0.6, 0.5], [0.3, 0.1], [0.05, 0.9]];

const focal = (t: number, p: number): number => (t === 1 ? 0.25 * (1 - p) ** 2 * -Math.log(p) : 0.75 * p ** 2 * -Math.log(1 - p));

describe('assignEfficientDetAnchors', () => {
  it('positive >= 0.5, ignored in [0.4, 0.5), negative below; (dy, dx, dh, dw) targets', () => {
    const a = assignEfficientDetAnchors(ANCHORS, GT);
    expect(Array.from(a.state)).toEqual([1, -1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(a.classId)).toEqual([0, -1, -1, -1, -1, -1, -1, -1]);
    expect(Array.from(a.regression.slice(0, 4)).map((v) => +v.toFixed(6))).toEqual([0, 0.1, 0, 0]);
    expect(a.numPositive).toEqual([1, 0]);
  });
});

describe('efficientDetLoss', () => {
  it('equals the hand-computed terms', () => {
    const cls0 = CLS.reduce((s, [p0, p1], a) => (a === 1 ? s : s + focal(a === 0 ? 1 : 0, p0) + focal(0, p1)), 0) / 8;
    const cls1 = CLS.reduce((s, [p0, p1]) => s + focal(0, p0) + focal(0, p1), 0) / 8;
    expect(cls0).toBeCloseTo(0.179813, 5);
    expect(cls1).toBeCloseTo(0.281288, 5);
    const box0 = (4.5 * 0.05 ** 2 + (0.3 - 0.5 / 9) + 4.5 * 0.1 ** 2 + 0) / 4;
    const reg = tf.tensor3d([REG, REG]);
    const cls = tf.tensor3d([CLS, CLS]);
    const t = efficientDetLoss(reg, cls, ANCHORS, GT);
    expect(t.cls.arraySync()).toBeCloseTo((cls0 + cls1) / 2, 5);
    expect(t.box.arraySync()).toBeCloseTo(box0 / 2, 5);
    expect(t.obj.arraySync()).toBe(0);
    expect(t.total.arraySync()).toBeCloseTo((cls0 + cls1) / 2 + box0 / 2, 5);
    tf.dispose([reg, cls, t.box, t.obj, t.cls, t.total]);
  });

  it('takes the anchors as a tensor too, is differentiable and leaks no tensors', () => {
    const anchors = tf.tensor2d(ANCHORS, [4, 4]);
    const reg = tf.variable(tf.tensor3d([REG, REG]));
    const cls = tf.variable(tf.tensor3d([CLS, CLS]));
    const step = (): tf.Tensor[] => {
      const { value, grads } = tf.variableGrads(() => efficientDetLoss(reg, cls, anchors, GT).total, [reg, cls]);
      return [value, grads[reg.name], grads[cls.name]];
    };
    const [value, gr, gc] = step();
    const r = gr.arraySync() as number[][][];
    // d/dr of smooth-L1 mean: linear part -> sign/4, quadratic part 9 (r - t)/4; / batch 2
    expect(r[0][0][1]).toBeCloseTo(-1 / 4 / 2, 5);
    expect(r[0][0][0]).toBeCloseTo((9 * 0.05) / 4 / 2, 5);
    expect(r[0][1][0]).toBe(0); // ignored / negative anchors get no box gradient
    expect(r[1][0][0]).toBe(0); // image without boxes
    const c = gc.arraySync() as number[][][];
    expect(c[0][1][0]).toBe(0); // ignored anchor: no class gradient
    expect(Math.abs(c[1][1][0])).toBeGreaterThan(0); // same anchor is negative in image 1
    tf.dispose([value, gr, gc]);
    tf.dispose(step());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([anchors, reg, cls]);
  });

  it('rejects bad input with a clear message', () => {
    const reg = tf.zeros([1, 4, 4]) as tf.Tensor3D;
    const cls = tf.zeros([1, 4, 2]) as tf.Tensor3D;
    expect(() => efficientDetLoss(reg, cls, ANCHORS.slice(0, 8), [[]])).toThrow(/2 anchors for 4 predictions/);
    expect(() => efficientDetLoss(reg, tf.zeros([1, 3, 2]) as tf.Tensor3D, ANCHORS, [[]])).toThrow(/does not match regression/);
    expect(() => efficientDetLoss(reg, cls, ANCHORS, [[{ x1: 0, y1: 0, x2: 2, y2: 2, classId: 2 }]])).toThrow(/classId 2/);
    tf.dispose([reg, cls]);
  });
});
