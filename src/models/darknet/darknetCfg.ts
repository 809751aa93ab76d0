/**
 * Build a tfjs LayersModel from ANY supported Darknet cfg (see `parseDarknetCfg` for what is
 * supported), and assign the tensors `readDarknetWeights` read.
 *
 * Layers are named after their Darknet index i (`[net]` excluded), as the hand-written models
 * do: `conv_<i>` (sub-layers `conv_<i>_pad`, `conv_<i>_conv`, `conv_<i>_bn`, `conv_<i>_act`),
 * `maxpool_<i>`, `route_<i>` (+ `route_<i>_g<k>` channel slices), `shortcut_<i>`
 * (+ `shortcut_<i>_act`), `upsample_<i>`. `[dropout]` is the identity and `[yolo]` marks an
 * output: the model's outputs are the tensors feeding each `[yolo]`, in cfg order, NHWC, with
 * Darknet's channel order (anchor-major: x, y, w, h, objectness, classes per anchor).
 */
import * as tf from '@tensorflow/tfjs';
import { darknetConv2D, darknetActivationLayer, DarknetConvOptions } from '../../layers/darknetConv2D';
import { darknetMaxPool } from '../../layers/darknetMaxPool';
import { channelSlice } from '../../layers/channelSlice';
import { darknetGroupedConv2D, groupedConvKind, DarknetGroupedConvOptions } from '../../layers/darknetGroupedConv2D';
import {
  DarknetCfg,
  DarknetConvSection,
  DarknetLayerSection,
  DarknetYoloSection,
  describeLayer,
} from '../../weights/parseDarknetCfg';
import { darknetLayerShapes } from '../../weights/darknetLayerShapes';
import { darknetTensorName, darknetConvWeightsLayout } from '../../weights/readDarknetWeights';
import { TensorMap, NamedTensor } from '../../weights/tensorMap';
import { darknetConvName } from './darknetConvLayers';
import { checkInputSide } from '../../spec';

/** Options of {@link buildDarknetModel}. */
export interface BuildDarknetOptions {
  /** Input size (square, or `[height, width]`); default the cfg's `[net]` width/height. */
  inputSize?: number | [number, number];
  /** Model name (default 'darknet'). */
  name?: string;
  /**
   * Conv kernel initializer (default tfjs's glorotNormal, for training from scratch). Pass
   * 'zeros' when weights are assigned right after: random init costs ~1 s per million
   * parameters on wasm (`loadDarknet` does this).
   */
  kernelInitializer?: KernelInit;
  /** BatchNorm epsilon of every conv (default Darknet's 1e-5; the PyTorch ports use 1e-4). */
  bnEpsilon?: number;
}

/** Resolve an input size option against the cfg; errors when neither gives one. */
export function resolveDarknetInputSize(cfg: DarknetCfg, inputSize?: number | [number, number]): [number, number] {
  let size: [number, number];
  if (inputSize === undefined) {
    if (!(cfg.net.width > 0 && cfg.net.height > 0)) {
      throw new Error(`Darknet cfg: [net] (line ${cfg.net.line}) sets no width/height; pass inputSize`);
    }
    size = [cfg.net.height, cfg.net.width];
  } else {
    size = typeof inputSize === 'number' ? [inputSize, inputSize] : [inputSize[0], inputSize[1]];
  }
  for (const s of size) checkInputSide(s, 'Darknet: inputSize');
  return size;
}

/** The [yolo] sections of a cfg, in order. */
export function darknetYoloLayers(cfg: DarknetCfg): DarknetYoloSection[] {
  return cfg.layers.filter((l): l is DarknetYoloSection => l.type === 'yolo');
}

type KernelInit = DarknetConvOptions['kernelInitializer'];

function buildConv(l: DarknetConvSection, x: tf.SymbolicTensor, inChannels: number, init: KernelInit, bnEpsilon?: number): tf.SymbolicTensor {
  const name = darknetConvName(l.index);
  const kind = groupedConvKind(inChannels, l.filters, l.groups);
  const opts: DarknetGroupedConvOptions = {
    filters: l.filters,
    size: l.size,
    stride: l.stride,
    padding: l.padding,
    groups: l.groups,
    batchNormalize: l.batchNormalize,
    activation: l.activation,
    name,
    kernelInitializer: init,
    bnEpsilon,
  };
  // Plain and true depthwise convs are darknetConv2D; depthwise with a channel multiplier or a
  // general grouped conv is darknetGroupedConv2D.
  const build = kind === 'plain' || (kind === 'depthwise' && l.filters === inChannels) ? darknetConv2D : darknetGroupedConv2D;
  return build(opts)(x);
}

