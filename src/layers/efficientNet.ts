/**
 * EfficientNet B0-B8 feature extractor as zylo117's EfficientDet uses it (lukemelas'
 * EfficientNet-PyTorch without the classification head): stem 3x3/2 conv -> BN -> swish, then
 * the MBConv blocks; returns the three taps p3 (stride 8), p4 (stride 16), p5 (stride 32).
 *
 * Layer names follow the PyTorch module paths under `prefix` (default `model`, lukemelas' own;
 * EfficientDet passes its `backbone_net.model`):
 * `${prefix}._conv_stem`, `${prefix}._bn0`, `${prefix}._blocks.{i}.*`.
 */
import * as tf from '@tensorflow/tfjs';
import { Swish } from './mish';
import { mbConvBlock, EFFICIENT_BN_EPSILON, EFFICIENT_BN_MOMENTUM } from './mbConvBlock';
import { WeightInit, kernelInitializer } from './weightInit';

/** One stage of the base (B0) network: repeats, kernel, stride, expand ratio, in/out filters. */
export interface EfficientNetStage {
  repeats: number;
  kernelSize: number;
  stride: number;
  expandRatio: number;
  inputFilters: number;
  outputFilters: number;
  seRatio: number;
}

/** The B0 stages (`r1_k3_s11_e1_i32_o16_se0.25`, ...). */
export const EFFICIENTNET_B0_STAGES: readonly EfficientNetStage[] = [
  { repeats: 1, kernelSize: 3, stride: 1, expandRatio: 1, inputFilters: 32, outputFilters: 16, seRatio: 0.25 },
  { repeats: 2, kernelSize: 3, stride: 2, expandRatio: 6, inputFilters: 16, outputFilters: 24, seRatio: 0.25 },
  { repeats: 2, kernelSize: 5, stride: 2, expandRatio: 6, inputFilters: 24, outputFilters: 40, seRatio: 0.25 },
  { repeats: 3, kernelSize: 3, stride: 2, expandRatio: 6, inputFilters: 40, outputFilters: 80, seRatio: 0.25 },
  { repeats: 3, kernelSize: 5, stride: 1, expandRatio: 6, inputFilters: 80, outputFilters: 112, seRatio: 0.25 },
  { repeats: 4, kernelSize: 5, stride: 2, expandRatio: 6, inputFilters: 112, outputFilters: 192, seRatio: 0.25 },
  { repeats: 1, kernelSize: 3, stride: 1, expandRatio: 6, inputFilters: 192, outputFilters: 320, seRatio: 0.25 },
];

/** Width and depth coefficients of EfficientNet-B{index}. */
export const EFFICIENTNET_COEFFICIENTS: readonly [number, number][] = [
  [1.0, 1.0], [1.0, 1.1], [1.1, 1.2], [1.2, 1.4], [1.4, 1.8], [1.6, 2.2], [1.8, 2.6], [2.0, 3.1], [2.2, 3.6],
];

const DEPTH_DIVISOR = 8;

/** Channel rounding of EfficientNet (`round_filters`): nearest multiple of 8, never 10% below. */
export function roundFilters(filters: number, widthCoefficient: number): number {
  const f = filters * widthCoefficient;
  let n = Math.max(DEPTH_DIVISOR, Math.floor(Math.trunc(f + DEPTH_DIVISOR / 2) / DEPTH_DIVISOR) * DEPTH_DIVISOR);
  if (n < 0.9 * f) n += DEPTH_DIVISOR;
  return n;
}

/** Repeat rounding of EfficientNet (`round_repeats`): ceil(depth * repeats). */
export function roundRepeats(repeats: number, depthCoefficient: number): number {
  return Math.ceil(depthCoefficient * repeats);
}

