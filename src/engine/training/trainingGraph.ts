/**
 * The TRAINING graph of a LayersModel: like the inference IR (src/infer/ir.ts, which it is built
 * from, so both walk the topology the same way) but with BatchNorm kept as its own op in training
 * mode and every weight a reference to the model's tfjs variable (nothing folded, nothing
 * copied). One node per layer APPLICATION: a layer applied twice (e.g. output convs shared by two scales)
 * gives two nodes that share variables, and their weight gradients add up.
 *
 * Only what the engine can train is accepted (conv / depthwise / separable conv, BatchNorm, relu /
 * relu6 / leaky / linear / sigmoid / tanh / elu / swish / mish, max pooling, nearest upsampling,
 * channel concat / slice / interleaved split, add, zero padding (folded into the conv that reads
 * it, else its own op), and EfficientDet's ops: the spatial mean and channel product of
 * squeeze-excitation, the fast normalised fusion with its trainable weights, drop-connect); anything else is an
 * {@link UnsupportedTrainingGraphError} naming the layer, and train() keeps the tfjs path.
 *
 * The engine holds `[H, W, C]` feature maps only. Weightless ops after them that are not (the
 * heads' reshape to `[K, k]` anchors, their concatenation, a final sigmoid) form the graph's
 * {@link TrainingTail}: the engine's outputs are the last feature maps, and the tail runs in tfjs
 * (./trainingTail.ts) inside the loss's autodiff, so its gradient comes with the loss's.
 */
import * as tf from '@tensorflow/tfjs';
import { buildInferenceGraph } from '../../infer/buildInferenceGraph';
import { explicitPadding, IRGraph, IRNode } from '../../infer/ir';
import { matchSpatialMean } from './matchSpatialMean';

/** A model (or layer) the engine cannot train; the caller falls back to tfjs autodiff. */
export class UnsupportedTrainingGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTrainingGraphError';
  }
}

export type Pads = [[number, number], [number, number]];

/**
 * Activations the training engine differentiates: every activation code of the kernels
 * (activation_grad.h has the derivative of each).
 */
export type TrainActivation = 'linear' | 'relu' | 'relu6' | 'leaky' | 'sigmoid' | 'tanh' | 'elu' | 'swish' | 'mish';

/** The names of {@link TrainActivation}: an IR activation outside this list has no training kernel. */
const TRAIN_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'leaky', 'sigmoid', 'tanh', 'elu', 'swish', 'mish'] satisfies readonly TrainActivation[];

const isTrainActivation = (fn: string): fn is TrainActivation => TRAIN_ACTIVATIONS.includes(fn);

/**
 * Whether the activation's slope can be read from its OUTPUT (relu, relu6, leaky, linear: the
 * output has the input's sign), so the input need not be kept for the backward. The others
 * (sigmoid, tanh, elu, swish, mish) take it from the pre-activation value.
 */
export function slopeFromOutput(fn: TrainActivation): boolean {
  return fn === 'linear' || fn === 'relu' || fn === 'relu6' || fn === 'leaky';
}

/** A (depthwise) convolution; its padding is explicit (a ZeroPadding2D before it is folded in). */
export interface TrainConv {
  op: 'conv';
  depthwise: boolean;
  /** HWIO `[kh, kw, cin, cout]` or depthwise `[kh, kw, C, 1]`. */
  kernel: tf.Variable;
  bias: tf.Variable | null;
  filterShape: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: Pads;
  /** False when the layer is frozen: no weight gradients, no update. */
  trainable: boolean;
}

/**
 * BatchNormalization over the last axis. `training` (the layer is trainable): batch statistics
 * and a running-stat update as tfjs' layer does; otherwise (frozen) the running statistics.
 */
export interface TrainBatchNorm {
  op: 'batchNorm';
  gamma: tf.Variable | null;
  beta: tf.Variable | null;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
  momentum: number;
  epsilon: number;
  training: boolean;
}

export interface TrainActivationNode {
  op: 'activation';
  fn: TrainActivation;
  alpha: number;
}

export interface TrainMaxPool {
  op: 'maxPool';
  size: [number, number];
  strides: [number, number];
  pads: Pads;
}

export interface TrainUpsample {
  op: 'upsample';
  scale: [number, number];
}

/** Concatenation along channels. */
export interface TrainConcat {
  op: 'concat';
}

export interface TrainChannelSlice {
  op: 'channelSlice';
  begin: number;
  size: number;
}

/** Output j = channels c with c % groups == j. */
export interface TrainChannelSplit {
  op: 'channelSplit';
  groups: number;
}

export interface TrainAdd {
  op: 'add';
}

