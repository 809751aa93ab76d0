/** Emitters of `affine` (per-channel scale and shift) and `activation`: one `unary` call each. */
import { ACT } from '../kernelParams';
import type { Emitter, NodeOf } from './emitter';

export const emitAffine: Emitter<NodeOf<'affine'>> = ({ n, ins: [x], outs: [y], layer }, { out }) => {
  out.unary(x, y, layer, { scale: out.addConst(Float32Array.from(n.scale)), shift: out.addConst(Float32Array.from(n.shift)) });
};

export const emitActivation: Emitter<NodeOf<'activation'>> = ({ n, ins: [x], outs: [y], layer }, { out }) => {
  out.unary(x, y, layer, { act: ACT[n.fn], alpha: n.alpha ?? 0.1, costPerValue: 4 });
};
