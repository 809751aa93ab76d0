/**
 * Walk a tfjs LayersModel's topology into the inference IR (`IRGraph`), one IR node (or a short
 * chain) per layer APPLICATION: a shared layer applied at several places (YOLO-FastestV2's
 * output convs, EfficientDet's head convs) yields one node per application, each with its own
 * copy of the weights, so per-application BatchNorms can later be folded into them.
 *
 * Built-in tfjs layers and this project's custom layers have converters here; other classes use
 * a function registered with `registerInferenceOp`, or (with `fallbackToLayerCall`) the
 * layer's own `call`. Anything else is an error naming the layer and its class.
 */
import * as tf from '@tensorflow/tfjs';
import { IRActivation, IRGraph, IRNode, IROp } from './ir';
import { registeredInferenceOp } from './registerInferenceOp';
import { darknetPoolGeometry } from '../layers/darknetMaxPool';

/** Options of {@link buildInferenceGraph}. */
export interface BuildGraphOptions {
  /**
   * For a layer class with neither a converter nor a registered op, run the layer's own `call`
   * (slower; not exportable) instead of throwing. Default false.
   */
  fallbackToLayerCall?: boolean;
}

/** Minimal view of tfjs's internal topology objects. */
interface SymTensor {
  id: number;
  shape: (number | null)[];
  sourceLayer: tf.layers.Layer;
  nodeIndex: number;
  tensorIndex: number;
}
interface TopoNode {
  inputTensors: SymTensor[];
  outputTensors: SymTensor[];
}

/** What a converter gets: emit nodes, read shapes. */
export interface GraphBuilder {
  /** Append a node; returns the ids of its new output values (one per shape). */
  emit(op: IROp, inputs: number[], outShapes: number[][]): number[];
  shape(v: number): number[];
}

type Converter = (layer: tf.layers.Layer, cfg: tf.serialization.ConfigDict, inputs: number[], outShapes: number[][], b: GraphBuilder) => number[];

const f32 = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);

function weightsOf(layer: tf.layers.Layer): Float32Array[] {
  return layer.getWeights().map(f32);
}

function pair(v: unknown, what: string, layer: tf.layers.Layer): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new Error(`compileInference: layer '${layer.name}' has an unsupported ${what} ${JSON.stringify(v)}`);
}

function activationOf(name: unknown, layer: tf.layers.Layer): IRActivation {
  const map: Record<string, IRActivation> = {
    linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', elu: 'elu', swish: 'swish', mish: 'mish',
  };
  const a = map[String(name ?? 'linear')];
  if (!a) throw new Error(`compileInference: layer '${layer.name}' uses activation '${String(name)}', which has no inference op`);
  return a;
}

function checkChannelsLast(cfg: tf.serialization.ConfigDict, layer: tf.layers.Layer): void {
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    throw new Error(`compileInference: layer '${layer.name}' uses dataFormat '${String(cfg.dataFormat)}'; only channelsLast is supported`);
  }
}

function convFromConfig(layer: tf.layers.Layer, cfg: tf.serialization.ConfigDict, depthwise: boolean, filter: Float32Array, filterShape: number[], bias: Float32Array | null): IROp {
  checkChannelsLast(cfg, layer);
  return {
    op: 'conv',
    depthwise,
    filter,
    filterShape: filterShape as [number, number, number, number],
    bias,
    strides: pair(cfg.strides ?? 1, 'strides', layer),
    dilations: pair(cfg.dilationRate ?? 1, 'dilationRate', layer),
    pad: cfg.padding === 'same' ? 'same' : cfg.padding === 'valid' ? 'valid' : (() => {
      throw new Error(`compileInference: layer '${layer.name}' has padding '${String(cfg.padding)}'`);
    })(),
    activation: activationOf(cfg.activation, layer),
  };
}

const single = (op: IROp): Converter => (_l, _c, inputs, outShapes, b) => b.emit(op, inputs, outShapes);

