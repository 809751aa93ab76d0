/**
 * PyTorch's `Conv2d` / `BatchNorm2d` / `MaxPool2d` semantics as tfjs layers, for models whose
 * weights come from PyTorch (Yolo-FastestV2, EfficientDet).
 *
 * PyTorch pads `padding` zeros on EVERY side. TF's 'same' pads asymmetrically at stride 2 on
 * even inputs (0 before, 1 after), so a strided conv becomes an explicit `zeroPadding2d` +
 * 'valid' conv. Where 'same' is provably identical (stride 1, odd kernel, padding = k/2) it is
 * used directly (one op fewer).
 */
import * as tf from '@tensorflow/tfjs';
import { DarknetMaxPool2D } from './darknetMaxPool';
import { AtrousConv2D } from './atrousConv2D';

/** PyTorch's `BatchNorm2d` default epsilon. */
export const TORCH_BN_EPSILON = 1e-5;

/** PyTorch's default BN momentum 0.1 (running = 0.9*running + 0.1*batch) in Keras terms. */
export const TORCH_BN_MOMENTUM = 0.9;

/** Options of {@link torchConv2D}. */
export interface TorchConv2DOptions {
  /** Output channels (ignored for depthwise: equals the input channels). */
  filters: number;
  kernelSize: number;
  /** Default 1. */
  stride?: number;
  /** Zeros added on every side (PyTorch `padding`). Default 0. */
  padding?: number;
  /** Kernel dilation (PyTorch `dilation`; tfjs supports it at stride 1 only). Default 1. */
  dilation?: number;
  /** `groups == in_channels == out_channels` in PyTorch: a depthwise conv (multiplier 1). */
  depthwise?: boolean;
  /** Default false (PyTorch convs followed by BN have `bias=False`). */
  useBias?: boolean;
  /** Layer name (the PyTorch module path, e.g. `backbone.first_conv.0`). Pad layer: `${name}.pad`. */
  name: string;
  /** Kernel initializer (default tfjs's glorotNormal); 'zeros' builds fast when weights are assigned next. */
  kernelInitializer?: 'zeros';
}

function checkPositiveInt(what: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${what} '${name}': expected an integer >= ${min}, got ${v}`);
}

/**
 * PyTorch `Conv2d(in, filters, k, stride, padding, groups=1|in, bias)` on an NHWC symbolic
 * tensor: weights `kernel` [k, k, in, out] (or `depthwise_kernel` [k, k, in, 1]) and `bias`.
 */
export function torchConv2D(opts: TorchConv2DOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const { filters, kernelSize, name } = opts;
  const stride = opts.stride ?? 1;
  const padding = opts.padding ?? 0;
  const useBias = opts.useBias ?? false;
  const dilation = opts.dilation ?? 1;
  checkPositiveInt('torchConv2D kernelSize', name, kernelSize);
  checkPositiveInt('torchConv2D dilation', name, dilation);
  if (dilation > 1 && stride > 1) throw new Error(`torchConv2D '${name}': dilation ${dilation} with stride ${stride} is not supported (tfjs)`);
  checkPositiveInt('torchConv2D stride', name, stride);
  checkPositiveInt('torchConv2D padding', name, padding, 0);
  if (!opts.depthwise) checkPositiveInt('torchConv2D filters', name, filters);
  return (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const inChannels = x.shape[x.shape.length - 1];
    if (inChannels == null) throw new Error(`torchConv2D '${name}': input channel count must be known`);
    const sameIsSymmetric = stride === 1 && kernelSize % 2 === 1 && padding === (dilation * (kernelSize - 1)) / 2;
    let mode: 'same' | 'valid' = 'valid';
    let y = x;
    if (padding > 0 && sameIsSymmetric) {
      mode = 'same';
    } else if (padding > 0) {
      y = tf.layers
        .zeroPadding2d({ padding: [[padding, padding], [padding, padding]], name: `${name}.pad` })
        .apply(y) as tf.SymbolicTensor;
    }
    const common = { kernelSize, strides: stride, padding: mode, useBias, name, ...(dilation > 1 ? { dilationRate: dilation } : {}) };
    const init = opts.kernelInitializer;
    const layer = opts.depthwise
      ? tf.layers.depthwiseConv2d({ ...common, depthMultiplier: 1, ...(init ? { depthwiseInitializer: init } : {}) })
      : dilation > 1
        ? new AtrousConv2D({ ...common, filters, ...(init ? { kernelInitializer: init } : {}) })
        : tf.layers.conv2d({ ...common, filters, ...(init ? { kernelInitializer: init } : {}) });
    return layer.apply(y) as tf.SymbolicTensor;
  };
}

/**
 * PyTorch `BatchNorm2d` (eps 1e-5) over the channel (last) axis. `torchMomentum` is PyTorch's
 * (default 0.1: running = (1 - m) * running + m * batch); Keras keeps 1 - m.
 */
export function torchBatchNorm(name: string, torchMomentum = 0.1): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const momentum = torchMomentum === 0.1 ? TORCH_BN_MOMENTUM : 1 - torchMomentum;
  return (x) =>
    tf.layers
      .batchNormalization({ axis: -1, epsilon: TORCH_BN_EPSILON, momentum, name })
      .apply(x) as tf.SymbolicTensor;
}

/** `nn.ReLU`. */
export function torchReLU(name: string): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  return (x) => tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
}

/**
 * PyTorch `MaxPool2d(kernel, stride, padding)` (ceil_mode false): pads `padding` on every side
 * with -inf (the largest negative float), then pools 'valid'. Reuses the registered
 * {@link DarknetMaxPool2D}, whose total padding 2p puts exactly p before and which gives the
 * same window set and output size floor((n + 2p - k)/s) + 1.
 */
export function torchMaxPool2D(opts: {
  kernelSize: number;
  stride: number;
  padding: number;
  name: string;
}): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const { kernelSize, stride, padding, name } = opts;
  if (2 * padding > kernelSize) {
    throw new Error(`torchMaxPool2D '${name}': padding ${padding} must be at most half the kernel ${kernelSize}`);
  }
  return (x) =>
    new DarknetMaxPool2D({ size: kernelSize, stride, padding: 2 * padding, name }).apply(x) as tf.SymbolicTensor;
}
