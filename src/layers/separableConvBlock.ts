/**
 * zylo117's `SeparableConvBlock`: depthwise 3x3 (no bias, TF 'same') -> pointwise 1x1 (with
 * bias) [-> BN]. tfjs's `SeparableConv2D` is exactly depthwise (no bias) + pointwise + one bias
 * after the pointwise conv, so a block is one `SeparableConv2D` layer named after the PyTorch
 * module (`name`) plus, when normalised, a BN named `${name}.bn`.
 */
import * as tf from '@tensorflow/tfjs';
import { EFFICIENT_BN_EPSILON, EFFICIENT_BN_MOMENTUM } from './mbConvBlock';
import { WeightInit, kernelInitializer } from './weightInit';

/** The separable conv layer of a block (depthwise 3x3 no bias, pointwise with bias). Reusable (shared) across inputs. */
export function separableConvLayer(name: string, filters: number, init?: WeightInit): tf.layers.Layer {
  if (!Number.isInteger(filters) || filters < 1) throw new Error(`separableConvLayer '${name}': filters must be an integer >= 1, got ${filters}`);
  return tf.layers.separableConv2d({ filters, kernelSize: 3, padding: 'same', depthMultiplier: 1, useBias: true, depthwiseInitializer: kernelInitializer(init), pointwiseInitializer: kernelInitializer(init), name });
}

/** BN with EfficientDet's epsilon 1e-3. */
export function efficientBatchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: -1, epsilon: EFFICIENT_BN_EPSILON, momentum: EFFICIENT_BN_MOMENTUM, name });
}

/** Apply a `SeparableConvBlock(filters, norm)` to `x`: separable conv, then BN when `norm`. No activation. */
export function separableConvBlock(x: tf.SymbolicTensor, o: { name: string; filters: number; norm: boolean; init?: WeightInit }): tf.SymbolicTensor {
  let y = separableConvLayer(o.name, o.filters, o.init).apply(x) as tf.SymbolicTensor;
  if (o.norm) y = efficientBatchNorm(`${o.name}.bn`).apply(y) as tf.SymbolicTensor;
  return y;
}
