/**
 * The conv2d kernel's weight packing written straight into engine memory, for the training
 * engine's re-pack after every update (the same layouts as `packConvWeights` in kernelModule.ts
 * and `packConvInputGradWeights` in gradPacking.ts, without their temporary arrays: a re-pack of
 * tiny YOLOv3's 8.7 M weights through them took longer than the optimizer itself).
 * Lanes past the last channel of a block are never written (the buffers start zeroed).
 */

/** HWIO `[kh, kw, cin, cout]` -> `[ceil(cout/8)][kh*kw*cin][8]` into `dst`. */
export function packConvInto(dst: Float32Array, filter: Float32Array, shape: readonly [number, number, number, number]): void {
  const [kh, kw, cin, cout] = shape;
  const K = kh * kw * cin;
  const nb = Math.ceil(cout / 8);
  for (let b = 0; b < nb; b++) {
    const lanes = Math.min(8, cout - b * 8);
    let d = b * K * 8;
    let s = b * 8;
    for (let k = 0; k < K; k++, d += 8, s += cout) for (let j = 0; j < lanes; j++) dst[d + j] = filter[s + j];
  }
}

/**
 * The input-gradient conv's weights (spatially flipped, in/out transposed: `cout` inputs, `cin`
 * outputs) packed `[ceil(cin/8)][kh*kw*cout][8]` into `dst`.
 */
export function packConvInputGradInto(dst: Float32Array, filter: Float32Array, shape: readonly [number, number, number, number]): void {
  const [kh, kw, cin, cout] = shape;
  const K = kh * kw * cout;
  const nb = Math.ceil(cin / 8);
  for (let b = 0; b < nb; b++) {
    const lanes = Math.min(8, cin - b * 8);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const tap = (ky * kw + kx) * cout;
        const src = ((kh - 1 - ky) * kw + (kw - 1 - kx)) * cin * cout;
        for (let co = 0; co < cout; co++) {
          const d = (b * K + tap + co) * 8;
          const s = src + b * 8 * cout + co;
          for (let j = 0; j < lanes; j++) dst[d + j] = filter[s + j * cout];
        }
      }
    }
  }
}
