/**
 * Layer builders and custom layers. Importing this module registers every custom layer class
 * (Mish, Swish, ChannelSlice, DarknetMaxPool2D, and the other models' ChannelShuffleSplit,
 * DropConnect, WeightedFusion) for `tf.loadLayersModel`.
 */
// Side-effect imports: files whose custom layers must be registered before deserialising.
import './channelShuffle';
import './dropConnect';
import './weightedFusion';
import './atrousConv2D';

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
// EfficientDet / EfficientNet
export { AtrousConv2D, atrousConv2d } from './atrousConv2D';
export { DropConnect } from './dropConnect';
export type { DropConnectConfig } from './dropConnect';
export { WeightedFusion } from './weightedFusion';
export type { WeightedFusionConfig } from './weightedFusion';
export { tfSamePadding } from './tfSamePadding';
export { staticSameMaxPool } from './staticSameMaxPool';
export type { StaticSameMaxPoolOptions } from './staticSameMaxPool';
export { mbConvBlock, EFFICIENT_BN_EPSILON, EFFICIENT_BN_MOMENTUM } from './mbConvBlock';
export type { MBConvBlockOptions } from './mbConvBlock';
export { efficientNet, efficientNetBlocks, roundFilters, roundRepeats, EFFICIENTNET_B0_STAGES, EFFICIENTNET_COEFFICIENTS } from './efficientNet';
export type { EfficientNetOptions, EfficientNetFeatures, EfficientNetBlockArgs, EfficientNetStage } from './efficientNet';
export { separableConvLayer, separableConvBlock, efficientBatchNorm } from './separableConvBlock';
export { biFPN, biFPNLayer } from './biFPN';
export type { BiFPNOptions, BiFPNLayerOptions } from './biFPN';
export type { WeightInit } from './weightInit';
export { spatialMean } from './spatialMean';
