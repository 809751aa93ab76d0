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
  /** Number of interleaved parts, one output each (ShuffleNetV2: 2). Default 2. */
  groups?: number;
  name?: string;
  trainable?: boolean;
}

/**
 * Splits the channels (last axis) into `groups` interleaved parts, one OUTPUT per part: output
 * `j` holds the channels `c` with `c % groups == j`, in order. This is PyTorch's
 * `reshape(N*C/g, g, HW) -> permute(1, 0, 2) -> reshape(g, N, C/g, H, W)` split. No weights.
 */
export class ChannelShuffleSplit extends tf.layers.Layer {
  static className = 'YoloTfjsChannelShuffleSplit';
  readonly groups: number;

  constructor(config: ChannelShuffleSplitConfig = {}) {
    super(config);
    const groups = config.groups ?? 2;
    if (!Number.isInteger(groups) || groups < 1) {
      throw new Error(`ChannelShuffleSplit: groups must be a positive integer, got ${groups}`);
    }
    this.groups = groups;
  }

  private partSize(channels: number): number {
    if (channels % this.groups !== 0) {
      throw new Error(
        `ChannelShuffleSplit '${this.name}': ${channels} channels do not split into ${this.groups} interleaved parts`,
      );
    }
    return channels / this.groups;
  }

  private static single(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = ChannelShuffleSplit.single(inputShape);
    if (shape.length !== 4) throw new Error(`ChannelShuffleSplit '${this.name}': expects NHWC input, got rank ${shape.length}`);
    const c = shape[3];
    if (c != null) this.partSize(c);
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shape = ChannelShuffleSplit.single(inputShape);
    const c = shape[shape.length - 1];
    const out = shape.slice();
    out[out.length - 1] = c == null ? null : this.partSize(c);
    return Array.from({ length: this.groups }, () => out.slice());
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [n, h, w, c] = x.shape;
      const part = this.partSize(c);
      if (this.groups === 1) return [x.clone()];
      // [N*H*W, C/g, g] -> [g, N*H*W, C/g]: part j is then one contiguous block (a native
      // transpose plus contiguous slices; a gather or a strided slice is several times slower
      // on wasm).
      const parts = tf.transpose(tf.reshape(x, [n * h * w, part, this.groups]), [2, 0, 1]);
      return tf.split(parts, this.groups, 0).map((p) => tf.reshape(p, [n, h, w, part]));
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups };
  }
}
tf.serialization.registerClass(ChannelShuffleSplit);

/**
 * Builder: ShuffleNetV2's split of a symbolic NHWC tensor into `[even channels, odd channels]`
 * (upstream's `x[0], x[1]` of `channel_shuffle`). The layer is named `${name}.shuffle`.
 */
export function channelShuffleSplit(x: tf.SymbolicTensor, name: string): [tf.SymbolicTensor, tf.SymbolicTensor] {
  const out = new ChannelShuffleSplit({ groups: 2, name: `${name}.shuffle` }).apply(x) as tf.SymbolicTensor[];
  return [out[0], out[1]];
}