/** Converters of built-in and project layer classes. */
const CONVERTERS: Record<string, Converter> = {
  Conv2D: (layer, cfg, inputs, outShapes, b) => {
    const w = layer.getWeights();
    const bias = cfg.useBias ? f32(w[1]) : null;
    return b.emit(convFromConfig(layer, cfg, false, f32(w[0]), w[0].shape, bias), inputs, outShapes);
  },
  // A Conv2D whose dilated forward pass is trainable (src/layers/atrousConv2D.ts).
  YoloTfjsAtrousConv2D: (layer, cfg, inputs, outShapes, b) => CONVERTERS.Conv2D(layer, cfg, inputs, outShapes, b),
  DepthwiseConv2D: (layer, cfg, inputs, outShapes, b) => {
    const w = layer.getWeights();
    const bias = cfg.useBias ? f32(w[1]) : null;
    return b.emit(convFromConfig(layer, cfg, true, f32(w[0]), w[0].shape, bias), inputs, outShapes);
  },
  SeparableConv2D: (layer, cfg, inputs, outShapes, b) => {
    // depthwise (no bias, padding, strides) then pointwise 1x1 (bias, activation).
    const w = layer.getWeights();
    const dw = convFromConfig(layer, { ...cfg, activation: 'linear' }, true, f32(w[0]), w[0].shape, null);
    const [h, wd] = outShapes[0];
    const mid = b.emit(dw, inputs, [[h, wd, (w[0].shape as number[])[2] * (w[0].shape as number[])[3]]]);
    const pw = convFromConfig(layer, { ...cfg, strides: 1, dilationRate: 1, padding: 'valid' }, false, f32(w[1]), w[1].shape, cfg.useBias ? f32(w[2]) : null);
    return b.emit(pw, mid, outShapes);
  },
  BatchNormalization: (layer, cfg, inputs, outShapes, b) => {
    const rank = b.shape(inputs[0]).length + 1;
    const axis = Number(cfg.axis ?? -1);
    if (axis !== -1 && axis !== rank - 1) throw new Error(`compileInference: BatchNormalization '${layer.name}' normalises axis ${axis}; only the last axis is supported`);
    const w = weightsOf(layer);
    let k = 0;
    const gamma: Float32Array | null = cfg.scale !== false ? w[k++] : null;
    const beta: Float32Array | null = cfg.center !== false ? w[k++] : null;
    const mean = w[k++];
    const variance = w[k++];
    const eps = Number(cfg.epsilon ?? 1e-3);
    const c = mean.length;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      const s = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
      scale[i] = s;
      shift[i] = (beta ? beta[i] : 0) - mean[i] * s;
    }
    return b.emit({ op: 'affine', scale, shift }, inputs, outShapes);
  },
  ZeroPadding2D: (layer, cfg, inputs, outShapes, b) => {
    checkChannelsLast(cfg, layer);
    const p = cfg.padding as unknown;
    let pads: [[number, number], [number, number]];
    if (typeof p === 'number') pads = [[p, p], [p, p]];
    else if (Array.isArray(p) && typeof p[0] === 'number') pads = [[p[0], p[0]], [p[1] as number, p[1] as number]];
    else pads = [pair((p as unknown[])[0], 'padding', layer), pair((p as unknown[])[1], 'padding', layer)];
    return b.emit({ op: 'pad', pads, value: 0 }, inputs, outShapes);
  },
  MaxPooling2D: (layer, cfg, inputs, outShapes, b) => {
    checkChannelsLast(cfg, layer);
    const size = pair(cfg.poolSize, 'poolSize', layer);
    return b.emit({ op: 'maxPool', size, strides: pair(cfg.strides ?? size, 'strides', layer), pad: cfg.padding === 'same' ? 'same' : 'valid' }, inputs, outShapes);
  },
  GlobalAveragePooling2D: (layer, cfg, inputs, outShapes, b) => {
    checkChannelsLast(cfg, layer);
    return b.emit({ op: 'globalAvgPool', keepDims: false }, inputs, outShapes);
  },
  UpSampling2D: (layer, cfg, inputs, outShapes, b) => {
    checkChannelsLast(cfg, layer);
    if ((cfg.interpolation ?? 'nearest') !== 'nearest') throw new Error(`compileInference: UpSampling2D '${layer.name}' uses '${String(cfg.interpolation)}' interpolation; only nearest is supported`);
    return b.emit({ op: 'upsample', scale: pair(cfg.size ?? 2, 'size', layer) }, inputs, outShapes);
  },
  Concatenate: (layer, cfg, inputs, outShapes, b) => {
    const rank = outShapes[0].length + 1;
    let axis = Number(cfg.axis ?? -1);
    if (axis < 0) axis += rank;
    if (axis < 1) throw new Error(`compileInference: Concatenate '${layer.name}' along the batch axis is not supported`);
    return b.emit({ op: 'concat', axis }, inputs, outShapes);
  },
  Add: single({ op: 'add' }),
  Multiply: (layer, _cfg, inputs, outShapes, b) => {
    if (inputs.length !== 2) throw new Error(`compileInference: Multiply '${layer.name}' with ${inputs.length} inputs is not supported (2 only)`);
    return b.emit({ op: 'mul' }, inputs, outShapes);
  },
  ReLU: (layer, cfg, inputs, outShapes, b) => {
    const max = cfg.maxValue as number | null | undefined;
    if (max != null && max !== 6) throw new Error(`compileInference: ReLU '${layer.name}' with maxValue ${max} is not supported (none or 6)`);
    return b.emit({ op: 'activation', fn: max === 6 ? 'relu6' : 'relu' }, inputs, outShapes);
  },
  LeakyReLU: (_layer, cfg, inputs, outShapes, b) => b.emit({ op: 'activation', fn: 'leaky', alpha: Number(cfg.alpha ?? 0.3) }, inputs, outShapes),
  Activation: (layer, cfg, inputs, outShapes, b) => b.emit({ op: 'activation', fn: activationOf(cfg.activation, layer) }, inputs, outShapes),
  Reshape: (_layer, _cfg, inputs, outShapes, b) => b.emit({ op: 'reshape', shape: outShapes[0].slice() }, inputs, outShapes),
  Dropout: single({ op: 'identity' }),
  // Project layers (src/layers).
  YoloTfjsDropConnect: single({ op: 'identity' }),
  YoloTfjsMish: single({ op: 'activation', fn: 'mish' }),
  YoloTfjsSwish: single({ op: 'activation', fn: 'swish' }),
  YoloTfjsSpatialMean: single({ op: 'globalAvgPool', keepDims: true }),
  YoloTfjsChannelSlice: (_layer, cfg, inputs, outShapes, b) => {
    const c = b.shape(inputs[0]);
    const size = c[c.length - 1] / Number(cfg.groups);
    return b.emit({ op: 'channelSlice', begin: Number(cfg.groupId) * size, size }, inputs, outShapes);
  },
  YoloTfjsDarknetMaxPool2D: (_layer, cfg, inputs, outShapes, b) => {
    const [h, w] = b.shape(inputs[0]);
    const size = Number(cfg.size);
    const stride = Number(cfg.stride);
    const gh = darknetPoolGeometry(h, size, stride, Number(cfg.padding));
    const gw = darknetPoolGeometry(w, size, stride, Number(cfg.padding));
    const pad: [[number, number], [number, number]] = [[gh.before, gh.after], [gw.before, gw.after]];
    return b.emit({ op: 'maxPool', size: [size, size], strides: [stride, stride], pad }, inputs, outShapes);
  },
  YoloTfjsChannelShuffleSplit: (_layer, cfg, inputs, outShapes, b) => {
    const groups = Number(cfg.groups ?? 2);
    return b.emit({ op: 'channelSplit', groups, folded: new Array<boolean>(groups).fill(false) }, inputs, outShapes);
  },
  YoloTfjsWeightedFusion: (layer, cfg, inputs, outShapes, b) => {
    if (cfg.attention === false) return b.emit({ op: 'add' }, inputs, outShapes);
    const v = weightsOf(layer)[0];
    const eps = Number(cfg.epsilon ?? 1e-4);
    // Same float32 arithmetic as the layer: relu(v) / (sum(relu(v)) + eps).
    const r = Array.from(v, (x) => Math.max(0, x));
    const sum = Math.fround(r.reduce((a, x) => Math.fround(a + x), 0) + eps);
    return b.emit({ op: 'weightedSum', weights: r.map((x) => Math.fround(x / sum)) }, inputs, outShapes);
  },
};

