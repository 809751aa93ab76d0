/**
 * An IR maxPool as ONNX. After a constant Pad that takes part in the max (zylo117's
 * static-same pool), Pad -> MaxPool would be wrong: onnxruntime's pad fusion turns it into
 * MaxPool pads, where padding never wins (wrong for negative windows). So: MaxPool over the
 * UNPADDED input with both paddings, then Max with the pad value at the windows that touch the
 * constant padding (exact).
 */
import { IRNode, MaxPoolNode, PadNode, explicitPadding } from '../../infer/ir';
import type { OnnxBuilder } from './onnxBuilder';

function maxPoolOverConstantPad(
  b: OnnxBuilder,
  p: PadNode & IRNode,
  size: [number, number],
  strides: [number, number],
  poolPads: [[number, number], [number, number]],
  outShape: number[],
): string {
  const src = b.names.get(p.inputs[0]) as string;
  const [H, W] = b.g.shapes[p.inputs[0]];
  const [[pt, pb], [pl, pr]] = p.pads;
  const [[qt, qb], [ql, qr]] = poolPads;
  const [ho, wo] = outShape;
  // In the Pad output's coordinates (size H + pt + pb), which windows hold a padded cell?
  const touches = (i: number, k: number, s: number, q: number, before: number, n: number, total: number) => {
    const lo = Math.max(0, i * s - q);
    const hi = Math.min(total, i * s - q + k); // exclusive
    return { any: hi > lo, pad: hi > lo && (lo < before || hi > before + n) };
  };
  const mask = new Float32Array(ho * wo);
  for (let i = 0; i < ho; i++) {
    const rr = touches(i, size[0], strides[0], qt, pt, H, H + pt + pb);
    for (let j = 0; j < wo; j++) {
      const cc = touches(j, size[1], strides[1], ql, pl, W, W + pl + pr);
      const hit = rr.any && cc.any && (rr.pad || cc.pad);
      mask[i * wo + j] = hit ? p.value : -3.4028234663852886e38;
    }
  }
  const pooled = b.emit('MaxPool', [src], {
    kernel_shape: size,
    strides,
    pads: [pt + qt, pl + ql, pb + qb, pr + qr],
  });
  return b.emit('Max', [pooled, b.constF('padmask', [1, 1, ho, wo], mask)]);
}

/** `producer` of the pool's input decides the constant-pad case. */
export function onnxMaxPool(b: OnnxBuilder, n: MaxPoolNode & IRNode, x: string, producer: Map<number, IRNode>): string {
  const inShape = b.g.shapes[n.inputs[0]];
  const [[t, bottom], [l, r]] = explicitPadding(n.pad, [inShape[0], inShape[1]], n.size, n.strides);
  const p = producer.get(n.inputs[0]);
  if (p && p.op === 'pad') return maxPoolOverConstantPad(b, p, n.size, n.strides, [[t, bottom], [l, r]], b.g.shapes[n.outputs[0]]);
  return b.emit('MaxPool', [x], { kernel_shape: n.size, strides: n.strides, pads: [t, l, bottom, r] });
}
