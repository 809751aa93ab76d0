/** Emitter of `maxPool`: a `maxpool2d` call with the explicit padding of the node's mode. */
import { explicitPadding } from '../../infer/ir';
import { POOL_PARAMS } from '../kernelParams';
import type { Emitter, NodeOf } from './emitter';
import { typed } from './stepList';
import { pixelsOf, spatialIO } from './views';

export const emitMaxPool: Emitter<NodeOf<'maxPool'>> = ({ n, ins: [x], outs: [y], layer }, { out }) => {
  const [[pt], [pl]] = explicitPadding(n.pad, [x.H, x.W], n.size, n.strides);
  out.push({
    kernel: 'maxpool2d',
    ...typed(POOL_PARAMS, (addr) => ({ ...spatialIO(addr, x, y), kh: n.size[0], kw: n.size[1], sh: n.strides[0], sw: n.strides[1], padTop: pt, padLeft: pl })),
    total: y.H,
    grain: 1,
    cost: pixelsOf(y) * y.C * n.size[0] * n.size[1],
    reads: [x],
    writes: [y],
    layer,
  });
};
