/**
 * Layer builders and custom layers. Importing this module registers every custom layer class
 * (Mish, Swish, ChannelSlice, DarknetMaxPool2D, and the other models' ChannelShuffleSplit,
 * DropConnect, WeightedFusion) for `tf.loadLayersModel`.
 */
// Side-effect imports: files whose custom layers must be registered before deserialising.
import './channelShuffle';
import './dropConnect';
import './weightedFusion';

export { Mish, Swish, mish } from './mish';
export { ChannelSlice, channelSlice } from './channelSlice';
export type { ChannelSliceConfig } from './channelSlice';
export { DarknetMaxPool2D, darknetMaxPool, darknetPoolGeometry } from './darknetMaxPool';
export type { DarknetMaxPoolOptions, DarknetMaxPool2DConfig } from './darknetMaxPool';
export {
  darknetConv2D,
  darknetConv2DBNLeaky,
  darknetActivationLayer,
  DARKNET_ACTIVATIONS,
  DARKNET_BN_EPSILON,
  DARKNET_LEAKY_SLOPE,
  DEFAULT_L2,
} from './darknetConv2D';
export type { DarknetActivation, DarknetConvOptions, DarknetConvBNLeakyOptions } from './darknetConv2D';
export { compose } from './compose';
export { cspOSABlock } from './cspOSA';
export type { CspOSAOptions, CspOSAResult } from './cspOSA';
