/**
 * Mish activation as a layer: `x * tanh(softplus(x))`, with Darknet's softplus thresholds
 * (x > 20: x; x < -20: exp(x); else log(exp(x) + 1)). Registered for serialisation.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Mish on a tensor. `tf.softplus` equals Darknet's thresholded softplus to float32 precision
 * (x for x > 20, exp(x) below -20) and, unlike a `where` on comparisons, has a gradient, so
 * Mish networks train. Pure op, usable outside layers.
 */
export function mish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.tanh(tf.softplus(x))));
}

/** Mish activation layer (`x * tanh(softplus(x))`), no weights. */
export class Mish extends tf.layers.Layer {
  static className = 'YoloTfjsMish';

  constructor(config?: tf.serialization.ConfigDict & { name?: string; trainable?: boolean }) {
    super(config ?? {});
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return mish(x);
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}
tf.serialization.registerClass(Mish);

/** Swish / SiLU (`x * sigmoid(x)`, Darknet `swish`) as a registered layer. */
export class Swish extends tf.layers.Layer {
  static className = 'YoloTfjsSwish';

  constructor(config?: tf.serialization.ConfigDict & { name?: string; trainable?: boolean }) {
    super(config ?? {});
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}
tf.serialization.registerClass(Swish);
