/**
 * Emitter of `concat`: inputs placed in the concat's buffer (phase 1) were written there by
 * their producers; the others are copied into their channel range or flat region.
 */
import type { Emitter, NodeOf } from './emitter';
import type { View } from './types';

export const emitConcat: Emitter<NodeOf<'concat'>> = ({ n, ins, outs: [y], layer }, { g, out }) => {
  const rank = g.shapes[n.outputs[0]].length;
  let off = 0;
  n.inputs.forEach((u, k) => {
    const src = ins[k];
    const s = g.shapes[u];
    const size = n.axis === rank ? s[s.length - 1] : s.reduce((a, b) => a * b, 1);
    const target: View =
      n.axis === rank ? { storage: y.storage, offset: y.offset + off, H: y.H, W: y.W, C: src.C, stride: y.stride } : { ...src, storage: y.storage, offset: y.offset + off, stride: src.C };
    off += size;
    const already = src.storage === target.storage && src.offset === target.offset && src.stride === target.stride;
    if (!already) out.copy(src, target, layer);
  });
};
