/**
 * The deterministic case the browser test runs on both sides (in headless Chromium through the
 * esbuild bundle of browserEntry.ts, and in Node inside jest): the same network, the same
 * weights, the same input. Only `@tensorflow/tfjs` (and test/infer/randomWeights.ts) is
 * imported here, so it bundles for the browser.
 */
import * as tf from '@tensorflow/tfjs';
import { randomInput, randomizeWeights } from '../infer/randomWeights';

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

/** The weights of the case (test/infer/randomWeights.ts randomizeWeights with the case's seed). */
export function seedWeights(model: tf.LayersModel, seed = CASE_WEIGHT_SEED): void {
  randomizeWeights(model, seed);
}

/** The `predict` input: `[1, 160, 160, 3]` in [0, 1). */
export function caseInput(seed = CASE_INPUT_SEED): tf.Tensor4D {
  const s = CASE_MODEL.inputSize;
  return randomInput([1, s, s, 3], seed);
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
