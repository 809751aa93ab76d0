/** Emitter of `pad`: a `pad2d` call (constant value). */
import { PAD_PARAMS } from '../kernelParams';
import type { Emitter, NodeOf } from './emitter';
import { typed } from './stepList';
import { pixelsOf, spatialIO } from './views';

export const emitPad: Emitter<NodeOf<'pad'>> = ({ n, ins: [x], outs: [y], layer }, { out }) => {
  const [[pt], [pl]] = n.pads;
  out.push({
    kernel: 'pad2d',
    ...typed(PAD_PARAMS, (addr) => ({ ...spatialIO(addr, x, y), padTop: pt, padLeft: pl, value: n.value })),
    total: y.H,
    grain: 1,
    cost: pixelsOf(y) * y.C,
    reads: [x],
    writes: [y],
    layer,
  });
};
