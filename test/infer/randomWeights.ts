/**
 * Deterministic pseudo-random weights (with non-trivial BatchNorm statistics, so folding is
 * really exercised) and inputs for the inference-path tests. Imports only tfjs: the browser
 * test bundles it for Chromium as well.
 */
import * as tf from '@tensorflow/tfjs';

/** A small LCG so every run uses the same numbers. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Overwrite every weight of `model`: kernels uniform in +-sqrt(3/fanIn) (keeps activations
 * O(1) through deep nets), BN gamma in [0.5, 1.5], beta/mean in +-0.5, variance in [0.5, 1.5],
 * biases +-0.2, fusion weights in [0.2, 1.2].
 */
export function randomizeWeights(model: tf.LayersModel, seed = 1): void {
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

/** A deterministic input batch in [0, 1). */
export function randomInput(shape: number[], seed = 7): tf.Tensor4D {
  const rnd = lcg(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = rnd();
  return tf.tensor4d(d, shape as [number, number, number, number]);
}
