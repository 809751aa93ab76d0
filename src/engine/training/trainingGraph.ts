/**
 * The TRAINING graph of a LayersModel: like the inference IR (src/infer/ir.ts, which it is built
 * from, so both walk the topology the same way) but with BatchNorm kept as its own op in training
 * mode and every weight a reference to the model's tfjs variable (nothing folded, nothing
 * copied). One node per layer APPLICATION: a layer applied twice (e.g. output convs shared by two scales)
 * gives two nodes that share variables, and their weight gradients add up.
 *
 * Only what the engine can train is accepted (conv / depthwise conv, BatchNorm, relu / relu6 /
 * leaky / linear / sigmoid / tanh / elu / swish / mish, max pooling, nearest upsampling, channel concat / slice / interleaved split,
 * add, zero padding folded into the conv that reads it); anything else is an
 * {@link UnsupportedTrainingGraphError} naming the layer, and train() keeps the tfjs path.
 */
import * as tf from '@tensorflow/tfjs';
import { buildInferenceGraph } from '../../infer/buildInferenceGraph';
import { explicitPadding, IRGraph, IRNode } from '../../infer/ir';

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

export type TrainOp = TrainConv | TrainBatchNorm | TrainActivationNode | TrainMaxPool | TrainUpsample | TrainConcat | TrainChannelSlice | TrainChannelSplit | TrainAdd;

export type TrainNode = TrainOp & { inputs: number[]; outputs: number[]; layer: string };

/** A trainable network: values are numbered, shapes `[H, W, C]` without the batch axis. */
export interface TrainingGraph {
  input: number;
  outputs: number[];
  shapes: [number, number, number][];
  nodes: TrainNode[];
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
  const shapes = ir.shapes.map((s, v) => {
    if (s.length !== 3) throw new UnsupportedTrainingGraphError(`value ${v} has shape [${s.join(', ')}]; the training engine runs [H, W, C] feature maps only`);
    return s as [number, number, number];
  });
  const consumers = new Map<number, IRNode[]>();
  for (const n of ir.nodes) for (const v of n.inputs) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  const alias = new Map<number, number>();
  const resolve = (v: number): number => alias.get(v) ?? v;
  // Zero padding read only by convolutions: padded value -> its input and pads (the convs pad).
  const foldedPad = new Map<number, { src: number; pads: Pads }>();
  const nodes: TrainNode[] = [];
  const fail = (n: IRNode, why: string): never => {
    throw new UnsupportedTrainingGraphError(`layer '${n.layer}' (${n.op}): ${why}`);
  };

  for (const n of ir.nodes) {
    const layer = model.getLayer(n.layer);
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    const inputs = n.inputs.map(resolve);
    const emit = (op: TrainOp, outs = n.outputs) => nodes.push({ ...op, inputs, outputs: outs, layer: n.layer } as TrainNode);
    switch (n.op) {
      case 'conv': {
        if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D' && cls !== 'YoloTfjsAtrousConv2D') fail(n, `class ${cls} is not trained on the engine`);
        if (n.depthwise && n.filterShape[3] !== 1) fail(n, `depthwise channel multiplier ${n.filterShape[3]}`);
        const w = layer.weights;
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
          bias: cfg.useBias ? variableOf(w[1]) : null,
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
          fail(n, 'zero padding is trained only when convolutions alone read it');
        }
        foldedPad.set(n.outputs[0], { src: inputs[0], pads: n.pads });
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
      case 'identity':
        // Dropout in training mode drops at random; only a no-op dropout is an identity here.
        if (cls === 'Dropout' && Number(cfg.rate ?? 0) > 0) fail(n, `Dropout rate ${cfg.rate} (random in training) is not trained on the engine`);
        if (cls !== 'Dropout') fail(n, `class ${cls}`);
        alias.set(n.outputs[0], inputs[0]);
        break;
      default:
        fail(n, 'no training kernel');
    }
  }
  const outputs = ir.outputs.map(resolve);
  if (outputs.includes(ir.input)) throw new UnsupportedTrainingGraphError('a model output is its input');
  return { input: ir.input, outputs, shapes, nodes };
}

/** Ids of the nodes reading each value. */
export function trainingConsumers(g: TrainingGraph): Map<number, TrainNode[]> {
  const m = new Map<number, TrainNode[]>();
  for (const n of g.nodes) for (const v of n.inputs) m.set(v, [...(m.get(v) ?? []), n]);
  return m;
}
