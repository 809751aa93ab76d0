/**
 * A dilated (atrous) `Conv2D` that can be trained: tfjs 4.22 computes dilated convolutions but
 * its conv2d and fused-conv2d gradients refuse dilation rates > 1. This subclass of tfjs's
 * Conv2D (same config, same weights, so inference, saving and ONNX export treat it as a
 * Conv2D) runs a dilated convolution as TensorFlow's own atrous decomposition: pad, space to
 * batch by the dilation, an undilated 'valid' convolution, batch to space. Every step has a
 * gradient.
 */
import * as tf from '@tensorflow/tfjs';

// tfjs-layers does not export its layer classes by name; the registry has them.
type LayerClass = new (config: tf.serialization.ConfigDict) => tf.layers.Layer;
const Conv2DBase = (tf.serialization.SerializationMap.getMap().classNameMap.Conv2D[0] as unknown) as LayerClass;

/* eslint-disable @typescript-eslint/no-explicit-any */

/** `y = conv(x, kernel)` at stride 1 with dilation `[dh, dw]`, 'same' or 'valid', via space-to-batch. */
export function atrousConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, dilation: [number, number], padding: 'same' | 'valid'): tf.Tensor4D {
  return tf.tidy(() => {
    const [dh, dw] = dilation;
    const [kh, kw] = kernel.shape;
    const [, h, w] = x.shape;
    const th = padding === 'same' ? (kh - 1) * dh : 0;
    const tw = padding === 'same' ? (kw - 1) * dw : 0;
    const hp = h + th;
    const wp = w + tw;
    // make the padded extent a multiple of the dilation (cropped again after batch-to-space)
    const eh = (dh - (hp % dh)) % dh;
    const ew = (dw - (wp % dw)) % dw;
    const xp = tf.pad(x, [[0, 0], [Math.floor(th / 2), th - Math.floor(th / 2) + eh], [Math.floor(tw / 2), tw - Math.floor(tw / 2) + ew], [0, 0]]);
    const xs = tf.spaceToBatchND(xp, [dh, dw], [[0, 0], [0, 0]]) as tf.Tensor4D;
    const ys = tf.conv2d(xs, kernel, 1, 'valid');
    return tf.batchToSpaceND(ys, [dh, dw], [[0, eh], [0, ew]]) as tf.Tensor4D;
  });
}

/** tfjs `Conv2D` whose dilated forward pass is differentiable (see the file comment). */
export class AtrousConv2D extends Conv2DBase {
  static className = 'YoloTfjsAtrousConv2D';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: any): tf.Tensor {
    const self = this as any;
    const d = self.dilationRate as number | number[];
    const [dh, dw] = Array.isArray(d) ? [d[0], d[d.length > 1 ? 1 : 0]] : [d, d];
    const strides = self.strides as number[];
    if ((dh === 1 && dw === 1) || strides.some((s) => s !== 1) || self.dataFormat !== 'channelsLast') {
      return (super.call as any)(inputs, kwargs);
    }
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      let y: tf.Tensor = atrousConv2d(x, self.kernel.read(), [dh, dw], self.padding);
      if (self.useBias) y = tf.add(y, self.bias.read());
      return self.activation ? self.activation.apply(y) : y;
    });
  }

  getClassName(): string {
    return AtrousConv2D.className;
  }
}
tf.serialization.registerClass(AtrousConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
