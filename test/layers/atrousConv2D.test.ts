/**
 * AtrousConv2D: the trainable dilated Conv2D equals tfjs's dilated conv2d forward, and its
 * gradients equal those of the same convolution written with an explicitly dilated (zero-
 * inserted) kernel, which tfjs can differentiate.
 */
import * as tf from '@tensorflow/tfjs';
import { AtrousConv2D, atrousConv2d } from '../../src/layers/atrousConv2D';
import { registerWasmTrainingKernels } from '../../src/train/wasmGradients';

beforeAll(() => registerWasmTrainingKernels());

/** The kernel with d-1 zeros inserted between taps: [(k-1)d+1, (k-1)d+1, ci, co]. */
function dilateKernel(k: tf.Tensor4D, d: number): tf.Tensor4D {
  const [kh, kw, ci, co] = k.shape;
  const e = tf.reshape(k, [kh, 1, kw, 1, ci, co]);
  const p = tf.pad(e, [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]);
  const full = tf.reshape(p, [kh * d, kw * d, ci, co]);
  return tf.slice(full, [0, 0, 0, 0], [(kh - 1) * d + 1, (kw - 1) * d + 1, ci, co]) as tf.Tensor4D;
}

describe('AtrousConv2D', () => {
  it.each([[2, 'same', 9, 7], [3, 'same', 8, 8], [5, 'same', 11, 6], [2, 'valid', 9, 10]] as const)(
    'dilation %i %s on %ix%i: forward and gradients equal the zero-inserted-kernel convolution',
    (d, padding, h, w) => {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const k = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const dy = tf.randomNormal(tf.conv2d(x, k, 1, padding, 'NHWC', d).shape, 0, 1, 'float32', 3);
      const ref = tf.conv2d(x, k, 1, padding, 'NHWC', d);
      const ours = atrousConv2d(x, k, [d, d], padding);
      expect(ours.shape).toEqual(ref.shape);
      expect(tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0]).toBeLessThan(1e-4);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(atrousConv2d(a as tf.Tensor4D, b as tf.Tensor4D, [d, d], padding), dy));
      const g = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, dilateKernel(b as tf.Tensor4D, d), 1, padding), dy));
      const [gx, gk] = tf.grads(f)([x, k]);
      const [rx, rk] = tf.grads(g)([x, k]);
      expect(tf.max(tf.abs(tf.sub(gx, rx))).dataSync()[0]).toBeLessThan(1e-3);
      expect(tf.max(tf.abs(tf.sub(gk, rk))).dataSync()[0]).toBeLessThan(1e-3);
      tf.dispose([x, k, dy, ref, ours, gx, gk, rx, rk]);
    },
  );

  it('is a Conv2D in config and weights, registered under its own class name', () => {
    const input = tf.input({ shape: [10, 10, 2] });
    const layer = new AtrousConv2D({ filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2, useBias: true, name: 'a' });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    expect(layer.getClassName()).toBe('YoloTfjsAtrousConv2D');
    expect(layer.getWeights().map((w) => w.shape)).toEqual([[3, 3, 2, 3], [3]]);
    const x = tf.randomNormal([1, 10, 10, 2], 0, 1, 'float32', 4);
    const y = model.predict(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights();
    const ref = tf.add(tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same', 'NHWC', 2), bias);
    expect(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]).toBeLessThan(1e-4);
    tf.dispose([x, y, ref]);
    model.dispose();
  });
});
