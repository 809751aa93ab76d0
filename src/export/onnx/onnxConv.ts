/** An IR conv (dense or depthwise, activation fused) as an ONNX Conv: weights relaid HWIO -> OIHW. */
import { ConvNode, IRNode, explicitPadding } from '../../infer/ir';
import type { OnnxBuilder } from './onnxBuilder';
import { onnxActivation } from './onnxActivation';

export function onnxConv(b: OnnxBuilder, n: ConvNode & IRNode, x: string): string {
  const [kh, kw, ci, m] = n.filterShape;
  const inShape = b.g.shapes[n.inputs[0]];
  const co = n.depthwise ? ci * m : m;
  const icPerGroup = n.depthwise ? 1 : ci;
  // HWIO [kh, kw, ci, co] -> OIHW; depthwise [kh, kw, c, m] -> [c*m, 1, kh, kw] (out = c*m + j).
  const w = new Float32Array(co * icPerGroup * kh * kw);
  for (let y = 0; y < kh; y++) {
    for (let xx = 0; xx < kw; xx++) {
      for (let i = 0; i < ci; i++) {
        for (let j = 0; j < m; j++) {
          const src = ((y * kw + xx) * ci + i) * m + j;
          const o = n.depthwise ? i * m + j : j;
          const ii = n.depthwise ? 0 : i;
          w[((o * icPerGroup + ii) * kh + y) * kw + xx] = n.filter[src];
        }
      }
    }
  }
  const [[t, bottom], [l, r]] = explicitPadding(n.pad, [inShape[0], inShape[1]], [kh, kw], n.strides, n.dilations);
  const inputs = [x, b.constF('W', [co, icPerGroup, kh, kw], w)];
  if (n.bias) inputs.push(b.constF('B', [co], n.bias));
  const y = b.emit('Conv', inputs, {
    kernel_shape: [kh, kw],
    strides: n.strides,
    dilations: n.dilations,
    pads: [t, l, bottom, r],
    group: n.depthwise ? ci : 1,
  });
  return onnxActivation(b, y, n.activation, n.alpha);
}
