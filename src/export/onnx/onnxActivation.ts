/** An IR activation as ONNX nodes (swish and mish as their formulas). */
import type { IRActivation } from '../../infer/ir';
import type { OnnxBuilder } from './onnxBuilder';

export function onnxActivation(b: OnnxBuilder, x: string, fn: IRActivation, alpha = 0.1): string {
  switch (fn) {
    case 'linear':
      return x;
    case 'relu':
      return b.emit('Relu', [x]);
    case 'relu6':
      return b.emit('Clip', [x, b.constF('zero', [], [0]), b.constF('six', [], [6])]);
    case 'leaky':
      return b.emit('LeakyRelu', [x], { alpha: { float: alpha } });
    case 'sigmoid':
      return b.emit('Sigmoid', [x]);
    case 'tanh':
      return b.emit('Tanh', [x]);
    case 'elu':
      return b.emit('Elu', [x], { alpha: { float: 1 } });
    case 'swish':
      return b.emit('Mul', [x, b.emit('Sigmoid', [x])]);
    case 'mish':
      return b.emit('Mul', [x, b.emit('Tanh', [b.emit('Softplus', [x])])]);
  }
}
