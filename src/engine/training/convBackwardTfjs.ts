/**
 * Conv / depthwise-conv gradients through tfjs' own gradient kernels, for the training engine
 * while no wasm backward kernel covers them: the batch's input and output gradient are copied
 * into tfjs tensors, `tf.grads` of the same convolution gives dx and dfilter, and they are
 * copied back. Exact (tfjs autodiff itself), but pays tfjs' kernels and two copies.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainConv } from './trainingGraph';

export interface ConvBackwardArgs {
  x: Float32Array;
  dy: Float32Array;
  filter: Float32Array;
  node: TrainConv;
  n: number;
  inShape: [number, number, number];
  outShape: [number, number, number];
  wantDx: boolean;
  wantDw: boolean;
}

/** dx (input gradient) and dw (filter gradient, HWIO as the variable) of one conv node. */
export function convBackwardTfjs(a: ConvBackwardArgs): { dx: Float32Array | null; dw: Float32Array | null } {
  const { node, n } = a;
  let dx: Float32Array | null = null;
  let dw: Float32Array | null = null;
  tf.tidy(() => {
    const x = tf.tensor4d(a.x.slice(), [n, ...a.inShape]);
    const dy = tf.tensor4d(a.dy.slice(), [n, ...a.outShape]);
    const w = tf.tensor4d(a.filter.slice(), node.filterShape);
    const pad = [[0, 0], node.pads[0], node.pads[1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D): tf.Tensor4D =>
      node.depthwise ? tf.depthwiseConv2d(xx, ww, node.strides, pad as never, 'NHWC', node.dilations) : tf.conv2d(xx, ww, node.strides, pad, 'NHWC', node.dilations);
    if (a.wantDx && a.wantDw) {
      const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => f(xx as tf.Tensor4D, ww as tf.Tensor4D))([x, w], dy);
      dx = gx.dataSync() as Float32Array;
      dw = gw.dataSync() as Float32Array;
    } else if (a.wantDx) {
      dx = tf.grad((xx: tf.Tensor) => f(xx as tf.Tensor4D, w))(x, dy).dataSync() as Float32Array;
    } else if (a.wantDw) {
      dw = tf.grad((ww: tf.Tensor) => f(x, ww as tf.Tensor4D))(w, dy).dataSync() as Float32Array;
    }
  });
  return { dx, dw };
}
