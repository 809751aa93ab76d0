/**
 * EfficientNet's MBConv block (mobile inverted bottleneck with squeeze-and-excitation), as in
 * lukemelas' EfficientNet-PyTorch used by zylo117:
 *
 * ```
 * [expand 1x1 (no bias) -> BN -> swish]        only when expandRatio != 1
 * depthwise kxk, stride s, TF 'same' (no bias) -> BN -> swish
 * SE: mean over H,W (two-stage, see `spatialMean`) -> 1x1 conv (bias) -> swish -> 1x1 conv (bias) -> sigmoid -> x * se
 * project 1x1 (no bias) -> BN                  (no activation)
 * [drop-connect (training only) -> + input]    when skip
 * ```
 *
 * Layer names are `${name}._expand_conv`, `${name}._bn0`, `${name}._depthwise_conv`, `${name}._bn1`,
 * `${name}._se_reduce`, `${name}._se_expand`, `${name}._project_conv`, `${name}._bn2` (the
 * PyTorch module paths, which the weight key map relies on); weightless helpers get other suffixes.
 */
import * as tf from '@tensorflow/tfjs';
import { Swish } from './mish';
import { DropConnect } from './dropConnect';
import { spatialMean } from './spatialMean';
import { WeightInit, kernelInitializer } from './weightInit';

/** BN epsilon used everywhere in EfficientNet / EfficientDet. */
export const EFFICIENT_BN_EPSILON = 1e-3;
/** BN momentum in Keras convention (PyTorch's 0.01). Irrelevant at inference. */
export const EFFICIENT_BN_MOMENTUM = 0.99;

/** Options of {@link mbConvBlock}. */
export interface MBConvBlockOptions {
  /** Layer-name prefix (e.g. `backbone_net.model._blocks.3`). */
  name: string;
  inputFilters: number;
  outputFilters: number;
  kernelSize: number;
  stride: number;
  expandRatio: number;
  /** SE ratio of the block INPUT channels (0.25); null/0 = no SE. */
  seRatio?: number | null;
  /**
   * Residual connection. Default: stride 1 and inputFilters == outputFilters. (Upstream never
   * skips on the first block of a stage, whatever the shapes; the EfficientNet builder passes that.)
   */
  skip?: boolean;
  /** Drop-connect rate on the residual branch (training only). Default 0. */
  dropConnectRate?: number;
  bnEpsilon?: number;
  /** Kernel initialisation (default 'random'). */
  init?: WeightInit;
}

function bn(name: string, eps: number): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: -1, epsilon: eps, momentum: EFFICIENT_BN_MOMENTUM, name });
}

/** Build one MBConv block on an NHWC symbolic tensor; returns the block output. */
export function mbConvBlock(x: tf.SymbolicTensor, o: MBConvBlockOptions): tf.SymbolicTensor {
  const inC = x.shape[3];
  if (inC !== o.inputFilters) {
    throw new Error(`mbConvBlock '${o.name}': input has ${inC} channels, expected inputFilters ${o.inputFilters}`);
  }
  for (const k of ['outputFilters', 'kernelSize', 'stride', 'expandRatio'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`mbConvBlock '${o.name}': ${k} must be an integer >= 1, got ${o[k]}`);
  }
  const eps = o.bnEpsilon ?? EFFICIENT_BN_EPSILON;
  const n = o.name;
  const oup = o.inputFilters * o.expandRatio;
  const ki = kernelInitializer(o.init);
  let y = x;
  if (o.expandRatio !== 1) {
    y = tf.layers.conv2d({ filters: oup, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: ki, name: `${n}._expand_conv` }).apply(y) as tf.SymbolicTensor;
    y = bn(`${n}._bn0`, eps).apply(y) as tf.SymbolicTensor;
    y = new Swish({ name: `${n}.swish0` }).apply(y) as tf.SymbolicTensor;
  }
  y = tf.layers
    .depthwiseConv2d({ kernelSize: o.kernelSize, strides: o.stride, padding: 'same', depthMultiplier: 1, useBias: false, depthwiseInitializer: ki, name: `${n}._depthwise_conv` })
    .apply(y) as tf.SymbolicTensor;
  y = bn(`${n}._bn1`, eps).apply(y) as tf.SymbolicTensor;
  y = new Swish({ name: `${n}.swish1` }).apply(y) as tf.SymbolicTensor;

  const se = o.seRatio ?? 0;
  if (se > 0 && se <= 1) {
    const squeezed = Math.max(1, Math.trunc(o.inputFilters * se));
    let s = spatialMean(y, `${n}.se_pool`);
    s = tf.layers.conv2d({ filters: squeezed, kernelSize: 1, useBias: true, kernelInitializer: ki, name: `${n}._se_reduce` }).apply(s) as tf.SymbolicTensor;
    s = new Swish({ name: `${n}.se_swish` }).apply(s) as tf.SymbolicTensor;
    s = tf.layers.conv2d({ filters: oup, kernelSize: 1, useBias: true, activation: 'sigmoid', kernelInitializer: ki, name: `${n}._se_expand` }).apply(s) as tf.SymbolicTensor;
    y = tf.layers.multiply({ name: `${n}.se_scale` }).apply([s, y]) as tf.SymbolicTensor;
  }

  y = tf.layers.conv2d({ filters: o.outputFilters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: ki, name: `${n}._project_conv` }).apply(y) as tf.SymbolicTensor;
  y = bn(`${n}._bn2`, eps).apply(y) as tf.SymbolicTensor;

  const skip = o.skip ?? (o.stride === 1 && o.inputFilters === o.outputFilters);
  if (skip) {
    if (o.stride !== 1 || o.inputFilters !== o.outputFilters) {
      throw new Error(`mbConvBlock '${o.name}': skip needs stride 1 and inputFilters == outputFilters`);
    }
    const rate = o.dropConnectRate ?? 0;
    if (rate > 0) y = new DropConnect({ rate, name: `${n}.drop_connect` }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.add({ name: `${n}.skip` }).apply([y, x]) as tf.SymbolicTensor;
  }
  return y;
}
