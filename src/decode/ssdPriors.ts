/**
 * SSD prior (default) boxes from the spec's {@link SsdPriorSpec}, in the order of ssd.pytorch /
 * RFBNet's `PriorBox.forward`: map-major, then row, column, then the location's shapes.
 */
import { SsdPriorSpec } from '../spec';

/** Number of priors of each source map (side^2 x shapes). */
export function ssdPriorCounts(p: SsdPriorSpec): number[] {
  return p.featureMaps.map((f, k) => f * f * (p.shapes[k]?.length ?? 0));
}

/** Checks the per-map arrays agree in length and hold sane values; throws naming the field. */
export function checkSsdPriorSpec(p: SsdPriorSpec): void {
  const n = p.featureMaps.length;
  if (n === 0) throw new Error('ssd priors: featureMaps is empty');
  for (const [name, arr] of [['steps', p.steps], ['minSizes', p.minSizes], ['maxSizes', p.maxSizes], ['shapes', p.shapes]] as const) {
    if (!Array.isArray(arr) || arr.length !== n) {
      throw new Error(`ssd priors: ${name} has ${Array.isArray(arr) ? arr.length : 'no'} entries for ${n} feature maps`);
    }
  }
  if (!(p.minDim > 0)) throw new Error(`ssd priors: minDim must be > 0, got ${p.minDim}`);
  p.featureMaps.forEach((f, k) => {
    if (!(Number.isInteger(f) && f > 0)) throw new Error(`ssd priors: featureMaps[${k}] must be a positive integer, got ${f}`);
    if (!(p.steps[k] > 0 && p.minSizes[k] > 0 && p.maxSizes[k] > 0)) throw new Error(`ssd priors: map ${k} needs steps, minSizes and maxSizes > 0`);
    if (!Array.isArray(p.shapes[k]) || p.shapes[k].length === 0) throw new Error(`ssd priors: map ${k} has no prior shapes`);
    for (const s of p.shapes[k]) {
      if ((s.size !== 'min' && s.size !== 'max') || !(s.ratio > 0)) {
        throw new Error(`ssd priors: map ${k} has a bad shape ${JSON.stringify(s)} (size 'min' | 'max', ratio > 0)`);
      }
    }
  });
  // A spec read from a file must not make us allocate without bound.
  const total = ssdPriorCounts(p).reduce((a, b) => a + b, 0);
  if (total > MAX_PRIORS) throw new Error(`ssd priors: ${total} priors exceed the limit of ${MAX_PRIORS}`);
}

/** Upper bound on the prior count of a spec (SSD300 has 8732, SSD512 24564). */
export const MAX_PRIORS = 4_000_000;

/**
 * All priors `[P, 4]` as (cx, cy, w, h) normalised by `minDim`: computed in double precision
 * as upstream's Python does, stored as float32, clamped to [0, 1] when `clip`.
 */
export function ssdPriors(p: SsdPriorSpec): Float32Array {
  checkSsdPriorSpec(p);
  const total = ssdPriorCounts(p).reduce((a, b) => a + b, 0);
  const out = new Float32Array(total * 4);
  let o = 0;
  p.featureMaps.forEach((f, k) => {
    // f_k = minDim / step: how many cells span the image (not the map side in general).
    const fk = p.minDim / p.steps[k];
    const sMin = p.minSizes[k] / p.minDim;
    const sMax = Math.sqrt(sMin * (p.maxSizes[k] / p.minDim));
    for (let i = 0; i < f; i++) {
      for (let j = 0; j < f; j++) {
        const cx = (j + 0.5) / fk;
        const cy = (i + 0.5) / fk;
        for (const shape of p.shapes[k]) {
          const s = shape.size === 'min' ? sMin : sMax;
          const r = Math.sqrt(shape.ratio);
          out[o++] = cx;
          out[o++] = cy;
          out[o++] = s * r;
          out[o++] = s / r;
        }
      }
    }
  });
  if (p.clip) for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  return out;
}

const cache = new Map<string, Float32Array>();

/** {@link ssdPriors}, memoised by the spec's content (the same spec decodes every image). */
export function cachedSsdPriors(p: SsdPriorSpec): Float32Array {
  const key = JSON.stringify(p);
  let a = cache.get(key);
  if (!a) {
    a = ssdPriors(p);
    if (cache.size > 16) cache.clear();
    cache.set(key, a);
  }
  return a;
}
