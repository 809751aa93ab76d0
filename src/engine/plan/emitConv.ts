/** Emitter of `conv`: a `conv2d` or `depthwise2d` call on packed weights (bias and activation fused). */
import { ConvNode, explicitPadding } from '../../infer/ir';
import { ACT, CONV_PARAMS, DEPTHWISE_PARAMS } from '../kernelParams';
import type { Emitter, NodeOf } from './emitter';
import { typed } from './stepList';
import { pixelsOf, spatialIO } from './views';

/** Window fields shared by conv2d and depthwise2d. */
function windowFields(n: ConvNode, pads: [number, number]) {
  const [kh, kw] = n.filterShape;
  return { kh, kw, sh: n.strides[0], sw: n.strides[1], dh: n.dilations[0], dw: n.dilations[1], padTop: pads[0], padLeft: pads[1] };
}

export const emitConv: Emitter<NodeOf<'conv'>> = ({ n, ins: [x], outs: [y], layer }, { out, pack }) => {
  const [kh, kw] = n.filterShape;
  const [[pt], [pl]] = explicitPadding(n.pad, [x.H, x.W], [kh, kw], n.strides, n.dilations);
  const act = ACT[n.activation];
  const alpha = n.alpha ?? 0.1;
  const packed = (n.depthwise ? pack.depthwise : pack.conv)(n.filter, n.filterShape, n.bias);
  const w = out.addConst(packed.weights);
  const b = out.addConst(packed.bias);
  if (n.depthwise) {
    out.push({
      kernel: 'depthwise2d',
      ...typed(DEPTHWISE_PARAMS, (addr, ca) => ({ ...spatialIO(addr, x, y), weights: ca(w), bias: ca(b), ...windowFields(n, [pt, pl]), act, alpha })),
      total: y.H,
      grain: 1,
      cost: pixelsOf(y) * y.C * kh * kw,
      reads: [x],
      writes: [y],
      layer,
    });
    return;
  }
  // Few pixels, large weights (e.g. 13x13, 512 -> 1024): threads split the output channels, so
  // each streams only its share of the weights.
  const splitBlocks = n.filter.length * 4 > 1536 * 1024 && pixelsOf(y) < 64 * Math.ceil(y.C / 8);
  out.zeroFloats = Math.max(out.zeroFloats, x.C + 16);
  const zero = out.zero;
  out.push({
    kernel: 'conv2d',
    ...typed(CONV_PARAMS, (addr, ca) => ({
      ...spatialIO(addr, x, y),
      N: y.C,
      weights: ca(w),
      bias: ca(b),
      ...windowFields(n, [pt, pl]),
      act,
      alpha,
      zero: ca(zero),
      splitBlocks: splitBlocks ? 1 : 0,
    })),
    total: splitBlocks ? Math.ceil(y.C / 8) : pixelsOf(y),
    grain: splitBlocks ? 1 : 4,
    cost: pixelsOf(y) * y.C * kh * kw * x.C,
    reads: [x],
    writes: [y],
    layer,
  });
};
