/**
 * Darknet `[convolutional]` with `groups` that `darknetConv2D` does not cover:
 * - depthwise with a channel multiplier (groups == input channels, filters = m * groups, m > 1):
 *   one `depthwiseConv2d` with `depthMultiplier` m (`${name}_conv`, kernel `[k, k, C, m]`);
 * - general grouped convolution (1 < groups < input channels): the input is cut into `groups`
 *   equal channel slices (`${name}_slice<g>`), each convolved by its own conv2d with
 *   filters/groups filters (`${name}_conv_g<g>`, kernel `[k, k, C/groups, filters/groups]`),
 *   and the results concatenated (`${name}_concat`) in group order, which is Darknet's filter
 *   order (group g owns filters [g*n/G, (g+1)*n/G) and input channels [g*C/G, (g+1)*C/G)).
 * Then BatchNorm (`${name}_bn`, epsilon 1e-5) and the activation (`${name}_act`), as
 * `darknetConv2D`. Zero padding `${name}_pad` on every side.
 */
import * as tf from '@tensorflow/tfjs';
import { channelSlice } from './channelSlice';
import { DarknetActivation, darknetActivationLayer, DARKNET_BN_EPSILON } from './darknetConv2D';

/** Options of {@link darknetGroupedConv2D}. */
export interface DarknetGroupedConvOptions {
  filters: number;
  size: number;
  stride: number;
  /** Zero padding on every side. */
  padding: number;
  groups: number;
  batchNormalize: boolean;
  activation: DarknetActivation;
  /** Prefix of the sub-layer names. */
  name: string;
  /** Kernel initializer (default tfjs's); weights loaded afterwards make 'zeros' the cheap choice. */
  kernelInitializer?: NonNullable<Parameters<typeof tf.layers.conv2d>[0]>['kernelInitializer'];
  /** BatchNorm epsilon (default Darknet's 1e-5; PyTorch ports of Darknet use their own). */
  bnEpsilon?: number;
}

/** How a grouped conv is laid out for input channels `c`. */
export function groupedConvKind(c: number, filters: number, groups: number): 'plain' | 'depthwise' | 'grouped' {
  if (groups === 1) return 'plain';
  if (groups === c && filters % c === 0) return 'depthwise';
  return 'grouped';
}

/** Builder: returns a function applying the grouped conv to an NHWC symbolic tensor. */
export function darknetGroupedConv2D(opts: DarknetGroupedConvOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const { filters, size, stride, padding, groups, batchNormalize, activation, name } = opts;
  return (x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const c = x.shape[3];
    if (c == null) throw new Error(`darknetGroupedConv2D '${name}': input channel count must be known`);
    if (c % groups !== 0 || filters % groups !== 0) {
      throw new Error(
        `darknetGroupedConv2D '${name}': groups=${groups} must divide the input channels (${c}) and filters (${filters})`,
      );
    }
    let y = x;
    if (padding > 0) {
      y = tf.layers
        .zeroPadding2d({ padding: [[padding, padding], [padding, padding]], name: `${name}_pad` })
        .apply(y) as tf.SymbolicTensor;
    }
    const kind = groupedConvKind(c, filters, groups);
    if (kind === 'plain') throw new Error(`darknetGroupedConv2D '${name}': groups=1, use darknetConv2D`);
    if (kind === 'depthwise') {
      y = tf.layers
        .depthwiseConv2d({
          kernelSize: size,
          strides: stride,
          padding: 'valid',
          depthMultiplier: filters / c,
          useBias: !batchNormalize,
          depthwiseInitializer: opts.kernelInitializer,
          name: `${name}_conv`,
        })
        .apply(y) as tf.SymbolicTensor;
    } else {
      const parts: tf.SymbolicTensor[] = [];
      for (let g = 0; g < groups; g++) {
        const s = channelSlice(y, groups, g, `${name}_slice${g}`);
        parts.push(
          tf.layers
            .conv2d({
              filters: filters / groups,
              kernelSize: size,
              strides: stride,
              padding: 'valid',
              useBias: !batchNormalize,
              kernelInitializer: opts.kernelInitializer,
              name: `${name}_conv_g${g}`,
            })
            .apply(s) as tf.SymbolicTensor,
        );
      }
      y = tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply(parts) as tf.SymbolicTensor;
    }
    if (batchNormalize) {
      y = tf.layers
        .batchNormalization({ axis: -1, epsilon: opts.bnEpsilon ?? DARKNET_BN_EPSILON, name: `${name}_bn` })
        .apply(y) as tf.SymbolicTensor;
    }
    const act = darknetActivationLayer(activation, `${name}_act`);
    return act ? (act.apply(y) as tf.SymbolicTensor) : y;
  };
}
