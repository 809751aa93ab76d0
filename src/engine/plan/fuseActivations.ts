/**
 * Planner phase 1b: an activation whose only input comes from add / weightedSum / mul (and
 * nobody else reads that sum) is applied by the binary kernel itself: the sum is never stored.
 */
import type { IRGraph, IRNode } from '../../infer/ir';

export type ActivationNodeOf = IRNode & { op: 'activation' };

/** Binary node -> the activation it applies. */
export function fuseActivations(g: IRGraph, producer: Map<number, IRNode>, consumers: Map<number, IRNode[]>): Map<IRNode, ActivationNodeOf> {
  const fusedActivation = new Map<IRNode, ActivationNodeOf>();
  for (const n of g.nodes) {
    if (n.op !== 'activation') continue;
    const src = n.inputs[0];
    const p = producer.get(src);
    if (p && (p.op === 'add' || p.op === 'weightedSum' || p.op === 'mul') && (consumers.get(src) ?? []).length === 1 && !g.outputs.includes(src)) {
      fusedActivation.set(p, n);
    }
  }
  return fusedActivation;
}
