/**
 * Drop-connect (stochastic depth) as EfficientNet uses it on the residual branch of an MBConv
 * block: in training each batch item's branch is kept with probability `1 - rate` and scaled
 * by `1 / (1 - rate)`; at inference it is the identity.
 */
import * as tf from '@tensorflow/tfjs';

/** Configuration of {@link DropConnect}. */
export interface DropConnectConfig {
  /** Drop probability in [0, 1). */
  rate: number;
  name?: string;
  trainable?: boolean;
}

/** Per-sample drop-connect; identity unless called with `training: true`. No weights. */
export class DropConnect extends tf.layers.Layer {
  static className = 'YoloTfjsDropConnect';
  readonly rate: number;

  constructor(config: DropConnectConfig) {
    super(config);
    if (!(config.rate >= 0 && config.rate < 1)) throw new Error(`DropConnect: rate must be in [0, 1), got ${config.rate}`);
    this.rate = config.rate;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs?.training || this.rate === 0) return tf.clone(x);
    return tf.tidy(() => {
      const keep = 1 - this.rate;
      const shape = [x.shape[0], ...Array(x.rank - 1).fill(1)];
      const mask = tf.floor(tf.add(tf.randomUniform(shape), keep));
      return tf.mul(tf.div(x, keep), mask);
    });
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(DropConnect);