/** Layer classes the compiler converts itself (others need `registerInferenceOp`). */
export const BUILTIN_INFERENCE_CLASSES: readonly string[] = Object.keys(CONVERTERS);

/** Build the IR of a LayersModel with one input. */
export function buildInferenceGraph(model: tf.LayersModel, opts: BuildGraphOptions = {}): IRGraph {
  if (model.inputs.length !== 1) throw new Error(`compileInference: the model must have exactly one input, got ${model.inputs.length}`);
  const shapes: number[][] = [];
  const nodes: IRNode[] = [];
  const valueOf = new Map<number, number>(); // symbolic tensor id -> value id
  const toShape = (s: (number | null)[], what: string): number[] => {
    const rest = s.slice(1);
    if (rest.some((d) => d == null)) throw new Error(`compileInference: ${what} has an unknown dimension [${s.join(', ')}]; all but the batch axis must be static`);
    return rest as number[];
  };
  let current = '';
  const b: GraphBuilder = {
    emit(op, inputs, outShapes) {
      const outputs = outShapes.map((s) => {
        shapes.push(s.slice());
        return shapes.length - 1;
      });
      nodes.push({ ...op, inputs: inputs.slice(), outputs, layer: current } as IRNode);
      return outputs;
    },
    shape: (v) => shapes[v],
  };

  const input = model.inputs[0] as unknown as SymTensor;
  shapes.push(toShape(input.shape, 'the model input'));
  valueOf.set(input.id, 0);

  const done = new Set<string>();
  const visit = (t: SymTensor): void => {
    if (valueOf.has(t.id)) return;
    const layer = t.sourceLayer;
    const key = `${layer.name}#${t.nodeIndex}`;
    if (done.has(key)) throw new Error(`compileInference: internal error, tensor of '${key}' not produced`);
    const node = (layer as unknown as { inboundNodes: TopoNode[] }).inboundNodes[t.nodeIndex];
    if (layer.getClassName() === 'InputLayer' || node.inputTensors.length === 0) {
      throw new Error(`compileInference: the model reads a second input '${layer.name}'; only single-input models are supported`);
    }
    for (const it of node.inputTensors) visit(it);
    done.add(key);
    const inputs = node.inputTensors.map((it) => valueOf.get(it.id) as number);
    const outShapes = node.outputTensors.map((o) => toShape(o.shape, `output of layer '${layer.name}'`));
    current = layer.name;
    const outs = convertLayer(layer, inputs, outShapes, b, opts);
    node.outputTensors.forEach((o, i) => valueOf.set(o.id, outs[i]));
  };
  const outputs = (model.outputs as unknown as SymTensor[]).map((o) => {
    visit(o);
    return valueOf.get(o.id) as number;
  });
  return { input: 0, outputs, shapes, nodes };
}

function convertLayer(layer: tf.layers.Layer, inputs: number[], outShapes: number[][], b: GraphBuilder, opts: BuildGraphOptions): number[] {
  const cls = layer.getClassName();
  const registered = registeredInferenceOp(cls);
  if (registered) {
    return b.emit({ op: 'custom', className: cls, layerName: layer.name, fn: (xs) => registered(layer, xs) }, inputs, outShapes);
  }
  const conv = CONVERTERS[cls];
  if (conv) return conv(layer, layer.getConfig(), inputs, outShapes, b);
  if (opts.fallbackToLayerCall) {
    return b.emit(
      { op: 'custom', className: cls, layerName: layer.name, fn: (xs) => layer.call(xs.length === 1 ? xs[0] : xs, { training: false }) },
      inputs,
      outShapes,
    );
  }
  throw new Error(
    `compileInference: layer '${layer.name}' has class '${cls}', which has no inference op; ` +
      `register one with registerInferenceOp('${cls}', fn) or compile with { fallbackToLayerCall: true }`,
  );
}
