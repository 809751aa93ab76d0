/**
 * EfficientDet's BiFPN (zylo117's `BiFPN`, P3-P7). One layer:
 *
 * ```
 * P6_1 = conv6_up  (swish(fuse(P6_0, up(P7_0))))
 * P5_1 = conv5_up  (swish(fuse(P5_0, up(P6_1))))
 * P4_1 = conv4_up  (swish(fuse(P4_0, up(P5_1))))
 * P3_2 = conv3_up  (swish(fuse(P3_0, up(P4_1))))
 * P4_2 = conv4_down(swish(fuse(P4_0', P4_1, down(P3_2))))
 * P5_2 = conv5_down(swish(fuse(P5_0', P5_1, down(P4_2))))
 * P6_2 = conv6_down(swish(fuse(P6_0, P6_1, down(P5_2))))
 * P7_2 = conv7_down(swish(fuse(P7_0, down(P6_2))))
 * ```
 * `fuse` = {@link WeightedFusion} (fast normalised fusion, or a plain sum without attention),
 * `conv*` = separable conv + BN, `up` = nearest x2, `down` = zero-padded 3x3/2 max-pool.
 *
 * The FIRST layer takes the backbone's (p3, p4, p5): P3_0/P4_0/P5_0 come from 1x1 conv (bias) + BN
 * "down-channel" paths, P6_0 = maxpool(BN(conv1x1(p5))), P7_0 = maxpool(P6_0), and the bottom-up
 * nodes P4_2/P5_2 use SEPARATE down-channel convs (P4_0', P5_0'). Later layers take the 5 previous
 * outputs and use P4_0' = P4_0, P5_0' = P5_0.
 *
 * Layer names are the PyTorch module paths under `name` (`bifpn.0.conv6_up`, `bifpn.0.p6_w1`, ...).
 */
import * as tf from '@tensorflow/tfjs';
import { Swish } from './mish';
import { WeightedFusion } from './weightedFusion';
import { separableConvBlock, efficientBatchNorm } from './separableConvBlock';
import { staticSameMaxPool } from './staticSameMaxPool';
import { WeightInit, kernelInitializer } from './weightInit';

/** Options of one BiFPN layer. */
export interface BiFPNLayerOptions {
  /** Feature width C. */
  channels: number;
  /** First layer: inputs are the backbone's (p3, p4, p5) and the down-channel / P6 / P7 paths exist. */
  firstLayer: boolean;
  /** Fast normalised fusion (true, zylo117 D0-D5) or plain sum (false, D6+). Default true. */
  attention?: boolean;
  /** Fusion epsilon (default 1e-4). */
  epsilon?: number;
  /** Layer-name prefix, e.g. `bifpn.0`. */
  name: string;
  /** Kernel initialisation (default 'random'). */
  init?: WeightInit;
}

