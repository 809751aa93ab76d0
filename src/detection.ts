/**
 * What a detector returns: one object, in original-image pixels. Beside `spec.ts` because the
 * spec (classNames) says how a detection is labelled.
 */

/** One detected object, in original-image pixels. */
export interface Detection {
  /** `[x1, y1, x2, y2]` in original-image pixels (not clipped, as the original implementations). */
  box: [number, number, number, number];
  score: number;
  classId: number;
  label: string;
}