function buildLayer(
  l: DarknetLayerSection,
  prev: tf.SymbolicTensor,
  outs: (tf.SymbolicTensor | null)[],
  init: KernelInit,
  bnEpsilon?: number,
): tf.SymbolicTensor | null {
  const ref = (i: number): tf.SymbolicTensor => {
    const t = outs[i];
    if (!t) {
      throw new Error(`Darknet cfg: ${describeLayer(l)} refers to layer ${i}, a [yolo] layer (its output is not a feature map here)`);
    }
    return t;
  };
  switch (l.type) {
    case 'convolutional':
      return buildConv(l, prev, prev.shape[3] as number, init, bnEpsilon);
    case 'maxpool':
      return darknetMaxPool(prev, { size: l.size, stride: l.stride, padding: l.padding, name: `maxpool_${l.index}` });
    case 'route': {
      const parts = l.layers.map((i, k) =>
        l.groups > 1 ? channelSlice(ref(i), l.groups, l.groupId, `route_${l.index}_g${k}`) : ref(i),
      );
      if (parts.length === 1) return parts[0];
      return tf.layers.concatenate({ axis: -1, name: `route_${l.index}` }).apply(parts) as tf.SymbolicTensor;
    }
    case 'shortcut': {
      const sum = tf.layers.add({ name: `shortcut_${l.index}` }).apply([prev, ...l.from.map(ref)]) as tf.SymbolicTensor;
      const act = darknetActivationLayer(l.activation, `shortcut_${l.index}_act`);
      return act ? (act.apply(sum) as tf.SymbolicTensor) : sum;
    }
    case 'upsample':
      if (l.stride === 1) return prev;
      return tf.layers
        .upSampling2d({ size: [l.stride, l.stride], interpolation: 'nearest', name: `upsample_${l.index}` })
        .apply(prev) as tf.SymbolicTensor;
    case 'dropout':
      return prev;
    case 'yolo':
      return null;
  }
}

/**
 * Build the LayersModel of a parsed cfg (randomly initialised; see {@link setDarknetWeights}).
 * Outputs: the tensor feeding each `[yolo]`, in cfg order, `[N, H, W, A*(5+C)]`.
 */
export function buildDarknetModel(cfg: DarknetCfg, opts: BuildDarknetOptions = {}): tf.LayersModel {
  const [h, w] = resolveDarknetInputSize(cfg, opts.inputSize);
  // Validates every route/shortcut/yolo shape with clear messages before any tfjs layer exists.
  darknetLayerShapes(cfg, [h, w]);
  const yolos = darknetYoloLayers(cfg);
  if (yolos.length === 0) throw new Error('Darknet cfg: no [yolo] layer, so the model would have no outputs');
  const input = tf.input({ shape: [h, w, cfg.net.channels], name: 'input' });
  const outs: (tf.SymbolicTensor | null)[] = [];
  const heads: tf.SymbolicTensor[] = [];
  for (const l of cfg.layers) {
    const prevIndex = l.index - 1;
    let prev: tf.SymbolicTensor;
    if (prevIndex < 0) prev = input;
    else {
      const p = outs[prevIndex];
      if (!p) {
        if (l.type !== 'route') {
          throw new Error(`Darknet cfg: ${describeLayer(l)} follows a [yolo] layer; only a [route] may follow one`);
        }
        prev = input; // unused by route
      } else prev = p;
    }
    if (l.type === 'yolo') heads.push(prev);
    outs.push(buildLayer(l, prev, outs, opts.kernelInitializer, opts.bnEpsilon));
  }
  return tf.model({ inputs: input, outputs: heads, name: opts.name ?? 'darknet' });
}

function tensorOf(tensors: TensorMap, name: string, shape: number[]): NamedTensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`Darknet weights: tensor '${name}' is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`Darknet weights: tensor '${name}' has shape [${t.shape}] but the model needs [${shape}]`);
  }
  if (!(t.data instanceof Float32Array)) throw new Error(`Darknet weights: tensor '${name}' must be float32`);
  return t;
}

/**
 * Assign Darknet tensors (from `readDarknetWeights`) to a model built by
 * {@link buildDarknetModel} from the same cfg: conv kernel (+ bias when there is no BN), BN
 * gamma = scales, beta = biases, moving mean/variance = rolling mean/variance. Every shape is
 * checked; the first mismatch is reported by name.
 */
export function setDarknetWeights(model: tf.LayersModel, cfg: DarknetCfg, tensors: TensorMap): void {
  for (const info of darknetConvWeightsLayout(cfg)) {
    const l = info.layer;
    const name = darknetConvName(l.index);
    const get = (part: Parameters<typeof darknetTensorName>[1], shape: number[]) =>
      tensorOf(tensors, darknetTensorName(l.index, part), shape);
    const kernel = get('weights', info.kernelShape);
    const biases = get('biases', [l.filters]);
    // General grouped convs are split into per-group conv2d layers `${name}_conv_g<g>`.
    const groupLayers =
      info.depthwise || l.groups === 1
        ? null
        : Array.from({ length: l.groups }, (_, g) => model.getLayer(`${name}_conv_g${g}`));
    const setConv = (k: tf.Tensor, b: tf.Tensor | null) => {
      if (!groupLayers) {
        model.getLayer(`${name}_conv`).setWeights(b ? [k, b] : [k]);
        return;
      }
      const ks = tf.split(k, l.groups, 3);
      const bs = b ? tf.split(b, l.groups, 0) : null;
      groupLayers.forEach((layer, g) => layer.setWeights(bs ? [ks[g], bs[g]] : [ks[g]]));
    };
    tf.tidy(() => {
      const k = tf.tensor(kernel.data as Float32Array, kernel.shape, 'float32');
      const b = tf.tensor(biases.data as Float32Array, biases.shape, 'float32');
      if (l.batchNormalize) {
        setConv(k, null);
        const bn = model.getLayer(`${name}_bn`);
        const gamma = get('scales', [l.filters]);
        const mean = get('rolling_mean', [l.filters]);
        const variance = get('rolling_variance', [l.filters]);
        bn.setWeights([
          tf.tensor(gamma.data as Float32Array, gamma.shape, 'float32'),
          b,
          tf.tensor(mean.data as Float32Array, mean.shape, 'float32'),
          tf.tensor(variance.data as Float32Array, variance.shape, 'float32'),
        ]);
      } else {
        setConv(k, b);
      }
    });
  }
}
