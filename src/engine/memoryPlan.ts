/**
 * Offsets for the activation buffers of an inference plan: buffers whose lifetimes overlap get
 * disjoint byte ranges, the others share memory. Greedy by size (largest first, lowest offset
 * that fits), which is within a few percent of optimal on feed-forward networks.
 */

/** A buffer to place: `bytes`, written first at step `first`, read last at step `last`. */
export interface BufferLifetime {
  bytes: number;
  first: number;
  last: number;
}

/** Byte offsets (64-byte aligned) per buffer, in input order, and the total size. */
export function planBufferOffsets(buffers: readonly BufferLifetime[]): { offsets: number[]; total: number } {
  const order = buffers.map((_, i) => i).sort((a, b) => buffers[b].bytes - buffers[a].bytes || a - b);
  const offsets = new Array<number>(buffers.length).fill(-1);
  const placed: number[] = [];
  let total = 0;
  for (const i of order) {
    const b = buffers[i];
    const size = Math.ceil(b.bytes / 64) * 64;
    const busy = placed
      .filter((j) => buffers[j].first <= b.last && b.first <= buffers[j].last)
      .map((j) => [offsets[j], offsets[j] + Math.ceil(buffers[j].bytes / 64) * 64] as const)
      .sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [s, e] of busy) {
      if (at + size <= s) break;
      if (e > at) at = e;
    }
    offsets[i] = at;
    placed.push(i);
    total = Math.max(total, at + size);
  }
  return { offsets, total };
}
