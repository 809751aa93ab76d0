/**
 * The inference IR (src/infer) turned into a list of wasm kernel calls over one flat memory.
 *
 * Every value is a VIEW: a storage buffer, a float offset, `pixels x C` with a pixel stride.
 * Views make the data-movement ops free:
 * - a channel concat gives each input a channel range of one buffer, and the producers write
 *   there directly (a conv's output stride is the concat's width);
 * - a concat along the first axis (EfficientDet's per-level boxes) gives each input a
 *   contiguous region, through reshapes;
 * - a channel slice is a view of its input; a reshape of a compact view is the same memory.
 * What cannot be placed is copied by the `unary` kernel. Buffers that are not alive at the same
 * time share memory (src/engine/memoryPlan.ts).
 *
 * The phases live in src/engine/plan/: `checkSupported`, `placeConcatInputs` (1),
 * `fuseActivations` (1b), `viewAssigner` (2), then one emitter per op (`emitters.ts`: 3).
 */
import type { IRGraph, IRNode } from '../infer/ir';
import { ACT } from './kernelParams';
import type { InferencePlan, PackFn, StorageInfo } from './plan/types';
import { checkSupported } from './plan/checkSupported';
import { placeConcatInputs } from './plan/placeConcatInputs';
import { fuseActivations } from './plan/fuseActivations';
import { viewAssigner } from './plan/assignViews';
import { StepList } from './plan/stepList';
import { EMITTERS } from './plan/emitters';
import type { EmitContext, Emitter } from './plan/emitter';

export { UnsupportedGraphError } from './plan/types';
export type { View, StorageInfo, ConstRef, PlanStep, InferencePlan, PackFn } from './plan/types';

/** Build the plan of a graph. Throws {@link UnsupportedGraphError} naming the first node it cannot run. */
export function planInference(g: IRGraph, pack: { conv: PackFn; depthwise: PackFn }): InferencePlan {
  const producer = new Map<number, IRNode>();
  const consumers = new Map<number, IRNode[]>();
  for (const n of g.nodes) {
    for (const v of n.outputs) producer.set(v, n);
    for (const v of n.inputs) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  }
  for (const n of g.nodes) checkSupported(n, g);

  const placed = placeConcatInputs(g, producer, consumers);
  const fusedActivation = fuseActivations(g, producer, consumers);
  const storages: StorageInfo[] = [];
  const viewOf = viewAssigner(g, producer, placed, storages);

  // 3. Steps, one emitter per op.
  const out = new StepList();
  const ctx: EmitContext = { g, consumers, out, pack };
  const fusedInto = new Set<IRNode>(fusedActivation.values());
  for (const n of g.nodes) {
    if (fusedInto.has(n)) continue;
    const ins = n.inputs.map(viewOf);
    const fused = fusedActivation.get(n);
    // A fused activation: the binary kernel writes the activation's output directly.
    const outs = fused ? [viewOf(fused.outputs[0])] : n.outputs.map(viewOf);
    const act = fused ? ACT[fused.fn] : ACT.linear;
    const alpha = fused ? fused.alpha ?? 0.1 : 0;
    (EMITTERS[n.op] as Emitter)({ n, ins, outs, layer: n.layer, act, alpha }, ctx);
  }
  out.zero.data = new Float32Array(out.zeroFloats);
  return {
    storages,
    consts: out.consts,
    steps: out.steps,
    input: viewOf(g.input),
    outputs: g.outputs.map((v) => ({ view: viewOf(v), shape: g.shapes[v] })),
    zeroFloats: out.zeroFloats,
  };
}
