/**
 * The backward of the interleaved channel split (ShuffleNet's channel shuffle) in JavaScript: a
 * strided scatter no wasm kernel covers. Adds into `dst` (the executor zeroes a gradient buffer
 * before its first writer).
 */

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
