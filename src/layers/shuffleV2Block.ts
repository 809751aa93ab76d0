/**
 * ShuffleNetV2 unit as in Megvii's reference code (which Yolo-FastestV2 uses), on NHWC tensors.
 *
 * Stride 2: `concat([branch_proj(x), branch_main(x)])` with
 *   branch_proj = DW k s2 + BN, 1x1 inp->inp + BN + ReLU;
 * Stride 1: `concat([even channels of x, branch_main(odd channels of x)])`;
 * branch_main = 1x1 inp->mid + BN + ReLU, DW k (stride) + BN, 1x1 mid->(oup-inp) + BN + ReLU.
 *
 * Sub-layers are named after the PyTorch module paths (`${name}.branch_main.0`, ...), so a
 * state dict maps onto them key for key.
 */
import * as tf from '@tensorflow/tfjs';
import { channelShuffleSplit } from './channelShuffle';
import { torchBatchNorm, torchConv2D, torchReLU } from './torchConv2D';

/** Options of {@link shuffleV2Block} (PyTorch `ShuffleV2Block(inp, oup, mid_channels, ksize, stride)`). */
export interface ShuffleV2BlockOptions {
  /** Channels entering branch_main: the block input for stride 2, half of it for stride 1. */
  inp: number;
  /** Block output channels. */
  oup: number;
  /** branch_main's hidden width. */
  mid: number;
  /** Depthwise kernel size (odd), padded ksize/2 on every side. */
  ksize: number;
  stride: 1 | 2;
  /** Prefix of the sub-layer names (the PyTorch module path, e.g. `backbone.stage2.0`). */
  name: string;
}

/** Builds one ShuffleV2 block; returns `(x) => y`. Checks the input's channel count. */
export function shuffleV2Block(opts: ShuffleV2BlockOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const { inp, oup, mid, ksize, stride, name } = opts;
  for (const [k, v] of [['inp', inp], ['oup', oup], ['mid', mid], ['ksize', ksize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`shuffleV2Block '${name}': ${k} must be a positive integer, got ${v}`);
  }
  if (stride !== 1 && stride !== 2) throw new Error(`shuffleV2Block '${name}': stride must be 1 or 2, got ${stride}`);
  if (ksize % 2 !== 1) throw new Error(`shuffleV2Block '${name}': ksize must be odd, got ${ksize}`);
  const outputs = oup - inp;
  if (outputs < 1) throw new Error(`shuffleV2Block '${name}': oup (${oup}) must exceed inp (${inp})`);
  const pad = Math.floor(ksize / 2);

  const branchMain = (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const p = `${name}.branch_main`;
    let y = torchConv2D({ filters: mid, kernelSize: 1, name: `${p}.0` })(x);
    y = torchBatchNorm(`${p}.1`)(y);
    y = torchReLU(`${p}.2`)(y);
    y = torchConv2D({ filters: mid, kernelSize: ksize, stride, padding: pad, depthwise: true, name: `${p}.3` })(y);
    y = torchBatchNorm(`${p}.4`)(y);
    y = torchConv2D({ filters: outputs, kernelSize: 1, name: `${p}.5` })(y);
    y = torchBatchNorm(`${p}.6`)(y);
    return torchReLU(`${p}.7`)(y);
  };

  const branchProj = (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const p = `${name}.branch_proj`;
    let y = torchConv2D({ filters: inp, kernelSize: ksize, stride, padding: pad, depthwise: true, name: `${p}.0` })(x);
    y = torchBatchNorm(`${p}.1`)(y);
    y = torchConv2D({ filters: inp, kernelSize: 1, name: `${p}.2` })(y);
    y = torchBatchNorm(`${p}.3`)(y);
    return torchReLU(`${p}.4`)(y);
  };

  return (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const c = x.shape[x.shape.length - 1];
    if (stride === 2) {
      if (c !== inp) throw new Error(`shuffleV2Block '${name}': stride-2 block expects ${inp} input channels, got ${c}`);
      return tf.layers.concatenate({ axis: -1, name: `${name}.concat` }).apply([branchProj(x), branchMain(x)]) as tf.SymbolicTensor;
    }
    if (c !== 2 * inp || c % 4 !== 0) {
      throw new Error(`shuffleV2Block '${name}': stride-1 block expects ${2 * inp} input channels (a multiple of 4), got ${c}`);
    }
    const [passThrough, toMain] = channelShuffleSplit(x, name);
    return tf.layers.concatenate({ axis: -1, name: `${name}.concat` }).apply([passThrough, branchMain(toMain)]) as tf.SymbolicTensor;
  };
}
