/**
 * RFSong's `Backbone` (models/module.py): a small VGG-like stem, one BasicRFB at stride 8, and
 * extra layers down to 1x1. Returns the six source maps f1..f6 (38, 19, 10, 5, 3, 1 at 300x300),
 * each with 256 channels.
 */
import * as tf from '@tensorflow/tfjs';
import { basicConv } from './basicConv';
import { basicRfb } from './basicRfb';

/**
 * PyTorch `MaxPool2d(k, k, ceil_mode)` with kernel = stride, no padding. Floor mode is tf's
 * 'valid'. Ceil mode adds a last partial window when the side is not a multiple of k; with
 * kernel = stride that is exactly tf's 'same' (ceil(n / k) outputs, the padding after the
 * input never wins the max).
 */
function maxPool(name: string, k: number, ceilMode = false): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  return (x) =>
    tf.layers.maxPooling2d({ poolSize: k, strides: k, padding: ceilMode ? 'same' : 'valid', name }).apply(x) as tf.SymbolicTensor;
}

/** The six source feature maps of the backbone, in upstream order. */
export function rfsongBackbone(input: tf.SymbolicTensor, prefix = 'base'): tf.SymbolicTensor[] {
  const c = (name: string, filters: number, kernelSize: number, o: { stride?: number; padding?: number; relu?: boolean } = {}) =>
    basicConv({ name: `${prefix}.${name}`, filters, kernelSize, ...o });
  let x = c('conv1_1', 32, 3, { padding: 1 })(input);
  x = c('conv1_2', 32, 3, { padding: 1 })(x);
  x = maxPool(`${prefix}.pool1`, 2)(x);
  x = c('conv2_1', 64, 3, { padding: 1 })(x);
  x = c('conv2_2', 64, 3, { padding: 1 })(x);
  x = maxPool(`${prefix}.pool2`, 2)(x);
  x = c('conv3_1', 128, 1)(x);
  x = c('conv3_2', 128, 3, { padding: 1 })(x);
  x = maxPool(`${prefix}.pool3`, 2, true)(x);
  x = c('conv4_1', 256, 1)(x);
  x = c('conv4_2', 256, 3, { padding: 1 })(x);
  const f1 = basicRfb({ name: `${prefix}.conv4_3`, outPlanes: 256, stride: 1, scale: 1.0 })(x);
  x = maxPool(`${prefix}.pool4`, 2)(f1);
  x = c('conv5_1', 128, 1, { relu: false })(x);
  const f2 = c('conv5_2', 256, 3, { padding: 1 })(x);
  x = c('conv6_1', 128, 1, { relu: false })(f2);
  const f3 = c('conv6_2', 256, 3, { padding: 1, stride: 2 })(x);
  x = c('conv7_1', 128, 1, { relu: false })(f3);
  const f4 = c('conv7_2', 256, 3, { padding: 1, stride: 2 })(x);
  x = c('conv8_1', 128, 1, { relu: false })(f4);
  const f5 = c('conv8_2', 256, 3)(x);
  x = c('conv9_1', 128, 1, { relu: false })(f5);
  const f6 = c('conv9_2', 256, 3)(x);
  return [f1, f2, f3, f4, f5, f6];
}
