/**
 * Darknet's `[convolutional]` as tfjs layers: optional explicit zero padding (Darknet `pad=1`
 * pads size/2 on every side, also at stride 2), a 'valid' conv (grouped as depthwise when
 * groups == in == filters), optional BatchNorm (epsilon 1e-5 as Darknet) and the activation.
 *
 * Sub-layers are named `${name}_pad`, `${name}_conv`, `${name}_bn`, `${name}_act` so weights can
 * be assigned by name.
 */
import * as tf from '@tensorflow/tfjs';
import { Mish, Swish } from './mish';


import { DarknetActivation, DARKNET_ACTIVATIONS } from './darknetActivation';

export { DARKNET_ACTIVATIONS } from './darknetActivation';
export type { DarknetActivation } from './darknetActivation';

/** Darknet's BN epsilon: it normalises with sqrt(variance + .00001f). */
export const DARKNET_BN_EPSILON = 1e-5;

/** Darknet's leaky ReLU slope. */
export const DARKNET_LEAKY_SLOPE = 0.1;

/** keras-yolo3's kernel L2 regularisation. */
export const DEFAULT_L2 = 5e-4;

/** Options of {@link darknetConv2D}. */
export interface DarknetConvOptions {
  filters: number;
  /** Square kernel size. */
  size: number;
  /** Default 1. */
  stride?: number;
  /**
   * Default true = Darknet `pad=1`: size/2 zero padding on every side (explicit
   * `zeroPadding2d` + 'valid' conv). false = no padding.
   */
  pad?: boolean;
  /**
   * Explicit zero padding on every side (Darknet `padding=N`, used when `pad=0`). When given it
   * overrides `pad`.
   */
  padding?: number;
  /** Default 1. groups == input channels == filters builds a depthwise conv. */
  groups?: number;
  /** Conv without bias + BatchNorm when true; conv with bias when false (default). */
  batchNormalize?: boolean;
  /** Default 'linear' (Darknet's default for [convolutional] is logistic, the cfg reader passes it). */
  activation?: DarknetActivation;
  /** Prefix of the sub-layer names. */
  name?: string;
  /** Kernel L2 regulariser factor (default 5e-4 as keras-yolo3; 0 disables). */
  l2?: number;
  /**
   * Kernel initializer (default tfjs's glorotNormal). 'zeros' makes building fast when weights
   * are assigned right after (glorotNormal costs ~1 s per million parameters on wasm).
   */
  kernelInitializer?: NonNullable<Parameters<typeof tf.layers.conv2d>[0]>['kernelInitializer'];
  /** BatchNorm epsilon (default Darknet's 1e-5; PyTorch ports of Darknet use their own). */
  bnEpsilon?: number;
}

let anonymousCounter = 0;

/** A fresh unique default prefix. */
function uniquePrefix(): string {
  anonymousCounter += 1;
  return `darknet_conv${anonymousCounter}`;
}

/** Activation layer for a Darknet activation name, or null for linear. */
export function darknetActivationLayer(activation: DarknetActivation, name: string): tf.layers.Layer | null {
  switch (activation) {
    case 'linear':
      return null;
    case 'leaky':
      return tf.layers.leakyReLU({ alpha: DARKNET_LEAKY_SLOPE, name });
    case 'relu':
      return tf.layers.reLU({ name });
    case 'logistic':
      return tf.layers.activation({ activation: 'sigmoid', name });
    case 'mish':
      return new Mish({ name });
    case 'swish':
      return new Swish({ name });
    default:
      throw new Error(
        `unsupported Darknet activation '${activation as string}' (supported: ${DARKNET_ACTIVATIONS.join(', ')})`,
      );
  }
}

/**
 * Builder for one Darknet convolutional layer. Returns a function applying it to an NHWC
 * symbolic tensor (the input's channel count must be known).
 */
