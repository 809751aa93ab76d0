/**
 * `ChannelSlice`: Darknet's `[route] groups=G group_id=k` on one input: keeps channels
 * `[k*C/G, (k+1)*C/G)` of an NHWC tensor. Registered for serialisation.
 */
import * as tf from '@tensorflow/tfjs';

/** Configuration of {@link ChannelSlice}. */
export interface ChannelSliceConfig {
  /** Number of equal channel groups (Darknet `groups`). */
  groups: number;
  /** Which group to keep, 0-based (Darknet `group_id`). */
  groupId: number;
  name?: string;
  trainable?: boolean;
}

/** Keeps one of `groups` equal channel slices (last axis). No weights. */
export class ChannelSlice extends tf.layers.Layer {
  static className = 'YoloTfjsChannelSlice';
  readonly groups: number;
  readonly groupId: number;

  constructor(config: ChannelSliceConfig) {
    super(config);
    const { groups, groupId } = config;
    if (!Number.isInteger(groups) || groups < 1) {
      throw new Error(`ChannelSlice: groups must be a positive integer, got ${groups}`);
    }
    if (!Number.isInteger(groupId) || groupId < 0 || groupId >= groups) {
      throw new Error(`ChannelSlice: groupId must be an integer in [0, ${groups}), got ${groupId}`);
    }
    this.groups = groups;
    this.groupId = groupId;
  }

  private sliceOf(channels: number): [number, number] {
    if (channels % this.groups !== 0) {
      throw new Error(`ChannelSlice '${this.name}': ${channels} channels do not split into ${this.groups} equal groups`);
    }
    const size = channels / this.groups;
    return [this.groupId * size, size];
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (c != null) this.sliceOf(c);
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    const out = shape.slice();
    out[out.length - 1] = c == null ? null : this.sliceOf(c)[1];
    return out;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const [start, size] = this.sliceOf(x.shape[x.rank - 1]);
    const begin = new Array<number>(x.rank).fill(0);
    begin[x.rank - 1] = start;
    const sizes = new Array<number>(x.rank).fill(-1);
    sizes[x.rank - 1] = size;
    return tf.slice(x, begin, sizes);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, groupId: this.groupId };
  }
}
tf.serialization.registerClass(ChannelSlice);

/**
 * Builder: `[route] layers=-1 groups=G group_id=k` applied to one symbolic tensor.
 */
export function channelSlice(
  x: tf.SymbolicTensor,
  groups: number,
  groupId: number,
  name?: string,
): tf.SymbolicTensor {
  return new ChannelSlice({ groups, groupId, name }).apply(x) as tf.SymbolicTensor;
}
