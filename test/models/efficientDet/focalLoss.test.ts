// The fused focal loss (src/models/efficientDet/focalLoss.ts) against the tfjs-ops formulation it
// replaced (value and autodiff gradient, cpu backend), and central finite differences.
import * as tf from '@tensorflow/tfjs';
import { focalLossPerImage, FocalLossTargets } from '../../../src/models/efficientDet/focalLoss';
import { mulberry32 } from '../../../src/util/random';

/** The formulation efficientDetLoss used before (tfjs ops, float32). */
function reference(p0: tf.Tensor3D, o: FocalLossTargets): tf.Tensor1D {
  const [n, A, C] = p0.shape;
  const valid = tf.tensor3d(Float32Array.from(o.state, (s) => (s >= 0 ? 1 : 0)), [n, A, 1]);
  const t = tf.cast(tf.oneHot(tf.tensor2d(o.classId, [n, A], 'int32'), C), 'float32');
  const p = tf.clipByValue(p0, 1e-4, 1 - 1e-4);
  const oneMinusT = tf.sub(1, t);
  const alphaT = tf.add(tf.mul(t, o.alpha), tf.mul(oneMinusT, 1 - o.alpha));
  const pt1 = tf.add(tf.mul(t, tf.sub(1, p)), tf.mul(oneMinusT, p));
  const bce = tf.neg(tf.add(tf.mul(t, tf.log(p)), tf.mul(oneMinusT, tf.log(tf.sub(1, p)))));
  const focal = tf.mul(tf.mul(tf.mul(alphaT, tf.pow(pt1, o.gamma)), bce), valid);
  return tf.div(tf.sum(focal, [1, 2]), tf.tensor1d(o.divisor));
}

describe('fused focal loss', () => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  const n = 2;
  const A = 40;
  const C = 5;
  const rnd = mulberry32(3);
  // Probabilities spread over (0, 1) plus a few outside the clamp (exactly 0 and 1 too).
  const pv = Float32Array.from({ length: n * A * C }, (_, i) => (i % 17 === 0 ? 0 : i % 19 === 0 ? 1 : i % 23 === 0 ? 5e-5 : 0.02 + 0.96 * rnd()));
  const state = Int8Array.from({ length: n * A }, (_, i) => (i % 7 === 0 ? -1 : i % 3 === 0 ? 1 : 0));
  const classId = Int32Array.from(state, (s, i) => (s > 0 ? i % C : -1));
  const o: FocalLossTargets = { state, classId, divisor: [3 * A * C, 1 * A * C], alpha: 0.25, gamma: 2 };

  it('value and gradient as the tfjs-ops formulation (1e-5 relative)', () => {
    const p = tf.tensor3d(pv, [n, A, C]);
    const R = tf.tensor1d([0.7, -1.3]);
    const ours = tf.tidy(() => ({ v: focalLossPerImage(p, o).dataSync().slice(), g: tf.grad((x: tf.Tensor) => tf.sum(tf.mul(focalLossPerImage(x as tf.Tensor3D, o), R)))(p).dataSync().slice() }));
    const ref = tf.tidy(() => ({ v: reference(p, o).dataSync().slice(), g: tf.grad((x: tf.Tensor) => tf.sum(tf.mul(reference(x as tf.Tensor3D, o), R)))(p).dataSync().slice() }));
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let d = 0;
      let m = 0;
      for (let i = 0; i < b.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        m = Math.max(m, Math.abs(b[i]));
      }
      return d / m;
    };
    expect(rel(ours.v, ref.v)).toBeLessThan(1e-5);
    expect(rel(ours.g, ref.g)).toBeLessThan(1e-5);
    // clamped entries and ignored anchors get no gradient
    expect(ours.g[0]).toBe(0);
    expect(ours.g[C]).not.toBe(0);
    tf.dispose([p, R]);
  });

  it('finite differences (every entry of a small case, 1e-3 relative)', () => {
    // Small, so the float32 loss keeps enough digits for central differences.
    const small: FocalLossTargets = { state: Int8Array.from([1, 0, -1]), classId: Int32Array.from([1, -1, -1]), divisor: [1], alpha: 0.25, gamma: 2 };
    const p0 = [0.3, 0.6, 0.2, 0.7, 0.5, 0.5];
    const lossAt = (q: number[]) => tf.tidy(() => focalLossPerImage(tf.tensor3d(q, [1, 3, 2]), small).dataSync()[0]);
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(focalLossPerImage(x as tf.Tensor3D, small)))(tf.tensor3d(p0, [1, 3, 2])).dataSync().slice());
    let worst = 0;
    p0.forEach((_, i) => {
      const h = 1e-3;
      const fd = (lossAt(p0.map((v, k) => (k === i ? v + h : v))) - lossAt(p0.map((v, k) => (k === i ? v - h : v)))) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(Math.abs(g[i]), 1e-2));
    });
    expect(Array.from(g.slice(4))).toEqual([0, 0]); // the ignored anchor
    expect(worst).toBeLessThan(1e-3);
  });
});
