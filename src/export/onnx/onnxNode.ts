/** One IR node as ONNX nodes: the names of its outputs ('' for an output nobody reads). */
import type { IRNode } from '../../infer/ir';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, OnnxBuilder } from './onnxBuilder';
import { onnxActivation } from './onnxActivation';
import { onnxConv } from './onnxConv';
import { onnxMaxPool } from './onnxMaxPool';

export function onnxNode(b: OnnxBuilder, n: IRNode, producer: Map<number, IRNode>): string[] {
  const ins = n.inputs.map((v) => b.nameOf(v));
  const x = ins[0];
  const inShape = b.g.shapes[n.inputs[0]];
  switch (n.op) {
    case 'conv':
      return [onnxConv(b, n, x)];
    case 'affine': {
      const dims = b.isMap(n.inputs[0]) ? [n.scale.length, 1, 1] : [n.scale.length];
      return [b.emit('Add', [b.emit('Mul', [x, b.constF('scale', dims, n.scale)]), b.constF('shift', dims, n.shift)])];
    }
    case 'pad': {
      const [[t, bottom], [l, r]] = n.pads;
      return [b.emit('Pad', [x, b.constI('pads', [0, 0, t, l, 0, 0, bottom, r]), b.constF('value', [], [n.value])], { mode: 'constant' })];
    }
    case 'maxPool':
      return [onnxMaxPool(b, n, x, producer)];
    case 'activation':
      return [n.fn === 'linear' ? b.emit('Identity', [x]) : onnxActivation(b, x, n.fn, n.alpha)];
    case 'add':
      return [ins.length === 2 ? b.emit('Add', ins) : b.emit('Sum', ins)];
    case 'mul':
      return [b.emit('Mul', ins)];
    case 'weightedSum':
      return [b.emit('Sum', ins.map((s, i) => b.emit('Mul', [s, b.constF('w', [], [n.weights[i]])])))];
    case 'concat':
      return [b.emit('Concat', ins, { axis: b.axisOf(n.inputs[0], n.axis) })];
    case 'upsample':
      return [
        b.emit('Resize', [x, '', b.constF('scales', [4], [1, 1, n.scale[0], n.scale[1]])], {
          mode: 'nearest',
          coordinate_transformation_mode: 'asymmetric',
          nearest_mode: 'floor',
        }),
      ];
    case 'channelSlice': {
      const axis = b.isMap(n.inputs[0]) ? 1 : inShape.length;
      return [b.emit('Slice', [x, b.constI('starts', [n.begin]), b.constI('ends', [n.begin + n.size]), b.constI('axes', [axis])])];
    }
    case 'channelSplit': {
      const [h, w, c] = inShape;
      const grouped = b.emit('Reshape', [x, b.constI('shape', [0, c / n.groups, n.groups, h, w])]);
      // Part j = channels k*g + j: Gather with a SCALAR index on the g axis drops that axis.
      return n.folded.map((f, j) => (f ? '' : b.emit('Gather', [grouped, b.constI('index', [j], true)], { axis: 2 })));
    }
    case 'reshape': {
      const src = b.isMap(n.inputs[0]) ? b.emit('Transpose', [x], { perm: NCHW_TO_NHWC }) : x;
      const y = b.emit('Reshape', [src, b.constI('shape', [0, ...n.shape])]);
      return [n.shape.length === 3 ? b.emit('Transpose', [y], { perm: NHWC_TO_NCHW }) : y];
    }
    case 'globalAvgPool': {
      const y = b.emit('GlobalAveragePool', [x]);
      return [n.keepDims ? y : b.emit('Flatten', [y], { axis: 1 })];
    }
    case 'identity':
      return [b.emit('Identity', [x])];
    case 'custom':
      throw new Error(`exportOnnx: layer '${n.layerName}' (class '${n.className}') runs a custom function and has no ONNX equivalent`);
  }
}
