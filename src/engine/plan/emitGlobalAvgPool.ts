/** Emitter of `globalAvgPool`: a `globalAvgPool` call into a compact view. */
import { GLOBAL_POOL_PARAMS } from '../kernelParams';
import type { Emitter, NodeOf } from './emitter';
import { typed } from './stepList';
import { isCompact, pixelsOf } from './views';

export const emitGlobalAvgPool: Emitter<NodeOf<'globalAvgPool'>> = ({ ins: [x], outs: [y], layer }, { out }) => {
  if (!isCompact(y)) throw new Error(`planInference: global pool into a strided view (${layer})`);
  out.push({
    kernel: 'globalAvgPool',
    ...typed(GLOBAL_POOL_PARAMS, (addr) => ({ in: addr(x), pixels: pixelsOf(x), C: x.C, inStride: x.stride, out: addr(y) })),
    total: x.C,
    grain: 4,
    cost: pixelsOf(x) * x.C,
    reads: [x],
    writes: [y],
    layer,
  });
};
