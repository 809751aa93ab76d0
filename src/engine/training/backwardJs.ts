/**
 * Backward passes of the cheap training ops in plain JavaScript over the engine's memory (batch
 * NHWC, compact): used for ops that have no wasm backward kernel yet. Every function ADDS its
 * gradient into `dx` (the executor zeroes a gradient buffer before its first writer), so a value
 * read by several consumers gets the sum of their gradients.
 */
import type { TrainActivation } from './trainingGraph';

/** Derivative mask of an activation from its OUTPUT `y` (the input's sign is y's for these). */
export function activationSlope(fn: TrainActivation, alpha: number): (y: number) => number {
  switch (fn) {
    case 'relu':
      return (y) => (y > 0 ? 1 : 0);
    case 'relu6':
      return (y) => (y > 0 && y < 6 ? 1 : 0);
    case 'leaky':
      return (y) => (y > 0 ? 1 : alpha);
    default:
      return () => 1;
  }
}

/** dx += dy * act'(y) over `count` floats. */
export function activationBackward(fn: TrainActivation, alpha: number, y: Float32Array, dy: Float32Array, dx: Float32Array, count: number): void {
  switch (fn) {
    case 'relu':
      for (let i = 0; i < count; i++) if (y[i] > 0) dx[i] += dy[i];
      return;
    case 'relu6':
      for (let i = 0; i < count; i++) if (y[i] > 0 && y[i] < 6) dx[i] += dy[i];
      return;
    case 'leaky':
      for (let i = 0; i < count; i++) dx[i] += y[i] > 0 ? dy[i] : alpha * dy[i];
      return;
    default:
      for (let i = 0; i < count; i++) dx[i] += dy[i];
  }
}

/** Per-channel batch mean and biased variance (as tf.moments) of `pixels x C` floats; float64 sums. */
export function channelMoments(x: Float32Array, pixels: number, C: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let p = 0, o = 0; p < pixels; p++, o += C) for (let c = 0; c < C; c++) mean[c] += x[o + c];
  for (let c = 0; c < C; c++) mean[c] /= pixels;
  for (let p = 0, o = 0; p < pixels; p++, o += C) {
    for (let c = 0; c < C; c++) {
      const d = x[o + c] - mean[c];
      variance[c] += d * d;
    }
  }
  for (let c = 0; c < C; c++) variance[c] /= pixels;
  return { mean, variance };
}

/**
 * BatchNorm backward (optionally through the activation applied after it, whose output is
 * `act`). `x` is the BN input, `mean`/`invStd` the statistics it was normalised with. Training
 * mode (batch statistics): dx = gamma*invStd*(dz - mean(dz) - xhat*mean(dz*xhat)); frozen
 * (running statistics, constants): dx = dz*gamma*invStd. Returns sum(dz*xhat) (dgamma) and
 * sum(dz) (dbeta) per channel.
 */
export function batchNormBackward(o: {
  x: Float32Array;
  dOut: Float32Array;
  act: Float32Array | null;
  slope: (y: number) => number;
  mean: Float64Array;
  invStd: Float64Array;
  gamma: Float32Array | null;
  batchStats: boolean;
  pixels: number;
  C: number;
  dx: Float32Array | null;
}): { dGamma: Float64Array; dBeta: Float64Array } {
  const { x, dOut, act, slope, mean, invStd, gamma, pixels, C, dx } = o;
  const dGamma = new Float64Array(C);
  const dBeta = new Float64Array(C);
  const dz = (i: number) => (act ? dOut[i] * slope(act[i]) : dOut[i]);
  for (let p = 0, i = 0; p < pixels; p++) {
    for (let c = 0; c < C; c++, i++) {
      const g = dz(i);
      dBeta[c] += g;
      dGamma[c] += g * (x[i] - mean[c]) * invStd[c];
    }
  }
  if (!dx) return { dGamma, dBeta };
  const k = new Float64Array(C);
  for (let c = 0; c < C; c++) k[c] = (gamma ? gamma[c] : 1) * invStd[c];
  if (!o.batchStats) {
    for (let i = 0, n = pixels * C; i < n; i++) dx[i] += dz(i) * k[i % C];
    return { dGamma, dBeta };
  }
  const mB = new Float64Array(C);
  const mG = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    mB[c] = dBeta[c] / pixels;
    mG[c] = dGamma[c] / pixels;
  }
  for (let p = 0, i = 0; p < pixels; p++) {
    for (let c = 0; c < C; c++, i++) {
      const xhat = (x[i] - mean[c]) * invStd[c];
      dx[i] += k[c] * (dz(i) - mB[c] - xhat * mG[c]);
    }
  }
  return { dGamma, dBeta };
}

/** Geometry of one image of a window op. */
export interface WindowGeometry {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/**
 * Max-pool backward for `n` images: each output's gradient goes to the first maximum of its
 * window (row-major scan, padding never wins), as tfjs' MaxPoolGrad for distinct values.
 */
export function maxPoolBackward(g: WindowGeometry, n: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const { H, W, C, OH, OW, kh, kw, sh, sw, padTop, padLeft } = g;
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0; b < n; b++) {
    const xb = b * H * W * C;
    const yb = b * OH * OW * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx;
            if (ix < 0 || ix >= W) continue;
            const base = xb + (iy * W + ix) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c] || at[c] < 0) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const ob = yb + (oy * OW + ox) * C;
        for (let c = 0; c < C; c++) if (at[c] >= 0) dx[at[c]] += dy[ob + c];
      }
    }
  }
}

/** Nearest upsampling backward for `n` images of `H x W x C` (factors fy, fx). */
export function upsampleBackward(H: number, W: number, C: number, fy: number, fx: number, n: number, dy: Float32Array, dx: Float32Array): void {
  const OW = W * fx;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const d = ((b * H + y) * W + x) * C;
        for (let i = 0; i < fy; i++) {
          for (let j = 0; j < fx; j++) {
            const s = ((b * H * fy + y * fy + i) * OW + x * fx + j) * C;
            for (let c = 0; c < C; c++) dx[d + c] += dy[s + c];
          }
        }
      }
    }
  }
}

/**
 * dst[p * dstStride + dstOff + c * step] += src[p * srcStride + srcOff + c] for c < C: the
 * backward of concat (a channel range), channel slice and the interleaved split.
 */
export function addChannels(src: Float32Array, srcOff: number, srcStride: number, dst: Float32Array, dstOff: number, dstStride: number, step: number, C: number, pixels: number): void {
  for (let p = 0; p < pixels; p++) {
    const s = p * srcStride + srcOff;
    const d = p * dstStride + dstOff;
    for (let c = 0; c < C; c++) dst[d + c * step] += src[s + c];
  }
}
