/**
 * Emitters of `add`, `weightedSum` and `mul`: chains of `binary` calls (an n-ary sum is
 * accumulated in the output), the node's fused activation applied by the last call.
 */
import { BINARY_OP, ACT } from '../kernelParams';
import type { EmitNode, EmitContext, Emitter, NodeOf } from './emitter';
import type { View } from './types';

/** One binary call of a chain: x, y, op, a, b. */
type Link = [View, View, number, number, number];

function chain(links: Link[], { outs: [y], layer, act, alpha }: EmitNode, { out }: EmitContext): void {
  links.forEach(([p, q, op, a, b], k) => out.binary(p, q, y, op, a, b, layer, k === links.length - 1 ? act : ACT.linear, k === links.length - 1 ? alpha : 0));
}

export const emitAdd: Emitter<NodeOf<'add'>> = (node, ctx) => {
  const { ins, outs: [y] } = node;
  chain([[ins[0], ins[1], BINARY_OP.axpby, 1, 1], ...ins.slice(2).map((v): Link => [y, v, BINARY_OP.axpby, 1, 1])], node, ctx);
};

export const emitWeightedSum: Emitter<NodeOf<'weightedSum'>> = (node, ctx) => {
  const { n, ins, outs: [y] } = node;
  if (ins.length === 1) chain([[ins[0], ins[0], BINARY_OP.axpby, n.weights[0], 0]], node, ctx);
  else chain([[ins[0], ins[1], BINARY_OP.axpby, n.weights[0], n.weights[1]], ...ins.slice(2).map((v, k): Link => [y, v, BINARY_OP.axpby, 1, n.weights[k + 2]])], node, ctx);
};

export const emitMul: Emitter<NodeOf<'mul'>> = (node, ctx) => {
  const { ins } = node;
  chain([[ins[0], ins[1], BINARY_OP.mul, 1, 1]], node, ctx);
};