export function darknetConv2D(opts: DarknetConvOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const filters = opts.filters;
  const size = opts.size;
  const stride = opts.stride ?? 1;
  const pad = opts.pad ?? true;
  const groups = opts.groups ?? 1;
  const bn = opts.batchNormalize ?? false;
  const activation = opts.activation ?? 'linear';
  const l2 = opts.l2 ?? DEFAULT_L2;
  const name = opts.name ?? uniquePrefix();
  for (const [k, v] of [['filters', filters], ['size', size], ['stride', stride], ['groups', groups]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`darknetConv2D '${name}': ${k} must be a positive integer, got ${v}`);
  }
  if (!DARKNET_ACTIVATIONS.includes(activation)) {
    throw new Error(
      `darknetConv2D '${name}': unsupported activation '${activation}' (supported: ${DARKNET_ACTIVATIONS.join(', ')})`,
    );
  }
  if (opts.padding !== undefined && !(Number.isInteger(opts.padding) && opts.padding >= 0)) {
    throw new Error(`darknetConv2D '${name}': padding must be an integer >= 0, got ${opts.padding}`);
  }
  if (!(l2 >= 0)) throw new Error(`darknetConv2D '${name}': l2 must be >= 0, got ${l2}`);

  return (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const inChannels = x.shape[x.shape.length - 1];
    if (inChannels == null) throw new Error(`darknetConv2D '${name}': input channel count must be known`);
    const kernelRegularizer = l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined;
    let y = x;
    const p = opts.padding ?? (pad ? Math.floor(size / 2) : 0);
    if (p > 0) {
      y = tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name: `${name}_pad` }).apply(y) as tf.SymbolicTensor;
    }
    if (groups === 1) {
      y = tf.layers
        .conv2d({
          filters,
          kernelSize: size,
          strides: stride,
          padding: 'valid',
          useBias: !bn,
          kernelRegularizer,
          kernelInitializer: opts.kernelInitializer,
          name: `${name}_conv`,
        })
        .apply(y) as tf.SymbolicTensor;
    } else if (groups === inChannels && groups === filters) {
      y = tf.layers
        .depthwiseConv2d({
          kernelSize: size,
          strides: stride,
          padding: 'valid',
          depthMultiplier: 1,
          useBias: !bn,
          depthwiseRegularizer: kernelRegularizer,
          depthwiseInitializer: opts.kernelInitializer,
          name: `${name}_conv`,
        })
        .apply(y) as tf.SymbolicTensor;
    } else {
      throw new Error(
        `darknetConv2D '${name}': groups=${groups} with ${inChannels} input channels and ${filters} filters is not ` +
          `supported (only groups=1 or depthwise groups == input channels == filters)`,
      );
    }
    if (bn) {
      y = tf.layers
        .batchNormalization({ axis: -1, epsilon: opts.bnEpsilon ?? DARKNET_BN_EPSILON, momentum: 0.99, name: `${name}_bn` })
        .apply(y) as tf.SymbolicTensor;
    }
    const act = darknetActivationLayer(activation, `${name}_act`);
    if (act) y = act.apply(y) as tf.SymbolicTensor;
    return y;
  };
}

/** Options of {@link darknetConv2DBNLeaky} besides filters and size. */
export interface DarknetConvBNLeakyOptions {
  stride?: number;
  name?: string;
  /** Default 5e-4. */
  l2?: number;
}

/**
 * keras-yolo3's `DarknetConv2D_BN_Leaky`: conv without bias + BatchNorm + LeakyReLU(0.1), L2 5e-4,
 * with Darknet's symmetric `pad=1` padding (our weights come from Darknet).
 */
export function darknetConv2DBNLeaky(
  filters: number,
  size: number,
  opts: DarknetConvBNLeakyOptions = {},
): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  return darknetConv2D({
    filters,
    size,
    stride: opts.stride,
    pad: true,
    batchNormalize: true,
    activation: 'leaky',
    name: opts.name,
    l2: opts.l2,
  });
}
