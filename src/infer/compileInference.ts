/**
 * `compileInference(model)`: a LayersModel turned into a plain function of tfjs ops, for
 * inference only. BatchNorm is folded into the conv weights once, each conv + bias +
 * activation is ONE `tf.fused.conv2d` / `tf.fused.depthwiseConv2d` call, zero padding becomes
 * the conv's own padding, and ShuffleNet's channel split is folded into the weights of the
 * 1x1 convs that read it. No layers-API bookkeeping per call. The training graph stays the
 * LayersModel; outputs equal `model.predict` (tests check 1e-4 for every model).
 */
import * as tf from '@tensorflow/tfjs';
import { ConvNode, IRActivation, IRGraph, IRNode, explicitPadding } from './ir';
import { buildInferenceGraph, BuildGraphOptions } from './buildInferenceGraph';
import { optimizeGraph, OptimizeOptions } from './optimizeGraph';

/**
 * How leaky ReLU inside a fused conv is computed: `prelu` with a constant alpha tensor
 * (default; on wasm it is fused natively and measured fastest), the backend's `leakyrelu`
 * fused activation, or a separate `tf.leakyRelu` after a linear conv.
 */
export type LeakyMode = 'prelu' | 'leakyrelu' | 'separate';

/** Options of {@link compileInference}. */
export interface CompileOptions extends BuildGraphOptions, OptimizeOptions {
  /** See {@link LeakyMode}. Default 'prelu'. */
  leaky?: LeakyMode;
}

/** A compiled network: `run` maps a `[N, H, W, C]` batch to the model's outputs. */
export interface CompiledInference {
  /** The outputs of the model for `x` (new tensors, owned by the caller). */
  run(x: tf.Tensor4D): tf.Tensor[];
  /** Free the folded weights. `run` throws afterwards. */
  dispose(): void;
  /** The optimised IR the function runs (also what the ONNX exporter writes). */
  readonly graph: IRGraph;
}

/** Build the optimised IR of a model (shared by `compileInference` and the ONNX exporter). */
export function inferenceGraph(model: tf.LayersModel, opts: BuildGraphOptions & OptimizeOptions = {}): IRGraph {
  return optimizeGraph(buildInferenceGraph(model, opts), opts);
}

type Step = (xs: tf.Tensor[]) => tf.Tensor[];

const FUSABLE = new Set<IRActivation>(['linear', 'relu', 'relu6', 'sigmoid', 'elu']);

/** Mish `x * tanh(softplus(x))`; equals Darknet's thresholded form to float precision. */
function mish(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.tanh(tf.softplus(x)));
}

/** Apply an activation as separate ops. */
export function applyActivation(x: tf.Tensor, fn: IRActivation, alpha = 0.1): tf.Tensor {
  switch (fn) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leaky':
      return tf.leakyRelu(x, alpha);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'mish':
      return mish(x);
  }
}

function convStep(n: ConvNode & IRNode, leaky: LeakyMode, owned: tf.Tensor[]): Step {
  const filter = tf.tensor4d(n.filter, n.filterShape, 'float32');
  const bias = n.bias ? tf.tensor1d(n.bias, 'float32') : undefined;
  owned.push(filter);
  if (bias) owned.push(bias);
  let activation: 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu' | 'prelu' | 'leakyrelu' = 'linear';
  let post: IRActivation = 'linear';
  let prelu: tf.Tensor | undefined;
  const alpha = n.alpha ?? 0.1;
  if (FUSABLE.has(n.activation)) activation = n.activation as typeof activation;
  else if (n.activation === 'leaky' && leaky === 'prelu') {
    activation = 'prelu';
    prelu = tf.scalar(alpha, 'float32');
    owned.push(prelu);
  } else if (n.activation === 'leaky' && leaky === 'leakyrelu') activation = 'leakyrelu';
  else post = n.activation;
  // Padding: 'same' / 'valid', a symmetric number, or explicit (plain conv only).
  let pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  let prePad: [[number, number], [number, number], [number, number], [number, number]] | null = null;
  if (n.pad === 'same' || n.pad === 'valid') pad = n.pad;
  else {
    const [[t, b], [l, r]] = n.pad;
    if (t === b && t === l && t === r) pad = t;
    else if (!n.depthwise) pad = [[0, 0], [t, b], [l, r], [0, 0]];
    else {
      prePad = [[0, 0], [t, b], [l, r], [0, 0]];
      pad = 'valid';
    }
  }
  const common = { strides: n.strides, dilations: n.dilations, bias, activation, preluActivationWeights: prelu, leakyreluAlpha: alpha };
  return ([x]) => {
    const xin = (prePad ? tf.pad(x, prePad) : x) as tf.Tensor4D;
    const y = n.depthwise
      ? tf.fused.depthwiseConv2d({ x: xin, filter: filter as tf.Tensor4D, pad: pad as 'same' | 'valid' | number, ...common })
      : tf.fused.conv2d({ x: xin, filter: filter as tf.Tensor4D, pad, ...common });
    if (prePad) xin.dispose();
    if (post === 'linear') return [y];
    const z = applyActivation(y, post, alpha);
    y.dispose();
    return [z];
  };
}

