/**
 * EfficientDet's focal classification loss per image (upstream `FocalLoss`, see
 * ./efficientDetLoss.ts) in ONE pass over the `[N, A, C]` probabilities with its analytic
 * gradient, as a `tf.customGrad` op. Written with ~20 tfjs element-wise ops (and their autodiff)
 * over N*A*C values it was the largest single part of a training step (D0 512, 90 classes,
 * batch 2: 8.8M values, ~3 s of an 11 s engine step on the loaded VM). Values in float64, so they
 * agree with the tfjs formulation to float32 rounding.
 *
 * Per entry, with p clamped to [1e-4, 1 - 1e-4] (the clamp passes the gradient only inside, as
 * tf.clipByValue): t = 1 for the anchor's class; alpha_t = t ? alpha : 1 - alpha;
 * q = t ? 1 - p : p; bce = -log(t ? p : 1 - p); f = alpha_t q^gamma bce, zero on ignored anchors.
 * Image b's loss is sum f / divisor[b].
 */
import * as tf from '@tensorflow/tfjs';

/** Inputs besides the probabilities: the anchor assignment (see assignEfficientDetAnchors). */
export interface FocalLossTargets {
  /** `[N*A]`: 1 positive, 0 negative, -1 ignored. */
  state: Int8Array;
  /** `[N*A]`: class of positive anchors, -1 otherwise. */
  classId: Int32Array;
  /** Per image divisor of the summed loss. */
  divisor: number[];
  alpha: number;
  gamma: number;
}

const LO = Math.fround(1e-4);
const HI = Math.fround(1 - 1e-4);

/** Per-image focal loss `[N]` of `classification` `[N, A, C]`, differentiable w.r.t. it. */
export function focalLossPerImage(classification: tf.Tensor3D, o: FocalLossTargets): tf.Tensor1D {
  const [n, A, C] = classification.shape;
  const { alpha, gamma } = o;
  // q^gamma and q^(gamma - 1); gamma = 2 (upstream's) without Math.pow.
  const powG = gamma === 2 ? (q: number) => q * q : (q: number) => Math.pow(q, gamma);
  const powG1 = gamma === 2 ? (q: number) => q : (q: number) => Math.pow(q, gamma - 1);
  const op = tf.customGrad(((x: tf.Tensor) => {
    const p = x.dataSync() as Float32Array;
    const loss = new Float32Array(n);
    const grad = new Float32Array(p.length);
    for (let b = 0; b < n; b++) {
      const inv = 1 / o.divisor[b];
      let sum = 0;
      for (let a = 0; a < A; a++) {
        const anchor = b * A + a;
        if (o.state[anchor] < 0) continue; // ignored: no loss, no gradient
        const cls = o.classId[anchor];
        const base = anchor * C;
        for (let c = 0; c < C; c++) {
          const raw = p[base + c];
          const inside = raw >= LO && raw <= HI;
          const pc = raw < LO ? LO : raw > HI ? HI : raw;
          let f: number;
          let d: number;
          if (c === cls) {
            const q = 1 - pc;
            const bce = -Math.log(pc);
            const qg = powG(q);
            f = alpha * qg * bce;
            d = alpha * (-gamma * powG1(q) * bce - qg / pc);
          } else {
            const q = pc;
            const bce = -Math.log(1 - pc);
            const qg = powG(q);
            f = (1 - alpha) * qg * bce;
            d = (1 - alpha) * (gamma * powG1(q) * bce + qg / (1 - pc));
          }
          sum += f;
          grad[base + c] = inside ? d * inv : 0;
        }
      }
      loss[b] = sum * inv;
    }
    return {
      value: tf.tensor1d(loss),
      // dy has one value per image: scale in place (a broadcasting tfjs mul is a slow full pass).
      // (Into a new array: the op's gradient stays reusable.)
      gradFunc: (dy: tf.Tensor) => {
        const s = dy.dataSync();
        const out = new Float32Array(grad.length);
        for (let b = 0; b < n; b++) {
          const sb = s[b];
          for (let i = b * A * C, end = (b + 1) * A * C; i < end; i++) out[i] = grad[i] * sb;
        }
        return tf.tensor3d(out, [n, A, C]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(classification) as tf.Tensor1D;
}
