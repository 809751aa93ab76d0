/**
 * ShuffleNetV2's channel split as PyTorch implementations write it:
 * `x.reshape(N*C/g, g, H*W).permute(1, 0, 2).reshape(g, N, C/g, H, W)`, then part `j` is taken.
 * Part `j` holds the channels `j, j+g, j+2g, ...` (for g = 2: part 0 = the EVEN channels, which
 * Yolo-FastestV2 passes through, part 1 = the ODD channels, which go through the main branch).
 *
 * `ChannelShuffleSplit` is a registered, serialisable layer for NHWC tensors.
 */
import * as tf from '@tensorflow/tfjs';

/** Configuration of {@link ChannelShuffleSplit}. */
export interface ChannelShuffleSplitConfig {
  /** Number of interleaved parts (ShuffleNetV2: 2). Default 2. */
  groups?: number;
  /** Which part to keep: channels `index, index + groups, ...`. */
  index: number;
  name?: string;
  trainable?: boolean;
}

/**
 * Keeps the channels `c` with `c % groups == index` (last axis, order preserved): part `index`
 * of PyTorch's `reshape(N*C/g, g, HW) -> permute(1, 0, 2) -> reshape` split. No weights.
 */
export class ChannelShuffleSplit extends tf.layers.Layer {
  static className = 'YoloTfjsChannelShuffleSplit';
  readonly groups: number;
  readonly index: number;

  constructor(config: ChannelShuffleSplitConfig) {
    super(config);
    const groups = config.groups ?? 2;
    const index = config.index;
    if (!Number.isInteger(groups) || groups < 1) {
      throw new Error(`ChannelShuffleSplit: groups must be a positive integer, got ${groups}`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= groups) {
      throw new Error(`ChannelShuffleSplit: index must be an integer in [0, ${groups}), got ${index}`);
    }
    this.groups = groups;
    this.index = index;
  }

  private partSize(channels: number): number {
    if (channels % this.groups !== 0) {
      throw new Error(
        `ChannelShuffleSplit '${this.name}': ${channels} channels do not split into ${this.groups} interleaved parts`,
      );
    }
    return channels / this.groups;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 4) throw new Error(`ChannelShuffleSplit '${this.name}': expects NHWC input, got rank ${shape.length}`);
    const c = shape[3];
    if (c != null) this.partSize(c);
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    const out = shape.slice();
    out[out.length - 1] = c == null ? null : this.partSize(c);
    return out;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [n, h, w, c] = x.shape;
      const part = this.partSize(c);
      if (this.groups === 1) return x.clone();
      // [N, H, W, C] -> [N, H, W, C/g, g]: element [.., k, j] is channel k*g + j.
      const grouped = tf.reshape(x, [n, h, w, part, this.groups]);
      const picked = tf.slice(grouped, [0, 0, 0, 0, this.index], [n, h, w, part, 1]);
      return tf.reshape(picked, [n, h, w, part]);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, index: this.index };
  }
}
tf.serialization.registerClass(ChannelShuffleSplit);

/**
 * Builder: ShuffleNetV2's split of a symbolic NHWC tensor into `[even channels, odd channels]`
 * (upstream's `x[0], x[1]` of `channel_shuffle`). Layers are named `${name}.split0/1`.
 */
export function channelShuffleSplit(x: tf.SymbolicTensor, name: string): [tf.SymbolicTensor, tf.SymbolicTensor] {
  const even = new ChannelShuffleSplit({ groups: 2, index: 0, name: `${name}.split0` }).apply(x) as tf.SymbolicTensor;
  const odd = new ChannelShuffleSplit({ groups: 2, index: 1, name: `${name}.split1` }).apply(x) as tf.SymbolicTensor;
  return [even, odd];
}