/** Constant zero padding of H and W read by something else than convolutions (a max pool). */
export interface TrainPad {
  op: 'pad';
  pads: Pads;
}

/** Mean over H and W: `[H, W, C] -> [1, 1, C]` (the squeeze of squeeze-excitation). */
export interface TrainSpatialMean {
  op: 'spatialMean';
}

/** inputs `[scale [1, 1, C], x [H, W, C]]`: x times the per-image channel scale (the excitation). */
export interface TrainChannelMul {
  op: 'channelMul';
}

/**
 * EfficientDet's fast normalised fusion: `sum_i w_i x_i` with `w = relu(v) / (sum relu(v) + epsilon)`
 * and `v` the layer's trainable vector.
 */
export interface TrainWeightedSum {
  op: 'weightedSum';
  weight: tf.Variable;
  epsilon: number;
  trainable: boolean;
}

/** Drop-connect in training: each image kept with probability `1 - rate` and scaled by `1 / (1 - rate)`, else zeroed. */
export interface TrainDropConnect {
  op: 'dropConnect';
  rate: number;
}

export type TrainOp =
  | TrainConv
  | TrainBatchNorm
  | TrainActivationNode
  | TrainMaxPool
  | TrainUpsample
  | TrainConcat
  | TrainChannelSlice
  | TrainChannelSplit
  | TrainAdd
  | TrainPad
  | TrainSpatialMean
  | TrainChannelMul
  | TrainWeightedSum
  | TrainDropConnect;

export type TrainNode = TrainOp & { inputs: number[]; outputs: number[]; layer: string };

/**
 * Weightless ops after the engine's outputs, run in tfjs: IR nodes (reshape, concat, activation,
 * add) over value ids, the engine outputs and the tail's own values (shapes in `shapes`, batch
 * axis excluded). `outputs` are the model's outputs.
 */
export interface TrainingTail {
  nodes: IRNode[];
  shapes: Map<number, number[]>;
  outputs: number[];
}

/**
 * A trainable network: values are numbered, shapes `[H, W, C]` without the batch axis (a value
 * the engine does not hold, in the tail or folded away, has shape `[0, 0, 0]`). `outputs` are the
 * values the engine hands to tfjs; `tail` maps them to the model's outputs.
 */
export interface TrainingGraph {
  input: number;
  outputs: number[];
  shapes: [number, number, number][];
  nodes: TrainNode[];
  tail: TrainingTail;
}

const variableOf = (w: tf.LayerVariable): tf.Variable => w.read() as tf.Variable;

