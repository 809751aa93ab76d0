/** Emitter of `upsample`: an `upsampleNearest` call. */
import { UPSAMPLE_PARAMS } from '../kernelParams';
import type { Emitter, NodeOf } from './emitter';
import { typed } from './stepList';
import { pixelsOf } from './views';

export const emitUpsample: Emitter<NodeOf<'upsample'>> = ({ n, ins: [x], outs: [y], layer }, { out }) => {
  out.push({
    kernel: 'upsampleNearest',
    ...typed(UPSAMPLE_PARAMS, (addr) => ({ in: addr(x), H: x.H, W: x.W, C: x.C, inStride: x.stride, out: addr(y), outStride: y.stride, fy: n.scale[0], fx: n.scale[1] })),
    total: y.H,
    grain: 1,
    cost: pixelsOf(y) * y.C,
    reads: [x],
    writes: [y],
    layer,
  });
};
