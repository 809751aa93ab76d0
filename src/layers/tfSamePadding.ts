/**
 * TensorFlow's 'SAME' padding rule (also what zylo117's `Conv2dStaticSamePadding` and
 * `MaxPool2dStaticSamePadding` compute at run time): output = ceil(n / stride), total padding
 * `(out - 1) * stride + kernel - n`, of which floor(total / 2) goes before (top/left) and the
 * rest after (bottom/right).
 */

/**
 * Padding `[before, after]` along one axis of length `n` for a window `kernel` and `stride`,
 * by TF's 'SAME' rule (negative totals clamp to 0, which never happens when kernel >= stride).
 */
export function tfSamePadding(n: number, kernel: number, stride: number): [number, number] {
  for (const [k, v] of [['n', n], ['kernel', kernel], ['stride', stride]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`tfSamePadding: ${k} must be an integer >= 1, got ${v}`);
  }
  const out = Math.ceil(n / stride);
  const total = Math.max(0, (out - 1) * stride + kernel - n);
  const before = Math.floor(total / 2);
  return [before, total - before];
}
