/**
 * Mish activation as a layer: `x * tanh(softplus(x))`, with Darknet's softplus thresholds
 * (x > 20: x; x < -20: exp(x); else log(exp(x) + 1)). Registered for serialisation.
 */
import * as tf from '@tensorflow/tfjs';

/** Darknet's softplus threshold (`softplus_activate(x, 20)` in activations.h). */
const SOFTPLUS_THRESHOLD = 20;

/** Mish on a tensor, Darknet's formula. Pure op, usable outside layers. */
export function mish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const t = SOFTPLUS_THRESHOLD;
    // exp of a clamped value so that neither branch overflows (keeps gradients finite too).
    const ex = tf.exp(tf.minimum(x, t));
    const mid = tf.log(tf.add(ex, 1));
    const sp = tf.where(tf.greater(x, t), x, tf.where(tf.less(x, -t), ex, mid));
    return tf.mul(x, tf.tanh(sp));
  });
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