/** Build the training graph of a single-input LayersModel (weights are referenced, not read). */
export function buildTrainingGraph(model: tf.LayersModel): TrainingGraph {
  let ir: IRGraph;
  try {
    ir = buildInferenceGraph(model);
  } catch (e) {
    throw new UnsupportedTrainingGraphError(e instanceof Error ? e.message : String(e));
  }
  const shapes = ir.shapes.map((s) => (s.length === 3 ? (s.slice() as [number, number, number]) : ([0, 0, 0] as [number, number, number])));
  const consumers = new Map<number, IRNode[]>();
  for (const n of ir.nodes) for (const v of n.inputs) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  // Values the tail (tfjs) computes, and IR nodes folded into an engine op (a spatial mean's chain).
  const tailValues = new Set<number>();
  const tailNodes: IRNode[] = [];
  const folded = new Set<IRNode>();
  const TAIL_OPS = ['reshape', 'concat', 'activation', 'add'];
  const alias = new Map<number, number>();
  const resolve = (v: number): number => alias.get(v) ?? v;
  // Zero padding read only by convolutions: padded value -> its input and pads (the convs pad).
  const foldedPad = new Map<number, { src: number; pads: Pads }>();
  const nodes: TrainNode[] = [];
  const fail = (n: IRNode, why: string): never => {
    throw new UnsupportedTrainingGraphError(`layer '${n.layer}' (${n.op}): ${why}`);
  };

  for (const n of ir.nodes) {
    if (folded.has(n)) continue;
    const layer = model.getLayer(n.layer);
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    const inputs = n.inputs.map(resolve);
    const mean = n.op === 'reshape' || n.op === 'globalAvgPool' ? matchSpatialMean(ir, n, consumers) : null;
    if (mean && !inputs.some((v) => tailValues.has(v))) {
      // A spatial mean built of reshapes and global pools (src/layers/spatialMean.ts): one op.
      mean.chain.forEach((m) => {
        folded.add(m);
        for (const v of m.outputs) if (v !== mean.output) shapes[v] = [0, 0, 0];
      });
      nodes.push({ op: 'spatialMean', inputs, outputs: [mean.output], layer: n.layer });
      continue;
    }
    if (inputs.some((v) => tailValues.has(v)) || n.op === 'reshape' || n.outputs.some((v) => ir.shapes[v].length !== 3)) {
      // Not a feature map (or computed from one that is not): the tail, in tfjs.
      if (!TAIL_OPS.includes(n.op)) fail(n, `an op on values of shape ${n.inputs.map((v) => `[${ir.shapes[v].join(', ')}]`).join(', ')}; the training engine runs [H, W, C] feature maps only`);
      if (n.op === 'activation' && !TAIL_ACTIVATIONS.includes(n.fn)) fail(n, `activation '${n.fn}' after the feature maps`);
      tailNodes.push({ ...n, inputs } as IRNode);
      n.outputs.forEach((v) => {
        tailValues.add(v);
        shapes[v] = [0, 0, 0];
      });
      continue;
    }
    const emit = (op: TrainOp, outs = n.outputs) => nodes.push({ ...op, inputs, outputs: outs, layer: n.layer } as TrainNode);
    switch (n.op) {
      case 'conv': {
        const separable = cls === 'SeparableConv2D';
        if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D' && cls !== 'YoloTfjsAtrousConv2D' && !separable) fail(n, `class ${cls} is not trained on the engine`);
        if (n.depthwise && n.filterShape[3] !== 1) fail(n, `depthwise channel multiplier ${n.filterShape[3]}`);
        // A separable conv is two IR nodes of one layer: depthwise (weights[0], no bias), then
        // pointwise (weights[1], bias weights[2]).
        const w = separable ? (n.depthwise ? [layer.weights[0]] : layer.weights.slice(1)) : layer.weights;
        const inShape = shapes[inputs[0]];
        let pads = explicitPadding(n.pad, [inShape[0], inShape[1]], [n.filterShape[0], n.filterShape[1]], n.strides, n.dilations);
        let src = inputs[0];
        const pre = foldedPad.get(src);
        if (pre) {
          // The conv reads the padded value: read the unpadded one with the pads added.
          src = pre.src;
          pads = [[pads[0][0] + pre.pads[0][0], pads[0][1] + pre.pads[0][1]], [pads[1][0] + pre.pads[1][0], pads[1][1] + pre.pads[1][1]]];
        }
        const convOut = n.activation === 'linear' ? n.outputs : [shapes.push(shapes[n.outputs[0]].slice() as [number, number, number]) - 1];
        nodes.push({
          op: 'conv',
          depthwise: n.depthwise,
          kernel: variableOf(w[0]),
          bias: cfg.useBias && !(separable && n.depthwise) ? variableOf(w[1]) : null,
          filterShape: n.filterShape,
          strides: n.strides,
          dilations: n.dilations,
          pads,
          trainable: layer.trainable,
          inputs: [src],
          outputs: convOut,
          layer: n.layer,
        });
        if (n.activation !== 'linear') {
          const fn = n.activation;
          if (!isTrainActivation(fn)) throw fail(n, `activation '${fn}' has no training kernel`);
          nodes.push({ op: 'activation', fn, alpha: n.alpha ?? 0.3, inputs: convOut, outputs: n.outputs, layer: n.layer });
        }
        break;
      }
      case 'affine': {
        if (cls !== 'BatchNormalization') fail(n, `class ${cls}`);
        const w = layer.weights;
        let k = 0;
        const gamma = cfg.scale !== false ? variableOf(w[k++]) : null;
        const beta = cfg.center !== false ? variableOf(w[k++]) : null;
        emit({
          op: 'batchNorm',
          gamma,
          beta,
          movingMean: variableOf(w[k++]),
          movingVariance: variableOf(w[k++]),
          momentum: Number(cfg.momentum ?? 0.99),
          epsilon: Number(cfg.epsilon ?? 1e-3),
          training: layer.trainable,
        });
        break;
      }
      case 'pad': {
        if (n.value !== 0) fail(n, `pad value ${n.value}`);
        const readers = consumers.get(n.outputs[0]) ?? [];
        if (readers.length === 0 || !readers.every((r) => r.op === 'conv') || ir.outputs.includes(n.outputs[0])) {
          // Read by a max pool (zylo117's static-same pooling: the zeros take part in the max).
          if (n.pads.some((p) => p[0] < 0 || p[1] < 0)) fail(n, 'negative padding');
          emit({ op: 'pad', pads: n.pads });
        } else {
          foldedPad.set(n.outputs[0], { src: inputs[0], pads: n.pads });
        }
        break;
      }
      case 'activation': {
        const fn = n.fn;
        if (!isTrainActivation(fn)) throw fail(n, `activation '${fn}' has no training kernel`);
        emit({ op: 'activation', fn, alpha: n.alpha ?? 0.3 });
        break;
      }
      case 'maxPool': {
        const s = shapes[inputs[0]];
        emit({ op: 'maxPool', size: n.size, strides: n.strides, pads: explicitPadding(n.pad, [s[0], s[1]], n.size, n.strides) });
        break;
      }
      case 'upsample':
        emit({ op: 'upsample', scale: n.scale });
        break;
      case 'concat':
        if (n.axis !== 3) fail(n, `concat along axis ${n.axis}`);
        emit({ op: 'concat' });
        break;
      case 'channelSlice':
        emit({ op: 'channelSlice', begin: n.begin, size: n.size });
        break;
      case 'channelSplit':
        emit({ op: 'channelSplit', groups: n.groups });
        break;
      case 'add':
        if (inputs.some((v) => shapes[v].join() !== shapes[inputs[0]].join())) fail(n, 'inputs of different shapes');
        emit({ op: 'add' });
        break;
      case 'mul': {
        // Squeeze-excitation: a [1, 1, C] scale times an [H, W, C] map, either order.
        const [a, b] = inputs;
        const isScale = (v: number) => shapes[v][0] === 1 && shapes[v][1] === 1;
        const other = (v: number) => (v === a ? b : a);
        const scale = isScale(a) && !isScale(b) ? a : isScale(b) && !isScale(a) ? b : -1;
        if (scale < 0 || shapes[scale][2] !== shapes[other(scale)][2]) fail(n, `product of [${shapes[a].join(', ')}] and [${shapes[b].join(', ')}] (only a [1, 1, C] channel scale is trained)`);
        nodes.push({ op: 'channelMul', inputs: [scale, other(scale)], outputs: n.outputs, layer: n.layer });
        break;
      }
      case 'weightedSum': {
        if (cls !== 'YoloTfjsWeightedFusion') fail(n, `class ${cls}`);
        if (inputs.some((v) => shapes[v].join() !== shapes[inputs[0]].join())) fail(n, 'inputs of different shapes');
        emit({ op: 'weightedSum', weight: variableOf(layer.weights[0]), epsilon: Number(cfg.epsilon ?? 1e-4), trainable: layer.trainable });
        break;
      }
      case 'identity': {
        // Dropout / drop-connect in training mode drop at random: drop-connect (per image) is an
        // engine op; a dropout only when it is a no-op.
        const rate = Number(cfg.rate ?? 0);
        if (cls === 'YoloTfjsDropConnect' && rate > 0) {
          emit({ op: 'dropConnect', rate });
          break;
        }
        if (cls === 'Dropout' && rate > 0) fail(n, `Dropout rate ${cfg.rate} (random in training) is not trained on the engine`);
        if (cls !== 'Dropout' && cls !== 'YoloTfjsDropConnect') fail(n, `class ${cls}`);
        alias.set(n.outputs[0], inputs[0]);
        break;
      }
      default:
        fail(n, 'no training kernel');
    }
  }
  const modelOutputs = ir.outputs.map(resolve);
  if (modelOutputs.includes(ir.input)) throw new UnsupportedTrainingGraphError('a model output is its input');
  // The engine's outputs: model outputs it computes, then the feature maps the tail reads.
  const outputs: number[] = [];
  const addOutput = (v: number) => {
    if (!tailValues.has(v) && !outputs.includes(v)) outputs.push(v);
  };
  modelOutputs.forEach(addOutput);
  for (const t of tailNodes) t.inputs.forEach(addOutput);
  if (outputs.includes(ir.input)) throw new UnsupportedTrainingGraphError('the tail reads the model input');
  const tailShapes = new Map<number, number[]>();
  for (const t of tailNodes) for (const v of [...t.inputs, ...t.outputs]) tailShapes.set(v, ir.shapes[v].slice());
  return { input: ir.input, outputs, shapes, nodes, tail: { nodes: tailNodes, shapes: tailShapes, outputs: modelOutputs } };
}

/** Activations the tail (tfjs, ./trainingTail.ts) applies after the feature maps. */
const TAIL_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'sigmoid'];

/** Ids of the nodes reading each value. */
export function trainingConsumers(g: TrainingGraph): Map<number, TrainNode[]> {
  const m = new Map<number, TrainNode[]>();
  for (const n of g.nodes) for (const v of n.inputs) m.set(v, [...(m.get(v) ?? []), n]);
  return m;
}
