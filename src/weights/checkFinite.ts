/**
 * NaN / Infinity in loaded weights: refused by default, naming the tensor. A corrupted or
 * crafted weights file (an all-NaN Darknet file loads with the right size) would otherwise give
 * a detector that silently finds nothing, or NaN boxes.
 */
import { TensorMap } from './tensorMap';

/**
 * Throw when a floating-point tensor of `map` holds NaN or +-Infinity, unless `allow`.
 * Returns the map for chaining. `source` names the file kind in the message.
 */
export function assertFiniteWeights(map: TensorMap, source: string, allow = false): TensorMap {
  if (allow) return map;
  for (const [name, t] of map) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
    const d = t.data as Float32Array | Float64Array;
    for (let i = 0; i < d.length; i++) {
      // v - v is 0 for every finite v, NaN for NaN and +-Infinity: one test per element
      if (d[i] - d[i] !== 0) {
        let bad = 0;
        for (let j = i; j < d.length; j++) if (!Number.isFinite(d[j])) bad++;
        throw new Error(
          `${source}: tensor '${name}' holds ${Number.isNaN(d[i]) ? 'NaN' : String(d[i])} at element ${i} ` +
            `(${bad} of ${d.length} values are not finite): corrupt weights? pass {allowNonFinite: true} to load them anyway`,
        );
      }
    }
  }
  return map;
}
