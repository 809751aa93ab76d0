/**
 * Yolo-FastestV2's `DWConvblock` (the decoupled head branch of its LightFPN):
 *   DW k + BN + ReLU, 1x1 + BN (no ReLU), DW k + BN + ReLU, 1x1 + BN (no ReLU, no residual).
 * Depthwise convs pad k/2 on every side (stride 1). Sub-layers are named after the PyTorch
 * `nn.Sequential` indices: `${name}.block.0` (dw) .1 (bn) .2 (relu) .3 (pw) .4 (bn) .5 (dw) .6
 * (bn) .7 (relu) .8 (pw) .9 (bn).
 */
import * as tf from '@tensorflow/tfjs';
import { torchBatchNorm, torchConv2D, torchReLU } from './torchConv2D';

/** Options of {@link dwConvBlock}. */
export interface DWConvBlockOptions {
  /** Channels in and out. */
  channels: number;
  /** Depthwise kernel size (odd; Yolo-FastestV2 uses 5). */
  ksize: number;
  /** Prefix of the sub-layer names, e.g. `fpn.cls_head_2`. */
  name: string;
}

/** Builds a DWConvblock; returns `(x) => y`. */
export function dwConvBlock(opts: DWConvBlockOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const { channels, ksize, name } = opts;
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`dwConvBlock '${name}': channels must be a positive integer, got ${channels}`);
  if (!Number.isInteger(ksize) || ksize % 2 !== 1) throw new Error(`dwConvBlock '${name}': ksize must be an odd integer, got ${ksize}`);
  const pad = (ksize - 1) / 2;
  const p = `${name}.block`;
  return (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const c = x.shape[x.shape.length - 1];
    if (c !== channels) throw new Error(`dwConvBlock '${name}': expects ${channels} input channels, got ${c}`);
    let y = torchConv2D({ filters: channels, kernelSize: ksize, padding: pad, depthwise: true, name: `${p}.0` })(x);
    y = torchBatchNorm(`${p}.1`)(y);
    y = torchReLU(`${p}.2`)(y);
    y = torchConv2D({ filters: channels, kernelSize: 1, name: `${p}.3` })(y);
    y = torchBatchNorm(`${p}.4`)(y);
    y = torchConv2D({ filters: channels, kernelSize: ksize, padding: pad, depthwise: true, name: `${p}.5` })(y);
    y = torchBatchNorm(`${p}.6`)(y);
    y = torchReLU(`${p}.7`)(y);
    y = torchConv2D({ filters: channels, kernelSize: 1, name: `${p}.8` })(y);
    return torchBatchNorm(`${p}.9`)(y);
  };
}
