/**
 * BiFPN's "fast normalised fusion" (EfficientDet paper, eq. 3): n same-shaped inputs combined
 * as `sum_i w_i * x_i` with `w = relu(v) / (sum(relu(v)) + epsilon)`, `v` a trainable vector
 * of n raw weights (initialised to 1, stored pre-ReLU as zylo117's `p*_w*` parameters).
 *
 * With `attention: false` (zylo117's D6-D8), the inputs are simply summed; the weight vector
 * still exists (upstream registers it and its state dict carries it) but is unused.
 */
import * as tf from '@tensorflow/tfjs';

/** Configuration of {@link WeightedFusion}. */
export interface WeightedFusionConfig {
  /** Normalisation epsilon (zylo117: 1e-4, not the BN epsilon). */
  epsilon?: number;
  /** Use the normalised weights (true) or a plain sum (false). Default true. */
  attention?: boolean;
  name?: string;
  trainable?: boolean;
}

/** Fast normalised fusion of a list of same-shaped tensors; one weight per input. */
export class WeightedFusion extends tf.layers.Layer {
  static className = 'YoloTfjsWeightedFusion';
  readonly epsilon: number;
  readonly attention: boolean;
  private fusionWeight: tf.LayerVariable | null = null;

  constructor(config: WeightedFusionConfig = {}) {
    super(config);
    this.epsilon = config.epsilon ?? 1e-4;
    this.attention = config.attention ?? true;
    if (!(this.epsilon >= 0)) throw new Error(`WeightedFusion: epsilon must be >= 0, got ${this.epsilon}`);
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = listOfShapes(inputShape, this.name);
    const first = JSON.stringify(shapes[0]);
    for (const s of shapes) {
      if (JSON.stringify(s) !== first) {
        throw new Error(`WeightedFusion '${this.name}': all inputs must have the same shape, got ${shapes.map((x) => `[${x.join(', ')}]`).join(' vs ')}`);
      }
    }
    this.fusionWeight = this.addWeight('weight', [shapes.length], 'float32', tf.initializers.ones(), undefined, true);
    this.built = true;
  }

  /** The normalised fusion weights `relu(v) / (sum(relu(v)) + eps)` (a new tensor). */
  normalisedWeights(): tf.Tensor1D {
    if (!this.fusionWeight) throw new Error(`WeightedFusion '${this.name}' is not built yet`);
    const v = this.fusionWeight.read();
    return tf.tidy(() => {
      const r = tf.relu(v);
      return tf.div(r, tf.add(tf.sum(r), this.epsilon)) as tf.Tensor1D;
    });
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    return tf.tidy(() => {
      if (!this.attention) return xs.slice(1).reduce((acc, x) => tf.add(acc, x), xs[0]);
      const w = this.normalisedWeights();
      const parts = tf.unstack(w);
      let acc = tf.mul(xs[0], parts[0]);
      for (let i = 1; i < xs.length; i++) acc = tf.add(acc, tf.mul(xs[i], parts[i]));
      return acc;
    });
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return listOfShapes(inputShape, this.name)[0];
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, attention: this.attention };
  }
}
tf.serialization.registerClass(WeightedFusion);

function listOfShapes(inputShape: tf.Shape | tf.Shape[], name: string): tf.Shape[] {
  if (!Array.isArray(inputShape[0])) {
    throw new Error(`WeightedFusion '${name}' takes a list of at least 2 inputs, got a single tensor`);
  }
  const shapes = inputShape as tf.Shape[];
  if (shapes.length < 2) throw new Error(`WeightedFusion '${name}' takes at least 2 inputs, got ${shapes.length}`);
  return shapes;
}
