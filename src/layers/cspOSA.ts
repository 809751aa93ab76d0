/**
 * The CSPOSA block of YOLOv4-tiny (8 cfg layers, e.g. layers 2..9 of yolov4-tiny.cfg):
 *
 * ```
 * +0 [convolutional] 3x3 c            -> a
 * +1 [route] -1 groups=2 group_id=1   second half of a's channels
 * +2 [convolutional] 3x3 c/2          -> b
 * +3 [convolutional] 3x3 c/2          -> d
 * +4 [route] -1,-2                    concat(d, b)
 * +5 [convolutional] 1x1 c            -> f   (the FPN tap: yolov4-tiny routes from layer 23 = +5 of block 3)
 * +6 [route] -6,-1                    concat(a, f)
 * +7 [maxpool] 2x2/2
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { darknetConv2D, DarknetActivation } from './darknetConv2D';
import { channelSlice } from './channelSlice';
import { darknetMaxPool } from './darknetMaxPool';

/** Options of {@link cspOSABlock}. */
export interface CspOSAOptions {
  /** Channels of the first conv and of the 1x1 conv (the inner convs get half). */
  filters: number;
  /**
   * Darknet layer index of the block's first layer. Sub-layers are then named after their cfg
   * index: `conv_<i>`, `route_<i>`, `maxpool_<i>`. Without it, `${name}_<offset>` is used.
   */
  cfgIndex?: number;
  /** Name prefix when `cfgIndex` is not given. */
  name?: string;
  /** Default 'leaky'. */
  activation?: DarknetActivation;
  /** Kernel L2 regulariser (default 5e-4). */
  l2?: number;
}

/** Outputs of a CSPOSA block. */
export interface CspOSAResult {
  /** After the final 2x2/2 maxpool: [N, H/2, W/2, 2c]. */
  output: tf.SymbolicTensor;
  /** The 1x1 conv (offset +5) output, [N, H, W, c]: what yolov4-tiny's FPN routes from. */
  tap: tf.SymbolicTensor;
  /** Output of the first conv (offset +0), [N, H, W, c]. */
  first: tf.SymbolicTensor;
}

let blockCounter = 0;

/** Build a YOLOv4-tiny CSPOSA block on `x`. */
export function cspOSABlock(x: tf.SymbolicTensor, opts: CspOSAOptions): CspOSAResult {
  const c = opts.filters;
  if (!Number.isInteger(c) || c < 2 || c % 2 !== 0) {
    throw new Error(`cspOSABlock: filters must be an even integer >= 2, got ${c}`);
  }
  let prefix = opts.name;
  if (opts.cfgIndex === undefined && prefix === undefined) {
    blockCounter += 1;
    prefix = `csposa${blockCounter}`;
  }
  const nameOf = (offset: number, kind: 'conv' | 'route' | 'maxpool'): string =>
    opts.cfgIndex !== undefined ? `${kind}_${opts.cfgIndex + offset}` : `${prefix}_${kind}${offset}`;
  const common = { batchNormalize: true, activation: opts.activation ?? 'leaky', l2: opts.l2 } as const;

  const a = darknetConv2D({ ...common, filters: c, size: 3, name: nameOf(0, 'conv') })(x);
  const half = channelSlice(a, 2, 1, nameOf(1, 'route'));
  const b = darknetConv2D({ ...common, filters: c / 2, size: 3, name: nameOf(2, 'conv') })(half);
  const d = darknetConv2D({ ...common, filters: c / 2, size: 3, name: nameOf(3, 'conv') })(b);
  const cat1 = tf.layers.concatenate({ axis: -1, name: nameOf(4, 'route') }).apply([d, b]) as tf.SymbolicTensor;
  const f = darknetConv2D({ ...common, filters: c, size: 1, name: nameOf(5, 'conv') })(cat1);
  const cat2 = tf.layers.concatenate({ axis: -1, name: nameOf(6, 'route') }).apply([a, f]) as tf.SymbolicTensor;
  const output = darknetMaxPool(cat2, { size: 2, stride: 2, name: nameOf(7, 'maxpool') });
  return { output, tap: f, first: a };
}
