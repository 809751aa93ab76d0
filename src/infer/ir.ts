/**
 * The inference IR: a LayersModel flattened into a list of nodes in execution order, with
 * weights as plain Float32Arrays (so they can be folded once, turned into tfjs tensors, or
 * written to ONNX). Values are numbered; every value has a static shape WITHOUT the batch axis
 * (NHWC for feature maps).
 */
import * as tf from '@tensorflow/tfjs';

/** Activations the IR knows. `leaky` carries its slope in `alpha`. */
export type IRActivation = 'linear' | 'relu' | 'relu6' | 'leaky' | 'sigmoid' | 'tanh' | 'elu' | 'swish' | 'mish';

/** Padding of a 2-D window op: tf's 'same'/'valid', or explicit `[[top, bottom], [left, right]]`. */
export type IRPadding = 'same' | 'valid' | [[number, number], [number, number]];

/** A convolution (plain or depthwise) with optional bias and activation. */
export interface ConvNode {
  op: 'conv';
  /** Depthwise: filter `[kh, kw, cin, multiplier]`; else `[kh, kw, cin, cout]` (HWIO). */
  depthwise: boolean;
  filter: Float32Array;
  filterShape: [number, number, number, number];
  bias: Float32Array | null;
  strides: [number, number];
  dilations: [number, number];
  pad: IRPadding;
  activation: IRActivation;
  /** Slope of `leaky`. */
  alpha?: number;
}

/** Per-channel `x * scale + shift` (an unfolded BatchNorm), last axis. */
export interface AffineNode {
  op: 'affine';
  scale: Float32Array;
  shift: Float32Array;
}

/** Constant padding of H and W. */
export interface PadNode {
  op: 'pad';
  pads: [[number, number], [number, number]];
  value: number;
}

/** Max pooling; explicit padding never wins the max (ONNX / XNNPACK semantics). */
export interface MaxPoolNode {
  op: 'maxPool';
  size: [number, number];
  strides: [number, number];
  pad: IRPadding;
}

export interface ActivationNode {
  op: 'activation';
  fn: IRActivation;
  alpha?: number;
}

/** Elementwise sum of n same-shaped inputs. */
export interface AddNode {
  op: 'add';
}

/** Elementwise product of two inputs (broadcasting, e.g. `[1, 1, C] * [H, W, C]`). */
export interface MulNode {
  op: 'mul';
}

/** `sum_i weights[i] * x_i` (EfficientDet's fast normalised fusion with its weights resolved). */
export interface WeightedSumNode {
  op: 'weightedSum';
  weights: number[];
}

/** Concatenation along `axis` (an axis of the full tensor, batch included, >= 1). */
export interface ConcatNode {
  op: 'concat';
  axis: number;
}

/** Nearest-neighbour upsampling by integer factors (floor / asymmetric). */
export interface UpsampleNode {
  op: 'upsample';
  scale: [number, number];
}

/** Keeps channels `[begin, begin + size)` of the last axis. */
export interface ChannelSliceNode {
  op: 'channelSlice';
  begin: number;
  size: number;
}

/**
 * ShuffleNet's interleaved split: output j holds the channels c with c % groups == j. When an
 * output only feeds plain convolutions, the optimiser folds the selection into their weights
 * and `folded[j]` is true (that output is never computed).
 */
export interface ChannelSplitNode {
  op: 'channelSplit';
  groups: number;
  folded: boolean[];
}

/** Reshape to `shape` (batch axis excluded). */
export interface ReshapeNode {
  op: 'reshape';
  shape: number[];
}

/** Global average pooling over H and W; output `[C]` (or `[1, 1, C]` with keepDims). */
export interface GlobalAvgPoolNode {
  op: 'globalAvgPool';
  keepDims: boolean;
}

export interface IdentityNode {
  op: 'identity';
}

/** A layer run by a registered function or by its own `call` (not exportable to ONNX). */
export interface CustomNode {
  op: 'custom';
  className: string;
  layerName: string;
  fn: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

export type IROp =
  | ConvNode
  | AffineNode
  | PadNode
  | MaxPoolNode
  | ActivationNode
  | AddNode
  | MulNode
  | WeightedSumNode
  | ConcatNode
  | UpsampleNode
  | ChannelSliceNode
  | ChannelSplitNode
  | ReshapeNode
  | GlobalAvgPoolNode
  | IdentityNode
  | CustomNode;

/** One node: an op, its input value ids, its output value ids, and the layer it came from. */
export type IRNode = IROp & { inputs: number[]; outputs: number[]; layer: string };

/** A whole network. */
export interface IRGraph {
  /** The single input value id. */
  input: number;
  /** Output value ids, in the model's output order. */
  outputs: number[];
  /** Shape of every value, batch excluded. */
  shapes: number[][];
  nodes: IRNode[];
}

/** Ids of the nodes that read each value. */
export function consumersOf(g: IRGraph): Map<number, IRNode[]> {
  const m = new Map<number, IRNode[]>();
  for (const n of g.nodes) {
    for (const v of n.inputs) {
      const list = m.get(v);
      if (list) list.push(n);
      else m.set(v, [n]);
    }
  }
  return m;
}

/** Number of readers of each value, model outputs counted as readers. */
export function useCounts(g: IRGraph): Map<number, number> {
  const m = new Map<number, number>();
  for (const n of g.nodes) for (const v of n.inputs) m.set(v, (m.get(v) ?? 0) + 1);
  for (const v of g.outputs) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Explicit `[[t, b], [l, r]]` padding of a window op for a known input size. */
export function explicitPadding(
  pad: IRPadding,
  inHW: [number, number],
  size: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
): [[number, number], [number, number]] {
  if (pad === 'valid') return [[0, 0], [0, 0]];
  if (pad !== 'same') return pad;
  const axis = (n: number, k: number, s: number, d: number): [number, number] => {
    const ek = (k - 1) * d + 1;
    const out = Math.ceil(n / s);
    const total = Math.max(0, (out - 1) * s + ek - n);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [axis(inHW[0], size[0], strides[0], dilations[0]), axis(inHW[1], size[1], strides[1], dilations[1])];
}
