/** Small helpers on views: shapes to views, pixel counts, compactness, the spatial I/O fields. */
import type { View } from './types';

/** `[H, W, C]` of a value's shape (batch excluded); other ranks are `pixels x 1 x C`. */
export function hwc(shape: number[]): { H: number; W: number; C: number } {
  if (shape.length === 3) return { H: shape[0], W: shape[1], C: shape[2] };
  const C = shape.length ? shape[shape.length - 1] : 1;
  const pixels = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return { H: pixels, W: 1, C };
}

export const pixelsOf = (v: View): number => v.H * v.W;

/** Rows packed back to back (or a single row): the same memory as any shape of that size. */
export const isCompact = (v: View): boolean => v.stride === v.C || pixelsOf(v) === 1;

/** The input / output view fields every spatial kernel block starts with (native/params.h). */
export function spatialIO(addr: (v: View) => number, x: View, y: View) {
  return { in: addr(x), H: x.H, W: x.W, C: x.C, inStride: x.stride, out: addr(y), OH: y.H, OW: y.W, outStride: y.stride };
}