/** One MBConv block of a scaled network. */
export interface EfficientNetBlockArgs {
  kernelSize: number;
  stride: number;
  expandRatio: number;
  inputFilters: number;
  outputFilters: number;
  seRatio: number;
  /** Residual used (never on the first block of a stage, as upstream). */
  skip: boolean;
  /** Index of the stage (0-based) this block belongs to. */
  stage: number;
}

/** The scaled block list of EfficientNet-B{variant} (0..8). */
export function efficientNetBlocks(variant: number): EfficientNetBlockArgs[] {
  const c = EFFICIENTNET_COEFFICIENTS[variant];
  if (!Number.isInteger(variant) || !c) throw new Error(`EfficientNet variant must be an integer 0..${EFFICIENTNET_COEFFICIENTS.length - 1}, got ${variant}`);
  const [w, d] = c;
  const blocks: EfficientNetBlockArgs[] = [];
  EFFICIENTNET_B0_STAGES.forEach((st, stage) => {
    const inF = roundFilters(st.inputFilters, w);
    const outF = roundFilters(st.outputFilters, w);
    const reps = roundRepeats(st.repeats, d);
    for (let r = 0; r < reps; r++) {
      const first = r === 0;
      blocks.push({
        kernelSize: st.kernelSize,
        stride: first ? st.stride : 1,
        expandRatio: st.expandRatio,
        inputFilters: first ? inF : outF,
        outputFilters: outF,
        seRatio: st.seRatio,
        skip: !first,
        stage,
      });
    }
  });
  return blocks;
}

/** Options of {@link efficientNet}. */
export interface EfficientNetOptions {
  /** B0..B8. */
  variant: number;
  /** Layer-name prefix (default `model`). */
  prefix?: string;
  /** Drop-connect rate of the last block (block i uses rate * i / nBlocks); training only. Default 0.2. */
  dropConnectRate?: number;
  /** Kernel initialisation (default 'random'). */
  init?: WeightInit;
}

/** Taps of the backbone. */
export interface EfficientNetFeatures {
  /** Stride 8, 16, 32 maps fed to the BiFPN. */
  p3: tf.SymbolicTensor;
  p4: tf.SymbolicTensor;
  p5: tf.SymbolicTensor;
  /** Output of every block, in order. */
  blocks: tf.SymbolicTensor[];
}

/**
 * Build the EfficientNet feature extractor on an NHWC input. The taps follow zylo117's rule:
 * the output of the block before each stride-2 block, plus the last block's output; the last
 * three of those (strides 8, 16, 32) are p3, p4, p5.
 */
export function efficientNet(input: tf.SymbolicTensor, o: EfficientNetOptions): EfficientNetFeatures {
  const [w] = EFFICIENTNET_COEFFICIENTS[o.variant] ?? [NaN];
  const blocks = efficientNetBlocks(o.variant);
  if (input.shape[3] !== 3) throw new Error(`efficientNet expects an RGB input [N, H, W, 3], got [${input.shape.join(', ')}]`);
  const p = o.prefix ?? 'model';
  const rate = o.dropConnectRate ?? 0.2;
  let x = tf.layers
    .conv2d({ filters: roundFilters(32, w), kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: kernelInitializer(o.init), name: `${p}._conv_stem` })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: -1, epsilon: EFFICIENT_BN_EPSILON, momentum: EFFICIENT_BN_MOMENTUM, name: `${p}._bn0` }).apply(x) as tf.SymbolicTensor;
  x = new Swish({ name: `${p}.stem_swish` }).apply(x) as tf.SymbolicTensor;
  const taps: tf.SymbolicTensor[] = [];
  const outs: tf.SymbolicTensor[] = [];
  blocks.forEach((b, idx) => {
    if (b.stride === 2) taps.push(x);
    x = mbConvBlock(x, { ...b, name: `${p}._blocks.${idx}`, init: o.init, dropConnectRate: (rate * idx) / blocks.length });
    outs.push(x);
  });
  taps.push(x);
  const [p3, p4, p5] = taps.slice(-3);
  return { p3, p4, p5, blocks: outs };
}