/** Build one BiFPN layer. Returns [P3, P4, P5, P6, P7] (each C channels). */
export function biFPNLayer(inputs: tf.SymbolicTensor[], o: BiFPNLayerOptions): tf.SymbolicTensor[] {
  const C = o.channels;
  const n = o.name;
  const ki = kernelInitializer(o.init);
  if (!Number.isInteger(C) || C < 1) throw new Error(`biFPNLayer '${n}': channels must be an integer >= 1, got ${C}`);
  const expected = o.firstLayer ? 3 : 5;
  if (inputs.length !== expected) {
    throw new Error(`biFPNLayer '${n}': a ${o.firstLayer ? 'first' : 'later'} layer takes ${expected} inputs, got ${inputs.length}`);
  }
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
  const downChannel = (x: tf.SymbolicTensor, key: string) =>
    apply(efficientBatchNorm(`${n}.${key}.1`), apply(tf.layers.conv2d({ filters: C, kernelSize: 1, useBias: true, kernelInitializer: ki, name: `${n}.${key}.0` }), x));
  const up = (x: tf.SymbolicTensor, key: string) => apply(tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${n}.${key}` }), x);
  const down = (x: tf.SymbolicTensor, key: string) => staticSameMaxPool(x, { name: `${n}.${key}` });
  const node = (xs: tf.SymbolicTensor[], weightKey: string, convKey: string) => {
    const fused = apply(new WeightedFusion({ attention: o.attention ?? true, epsilon: o.epsilon ?? 1e-4, name: `${n}.${weightKey}` }), xs);
    const act = apply(new Swish({ name: `${n}.${weightKey}_swish` }), fused);
    return separableConvBlock(act, { name: `${n}.${convKey}`, filters: C, norm: true, init: o.init });
  };

  let p3In: tf.SymbolicTensor, p4In: tf.SymbolicTensor, p5In: tf.SymbolicTensor, p6In: tf.SymbolicTensor, p7In: tf.SymbolicTensor;
  if (o.firstLayer) {
    const [p3, p4, p5] = inputs;
    const p6Conv = apply(efficientBatchNorm(`${n}.p5_to_p6.1`), apply(tf.layers.conv2d({ filters: C, kernelSize: 1, useBias: true, kernelInitializer: ki, name: `${n}.p5_to_p6.0` }), p5));
    p6In = staticSameMaxPool(p6Conv, { name: `${n}.p5_to_p6.2` });
    p7In = staticSameMaxPool(p6In, { name: `${n}.p6_to_p7.0` });
    p3In = downChannel(p3, 'p3_down_channel');
    p4In = downChannel(p4, 'p4_down_channel');
    p5In = downChannel(p5, 'p5_down_channel');
  } else {
    [p3In, p4In, p5In, p6In, p7In] = inputs;
    for (const t of inputs) {
      if (t.shape[3] !== C) throw new Error(`biFPNLayer '${n}': inputs must have ${C} channels, got [${t.shape.join(', ')}]`);
    }
  }

  const p6Up = node([p6In, up(p7In, 'p6_upsample')], 'p6_w1', 'conv6_up');
  const p5Up = node([p5In, up(p6Up, 'p5_upsample')], 'p5_w1', 'conv5_up');
  const p4Up = node([p4In, up(p5Up, 'p4_upsample')], 'p4_w1', 'conv4_up');
  const p3Out = node([p3In, up(p4Up, 'p3_upsample')], 'p3_w1', 'conv3_up');

  if (o.firstLayer) {
    p4In = downChannel(inputs[1], 'p4_down_channel_2');
    p5In = downChannel(inputs[2], 'p5_down_channel_2');
  }
  const p4Out = node([p4In, p4Up, down(p3Out, 'p4_downsample')], 'p4_w2', 'conv4_down');
  const p5Out = node([p5In, p5Up, down(p4Out, 'p5_downsample')], 'p5_w2', 'conv5_down');
  const p6Out = node([p6In, p6Up, down(p5Out, 'p6_downsample')], 'p6_w2', 'conv6_down');
  const p7Out = node([p7In, down(p6Out, 'p7_downsample')], 'p7_w2', 'conv7_down');
  return [p3Out, p4Out, p5Out, p6Out, p7Out];
}

/** Options of {@link biFPN}. */
export interface BiFPNOptions {
  channels: number;
  /** Number of stacked layers (default 3, D0). */
  repeats?: number;
  /** Whether the first layer is a "first" layer taking backbone maps (default true). */
  firstLayer?: boolean;
  attention?: boolean;
  epsilon?: number;
  /** Name prefix (default `bifpn`); layer i is `${name}.${i}`. */
  name?: string;
  init?: WeightInit;
}

/**
 * A stack of BiFPN layers. The returned function takes the backbone's [p3, p4, p5] (or five
 * C-channel maps when `firstLayer` is false) and returns every layer's [P3..P7] outputs (the
 * last entry is the final feature pyramid).
 */
export function biFPN(o: BiFPNOptions): (inputs: tf.SymbolicTensor[]) => tf.SymbolicTensor[][] {
  const repeats = o.repeats ?? 3;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`biFPN: repeats must be an integer >= 1, got ${repeats}`);
  const name = o.name ?? 'bifpn';
  const first = o.firstLayer ?? true;
  return (inputs) => {
    const all: tf.SymbolicTensor[][] = [];
    let x = inputs;
    for (let i = 0; i < repeats; i++) {
      x = biFPNLayer(x, { channels: o.channels, firstLayer: first && i === 0, attention: o.attention, epsilon: o.epsilon, name: `${name}.${i}`, init: o.init });
      all.push(x);
    }
    return all;
  };
}
