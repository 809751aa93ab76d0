/**
 * RFSong's `BasicConv` (models/module.py): Conv2d -> BatchNorm2d (eps 1e-5, PyTorch momentum
 * 0.01) -> ReLU, each part optional as upstream has it. With BN the conv has no bias; without
 * BN it has one. Layers are named after the upstream module path: `<name>.conv`, `<name>.bn`,
 * `<name>.relu`, so the state-dict keys map one to one.
 */
import * as tf from '@tensorflow/tfjs';
import { torchBatchNorm, torchConv2D, torchReLU } from '../../layers/torchConv2D';

/** Upstream's BatchNorm2d momentum in BasicConv. */
export const BASIC_CONV_BN_MOMENTUM = 0.01;

/** Options of {@link basicConv} (PyTorch argument names and defaults). */
export interface BasicConvOptions {
  /** Module path, e.g. `base.conv1_1`. */
  name: string;
  filters: number;
  kernelSize: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  /** Default true. */
  relu?: boolean;
  /** Default true. */
  bn?: boolean;
}

/** `BasicConv(in, filters, kernelSize, stride, padding, dilation, relu, bn)` on an NHWC tensor. */
export function basicConv(o: BasicConvOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const bn = o.bn ?? true;
  const relu = o.relu ?? true;
  const conv = torchConv2D({
    name: `${o.name}.conv`,
    filters: o.filters,
    kernelSize: o.kernelSize,
    stride: o.stride,
    padding: o.padding,
    dilation: o.dilation,
    useBias: !bn,
  });
  return (x) => {
    let y = conv(x);
    if (bn) y = torchBatchNorm(`${o.name}.bn`, BASIC_CONV_BN_MOMENTUM)(y);
    if (relu) y = torchReLU(`${o.name}.relu`)(y);
    return y;
  };
}
