/** What an op's emitter gets: its node with resolved views, and the plan being built. */
import type { IRGraph, IRNode } from '../../infer/ir';
import type { PackFn, View } from './types';
import type { StepList } from './stepList';

/** The node being planned, with its input and output views resolved. */
export interface EmitNode<N extends IRNode = IRNode> {
  n: N;
  ins: View[];
  /** Output views (for a binary node with a fused activation: the activation's output). */
  outs: View[];
  layer: string;
  /** Activation code and alpha a binary node applies (its fused activation; linear otherwise). */
  act: number;
  alpha: number;
}

/** The graph and the plan being built. */
export interface EmitContext {
  g: IRGraph;
  consumers: Map<number, IRNode[]>;
  out: StepList;
  pack: { conv: PackFn; depthwise: PackFn };
}

/** Emits the steps of one op. */
export type Emitter<N extends IRNode = IRNode> = (node: EmitNode<N>, ctx: EmitContext) => void;

/** The IR node of op `K`. */
export type NodeOf<K extends IRNode['op']> = Extract<IRNode, { op: K }>;