function stepOf(n: IRNode, g: IRGraph, leaky: LeakyMode, owned: tf.Tensor[]): Step {
  const inShape = g.shapes[n.inputs[0]];
  switch (n.op) {
    case 'conv':
      return convStep(n, leaky, owned);
    case 'affine': {
      const s = tf.tensor1d(n.scale);
      const t = tf.tensor1d(n.shift);
      owned.push(s, t);
      return ([x]) => [tf.tidy(() => tf.add(tf.mul(x, s), t))];
    }
    case 'pad': {
      const p: [number, number][] = [[0, 0], n.pads[0], n.pads[1], [0, 0]];
      return ([x]) => [tf.pad(x, p, n.value)];
    }
    case 'maxPool': {
      const [[t, b], [l, r]] = explicitPadding(n.pad, [inShape[0], inShape[1]], n.size, n.strides);
      const pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]] =
        n.pad === 'same' || n.pad === 'valid' ? n.pad : t === b && t === l && t === r ? t : [[0, 0], [t, b], [l, r], [0, 0]];
      return ([x]) => [tf.maxPool(x as tf.Tensor4D, n.size, n.strides, pad as 'same')];
    }
    case 'activation':
      return ([x]) => [n.fn === 'linear' ? tf.clone(x) : tf.tidy(() => applyActivation(x, n.fn, n.alpha))];
    case 'add':
      return (xs) => [xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs)];
    case 'mul':
      return ([a, b]) => [tf.mul(a, b)];
    case 'weightedSum': {
      const w = n.weights;
      return (xs) => [tf.tidy(() => xs.slice(1).reduce((acc, x, i) => tf.add(acc, tf.mul(x, w[i + 1])), tf.mul(xs[0], w[0])))];
    }
    case 'concat':
      return (xs) => [tf.concat(xs, n.axis)];
    case 'upsample': {
      const [h, w] = [inShape[0] * n.scale[0], inShape[1] * n.scale[1]];
      return ([x]) => [tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [h, w], false, false)];
    }
    case 'channelSlice':
      return ([x]) => {
        const begin = new Array<number>(x.rank).fill(0);
        begin[x.rank - 1] = n.begin;
        const size = new Array<number>(x.rank).fill(-1);
        size[x.rank - 1] = n.size;
        return [tf.slice(x, begin, size)];
      };
    case 'channelSplit': {
      const g2 = n.groups;
      const [h, w, c] = inShape;
      const part = c / g2;
      const live = n.folded.map((f, j) => (f ? -1 : j)).filter((j) => j >= 0);
      // [N*H*W, C/g, g] -> [g, N*H*W, C/g]: each part is a contiguous block (a native transpose
      // plus contiguous slices, the fastest form on wasm).
      return ([x]) =>
        tf.tidy(() => {
          const nb = x.shape[0];
          const t = tf.transpose(tf.reshape(x, [nb * h * w, part, g2]), [2, 0, 1]);
          const outs: tf.Tensor[] = new Array(g2);
          for (const j of live) outs[j] = tf.reshape(tf.slice(t, [j, 0, 0], [1, -1, -1]), [nb, h, w, part]);
          return outs;
        });
    }
    case 'reshape':
      return ([x]) => [tf.reshape(x, [x.shape[0], ...n.shape])];
    case 'globalAvgPool':
      // Two stages (W, then H): wasm sums a reduction sequentially in float32, and one mean over
      // H*W positions loses ~4e-4 on large maps (see src/layers/spatialMean.ts).
      return ([x]) => [tf.tidy(() => tf.mean(tf.mean(x, 2, true), 1, n.keepDims))];
    case 'identity':
      return ([x]) => [tf.clone(x)];
    case 'custom':
      return (xs) => {
        const out = n.fn(xs);
        // A function may hand back one of its inputs: clone so freeing inputs stays safe.
        return (Array.isArray(out) ? out : [out]).map((t) => (xs.includes(t) ? tf.clone(t) : t));
      };
  }
}

/**
 * Compile a single-input LayersModel into a fused inference function. Weights are read (and
 * folded) NOW: later changes to the model's weights are not seen; compile again after training.
 */
export function compileInference(model: tf.LayersModel, opts: CompileOptions = {}): CompiledInference {
  const graph = inferenceGraph(model, opts);
  const leaky = opts.leaky ?? 'prelu';
  const owned: tf.Tensor[] = [];
  let steps: Step[];
  try {
    steps = graph.nodes.map((n) => stepOf(n, graph, leaky, owned));
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
  // Last reader of every value, to free intermediates as soon as possible.
  const lastUse = new Map<number, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v, i)));
  const keep = new Set<number>([graph.input, ...graph.outputs]);
  const inShape = graph.shapes[graph.input];
  let disposed = false;
  return {
    graph,
    run(x: tf.Tensor4D): tf.Tensor[] {
      if (disposed) throw new Error('compileInference: this compiled function was disposed');
      if (x.rank !== 4 || inShape.some((d, i) => x.shape[i + 1] !== d)) {
        throw new Error(`compileInference: expected input [N, ${inShape.join(', ')}], got [${x.shape.join(', ')}]`);
      }
      return tf.tidy(() => {
        const vals = new Map<number, tf.Tensor>([[graph.input, x]]);
        for (let i = 0; i < steps.length; i++) {
          const n = graph.nodes[i];
          const outs = steps[i](n.inputs.map((v) => vals.get(v) as tf.Tensor));
          n.outputs.forEach((v, k) => {
            if (outs[k]) vals.set(v, outs[k]);
          });
          for (const v of n.inputs) {
            if (lastUse.get(v) === i && !keep.has(v)) {
              vals.get(v)?.dispose();
              vals.delete(v);
            }
          }
        }
        return graph.outputs.map((v) => vals.get(v) as tf.Tensor);
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(owned);
    },
  };
}
