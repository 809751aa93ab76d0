/**
 * Recognise a spatial mean `[H, W, C] -> [1, 1, C]` written with reshapes and global average
 * pools, so the training graph runs it as one op on `[H, W, C]` maps. Accepted chains (each
 * intermediate value read only by the next node and not a model output):
 *
 * - src/layers/spatialMean.ts: reshape `[H, 1, W*C]` -> pool `[W*C]` -> reshape `[W, 1, C]` ->
 *   pool `[C]` -> reshape `[1, 1, C]` (a mean over H, then over W: the mean over both);
 * - a pool `[C]` -> reshape `[1, 1, C]`;
 * - a pool with kept dims `[1, 1, C]`.
 */
import { IRGraph, IRNode } from '../../infer/ir';

/** The IR nodes of the chain starting at `first`, and the value holding the mean; null when it is not one. */
export function matchSpatialMean(ir: IRGraph, first: IRNode, consumers: Map<number, IRNode[]>): { chain: IRNode[]; output: number } | null {
  const src = ir.shapes[first.inputs[0]];
  if (src.length !== 3) return null;
  const [H, W, C] = src;
  const chain: IRNode[] = [first];
  // Follow single-reader reshape / pool nodes, at most 5.
  for (let cur = first; chain.length < 5; ) {
    const out = cur.outputs[0];
    const readers = consumers.get(out) ?? [];
    if (ir.outputs.includes(out) || readers.length !== 1) break;
    const next = readers[0];
    if (next.op !== 'reshape' && next.op !== 'globalAvgPool') break;
    chain.push(next);
    cur = next;
  }
  const sig = chain.map((n) => `${n.op}[${ir.shapes[n.outputs[0]].join(',')}]`);
  const patterns = [
    [`reshape[${H},1,${W * C}]`, `globalAvgPool[${W * C}]`, `reshape[${W},1,${C}]`, `globalAvgPool[${C}]`, `reshape[1,1,${C}]`],
    [`globalAvgPool[${C}]`, `reshape[1,1,${C}]`],
    [`globalAvgPool[1,1,${C}]`],
  ];
  for (const p of patterns) {
    if (p.every((x, i) => sig[i] === x)) {
      const used = chain.slice(0, p.length);
      return { chain: used, output: used[used.length - 1].outputs[0] };
    }
  }
  return null;
}
