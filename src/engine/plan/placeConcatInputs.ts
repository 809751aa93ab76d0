/**
 * Planner phase 1: where concat inputs live. A channel concat gives each input that a kernel
 * writes a channel range of the concat's buffer; a concat along the first axis (EfficientDet's
 * per-level boxes) gives each input a contiguous region, also through a reshape that only
 * feeds it. Later concats are placed first, so nested concats chain.
 */
import type { IRGraph, IRNode } from '../../infer/ir';

/** Where a value lives inside its concat's output. */
export interface Placement {
  parent: number;
  /** Channel offset ('channel') or float offset ('flat') in the parent. */
  offset: number;
  mode: 'channel' | 'flat';
}

/** Ops whose kernel can write its whole output into any view we hand it. */
const WRITERS = new Set<IRNode['op']>(['conv', 'affine', 'pad', 'maxPool', 'activation', 'add', 'mul', 'weightedSum', 'upsample', 'channelSplit', 'concat']);

export function placeConcatInputs(g: IRGraph, producer: Map<number, IRNode>, consumers: Map<number, IRNode[]>): Map<number, Placement> {
  const placed = new Map<number, Placement>();
  const isWriter = (v: number) => {
    const p = producer.get(v);
    return !!p && WRITERS.has(p.op) && v !== g.input;
  };
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.op !== 'concat') continue;
    const out = n.outputs[0];
    const rank = g.shapes[out].length;
    const seen = new Set<number>();
    let off = 0;
    for (const u of n.inputs) {
      const s = g.shapes[u];
      const size = n.axis === rank ? s[s.length - 1] : s.reduce((a, b) => a * b, 1);
      if (!seen.has(u) && !placed.has(u) && !g.outputs.includes(u)) {
        if (n.axis === rank && isWriter(u)) placed.set(u, { parent: out, offset: off, mode: 'channel' });
        else if (n.axis === 1) {
          // Flat region: the value itself, or the writer behind a reshape that only feeds this.
          const p = producer.get(u);
          if (isWriter(u)) placed.set(u, { parent: out, offset: off, mode: 'flat' });
          else if (p && p.op === 'reshape' && isWriter(p.inputs[0]) && !placed.has(p.inputs[0]) && (consumers.get(p.inputs[0]) ?? []).length === 1 && !g.outputs.includes(p.inputs[0])) {
            placed.set(p.inputs[0], { parent: out, offset: off, mode: 'flat' });
          }
        }
      }
      seen.add(u);
      off += size;
    }
  }
  return placed;
}
