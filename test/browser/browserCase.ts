/**
 * The deterministic case the browser test runs on both sides (in headless Chromium through the
 * esbuild bundle of browserEntry.ts, and in Node inside jest): the same network, the same
 * weights, the same input. Only `@tensorflow/tfjs` is imported here, so it bundles for the
 * browser (test/infer/inferHelpers.ts reads fixtures with `fs` and does not).
 */
import * as tf from '@tensorflow/tfjs';

/** Options of the YOLO-FastestV2 the test builds (small: 160x160, 4 classes). */
export const CASE_MODEL = { inputSize: 160, numClasses: 4 } as const;
/** Seed of the weights. */
export const CASE_WEIGHT_SEED = 11;
/** Seed of the `predict` input. */
export const CASE_INPUT_SEED = 7;
/** Size of the in-page image given to `detect` (not square: the stretch resize is exercised). */
export const CASE_IMAGE = { width: 200, height: 150 } as const;
/** Low threshold so that random weights still give a handful of boxes to compare. */
export const CASE_DETECT = { scoreThreshold: 0.3 } as const;

/** A small LCG so both sides draw the same numbers. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Overwrite every weight of `model` from the LCG (same scheme as test/infer/inferHelpers.ts
 * randomizeWeights): kernels uniform in +-sqrt(3/fanIn), BN gamma / variance in [0.5, 1.5],
 * beta / mean in +-0.5, biases +-0.2, anything else in [0.2, 1.2].
 */
export function seedWeights(model: tf.LayersModel, seed = CASE_WEIGHT_SEED): void {
  const rnd = lcg(seed);
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (ws.length === 0) continue;
    const vals = ws.map((w) => {
      const name = w.originalName ?? w.name;
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const d = new Float32Array(n);
      let lo = -0.2;
      let hi = 0.2;
      if (/kernel$/.test(name)) {
        const fanIn = shape.length === 4 ? shape[0] * shape[1] * (/depthwise/.test(name) ? 1 : shape[2]) : shape[0];
        hi = Math.sqrt(3 / fanIn);
        lo = -hi;
      } else if (/gamma$|moving_variance$/.test(name)) [lo, hi] = [0.5, 1.5];
      else if (/beta$|moving_mean$/.test(name)) [lo, hi] = [-0.5, 0.5];
      else if (!/bias$/.test(name)) [lo, hi] = [0.2, 1.2];
      for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * rnd();
      return tf.tensor(d, shape);
    });
    layer.setWeights(vals);
    tf.dispose(vals);
  }
}

/** The `predict` input: `[1, 160, 160, 3]` in [0, 1) from the LCG. */
export function caseInput(seed = CASE_INPUT_SEED): tf.Tensor4D {
  const rnd = lcg(seed);
  const s = CASE_MODEL.inputSize;
  const d = new Float32Array(s * s * 3);
  for (let i = 0; i < d.length; i++) d[i] = rnd();
  return tf.tensor4d(d, [1, s, s, 3]);
}

/** Raw outputs as plain data (what the page posts back). */
export interface RawOutput {
  shape: number[];
  data: number[];
}

/** Reads a list of tensors into {@link RawOutput}s (does not dispose them). */
export function readOutputs(ts: tf.Tensor[]): RawOutput[] {
  return ts.map((t) => ({ shape: t.shape.slice(), data: Array.from(t.dataSync()) }));
}

/** Largest |a - b| over all outputs; Infinity on a shape mismatch or NaN. */
export function maxOutputError(a: RawOutput[], b: RawOutput[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k].shape.join() !== b[k].shape.join() || a[k].data.length !== b[k].data.length) return Infinity;
    const x = a[k].data;
    const y = b[k].data;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    }
  }
  return m;
}
