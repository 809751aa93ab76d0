/**
 * YOLO-FastestV2 (dog-qiuqiu/Yolo-FastestV2): ShuffleNetV2 backbone (stages 4/8/4, channels
 * 24/48/96/192), a light FPN with decoupled depthwise heads, and three 1x1 output convs shared
 * by the two scales (strides 16 and 32).
 *
 * Every layer carries the PyTorch module path of its upstream counterpart as its name
 * (`backbone.stage3.0.branch_main.3`, `fpn.cls_head_2.block.0`, `output_cls_layers`, ...), which
 * is what the state-dict key table (`src/models/yoloFastestV2/keyMap.ts`) refers to.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../detector';
import { MAX_INPUT_SIDE, ModelSpec, defaultClassNames } from '../../spec';
import { shuffleV2Block } from '../../layers/shuffleV2Block';
import { dwConvBlock } from '../../layers/dwConvBlock';
import { torchBatchNorm, torchConv2D, torchMaxPool2D, torchReLU } from '../../layers/torchConv2D';

/** Upstream `data/coco.data` anchors `[w, h]` in input pixels: 3 for stride 16, then 3 for stride 32. */
export const YOLO_FASTESTV2_COCO_ANCHORS: [number, number][] = [
  [12.64, 19.39], [37.88, 51.48], [55.71, 138.31],
  [126.91, 78.23], [131.57, 214.55], [279.92, 258.87],
];

/** Backbone channels `[stem, stage2, stage3, stage4]` (upstream `stage_out_channels[1:]`). */
export const YOLO_FASTESTV2_STAGE_CHANNELS = [24, 48, 96, 192] as const;
/** ShuffleV2 blocks per stage. */
export const YOLO_FASTESTV2_STAGE_REPEATS = [4, 8, 4] as const;
/** LightFPN width. */
export const YOLO_FASTESTV2_FPN_DEPTH = 72;

/** Options of {@link yoloFastestV2}. */
export interface YoloFastestV2Options {
  /** Default 80 (COCO). */
  numClasses?: number;
  /** Square input size, a multiple of 32. Default 352. */
  inputSize?: number;
  /**
   * Anchors `[w, h]` in input pixels: the first half for the stride-16 scale, the second half
   * for stride 32. Default: upstream's COCO anchors.
   */
  anchors?: [number, number][];
  /** Class names (length must equal numClasses). Default: COCO names for 80, else `class<i>`. */
  classNames?: string[];
}

/** The spec of a YOLO-FastestV2 detector (upstream test.py's pipeline as data). */
export function yoloFastestV2Spec(opts: Required<Pick<YoloFastestV2Options, 'inputSize' | 'anchors'>> & { classNames: string[] }): ModelSpec {
  const perScale = opts.anchors.length / 2;
  return {
    name: 'yolo-fastestv2',
    input: { size: [opts.inputSize, opts.inputSize], resize: 'stretch', channelOrder: 'BGR', scale: 1 / 255 },
    classNames: opts.classNames.slice(),
    heads: [
      { kind: 'yolov5', output: 0, anchors: opts.anchors.slice(0, perScale).map((a) => [a[0], a[1]]), stride: [16, 16], classActivation: 'softmax' },
      { kind: 'yolov5', output: 1, anchors: opts.anchors.slice(perScale).map((a) => [a[0], a[1]]), stride: [32, 32], classActivation: 'softmax' },
    ],
    multiLabel: false,
    scoreThreshold: 0.3,
    nms: { kind: 'iou', perClass: true, iouThreshold: 0.4 },
    maxDetections: 300,
  };
}

/**
 * Builds the network (random init) as a tfjs LayersModel with two outputs, NHWC:
 * `[N, S/16, S/16, 4A + A + C]` then `[N, S/32, S/32, 4A + A + C]`, channels in upstream order:
 * 4A box logits (anchor-major tx, ty, tw, th), A objectness logits, C class logits.
 */
export function buildYoloFastestV2Model(numClasses: number, inputSize: number, anchorsPerScale: number): tf.LayersModel {
  const [stem, ...stageChannels] = YOLO_FASTESTV2_STAGE_CHANNELS;
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input' });
  let x = torchConv2D({ filters: stem, kernelSize: 3, stride: 2, padding: 1, name: 'backbone.first_conv.0' })(input);
  x = torchBatchNorm('backbone.first_conv.1')(x);
  x = torchReLU('backbone.first_conv.2')(x);
  x = torchMaxPool2D({ kernelSize: 3, stride: 2, padding: 1, name: 'backbone.maxpool' })(x);

  const stageOutputs: tf.SymbolicTensor[] = [];
  let inChannels: number = stem;
  YOLO_FASTESTV2_STAGE_REPEATS.forEach((repeats, s) => {
    const out = stageChannels[s];
    for (let i = 0; i < repeats; i++) {
      const name = `backbone.stage${s + 2}.${i}`;
      x = i === 0
        ? shuffleV2Block({ inp: inChannels, oup: out, mid: out / 2, ksize: 3, stride: 2, name })(x)
        : shuffleV2Block({ inp: inChannels / 2, oup: out, mid: out / 2, ksize: 3, stride: 1, name })(x);
      inChannels = out;
    }
    stageOutputs.push(x);
  });
  const [, c2, c3] = stageOutputs; // stage2 (C1) is computed upstream but unused by the detector

  const depth = YOLO_FASTESTV2_FPN_DEPTH;
  // Scale 3 (stride 32).
  let s3 = torchConv2D({ filters: depth, kernelSize: 1, name: 'fpn.conv1x1_3.0' })(c3);
  s3 = torchBatchNorm('fpn.conv1x1_3.1')(s3);
  s3 = torchReLU('fpn.conv1x1_3.2')(s3);
  const cls3 = dwConvBlock({ channels: depth, ksize: 5, name: 'fpn.cls_head_3' })(s3);
  const reg3 = dwConvBlock({ channels: depth, ksize: 5, name: 'fpn.reg_head_3' })(s3);
  // Scale 2 (stride 16): the RAW backbone output C3 is upsampled (nearest), then [up(C3), C2].
  const up = tf.layers.upSampling2d({ size: [2, 2], name: 'fpn.upsample' }).apply(c3) as tf.SymbolicTensor;
  const p2 = tf.layers.concatenate({ axis: -1, name: 'fpn.P2_concat' }).apply([up, c2]) as tf.SymbolicTensor;
  let s2 = torchConv2D({ filters: depth, kernelSize: 1, name: 'fpn.conv1x1_2.0' })(p2);
  s2 = torchBatchNorm('fpn.conv1x1_2.1')(s2);
  s2 = torchReLU('fpn.conv1x1_2.2')(s2);
  const cls2 = dwConvBlock({ channels: depth, ksize: 5, name: 'fpn.cls_head_2' })(s2);
  const reg2 = dwConvBlock({ channels: depth, ksize: 5, name: 'fpn.reg_head_2' })(s2);

  // Output convs, each ONE layer applied at both scales (shared weights). Objectness reads
  // the class branch.
  const regLayer = tf.layers.conv2d({ filters: 4 * anchorsPerScale, kernelSize: 1, useBias: true, name: 'output_reg_layers' });
  const objLayer = tf.layers.conv2d({ filters: anchorsPerScale, kernelSize: 1, useBias: true, name: 'output_obj_layers' });
  const clsLayer = tf.layers.conv2d({ filters: numClasses, kernelSize: 1, useBias: true, name: 'output_cls_layers' });
  const head = (reg: tf.SymbolicTensor, cls: tf.SymbolicTensor, stride: number): tf.SymbolicTensor =>
    tf.layers
      .concatenate({ axis: -1, name: `output_stride${stride}` })
      .apply([regLayer.apply(reg), objLayer.apply(cls), clsLayer.apply(cls)] as tf.SymbolicTensor[]) as tf.SymbolicTensor;

  return tf.model({ inputs: input, outputs: [head(reg2, cls2, 16), head(reg3, cls3, 32)], name: 'yolo_fastestv2' });
}

/** Checks and fills in the options. */
export function resolveYoloFastestV2Options(opts: YoloFastestV2Options = {}): Required<YoloFastestV2Options> {
  const numClasses = opts.numClasses ?? (opts.classNames ? opts.classNames.length : 80);
  const inputSize = opts.inputSize ?? 352;
  const anchors = opts.anchors ?? YOLO_FASTESTV2_COCO_ANCHORS;
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`yoloFastestV2: numClasses must be a positive integer, got ${numClasses}`);
  if (!Number.isInteger(inputSize) || inputSize < 32 || inputSize % 32 !== 0) {
    throw new Error(`yoloFastestV2: inputSize must be a positive multiple of 32, got ${inputSize}`);
  }
  if (inputSize > MAX_INPUT_SIDE) {
    throw new Error(`yoloFastestV2: inputSize ${inputSize} is over the bound of ${MAX_INPUT_SIDE} pixels`);
  }
  if (!Array.isArray(anchors) || anchors.length < 2 || anchors.length % 2 !== 0) {
    throw new Error(`yoloFastestV2: anchors must be an even number (>= 2) of [w, h] pairs (half per scale), got ${Array.isArray(anchors) ? anchors.length : typeof anchors}`);
  }
  for (const a of anchors) {
    if (!Array.isArray(a) || a.length !== 2 || !(a[0] > 0) || !(a[1] > 0)) {
      throw new Error(`yoloFastestV2: each anchor must be [w, h] with w, h > 0, got ${JSON.stringify(a)}`);
    }
  }
  const classNames = opts.classNames ?? defaultClassNames(numClasses);
  if (classNames.length !== numClasses) {
    throw new Error(`yoloFastestV2: ${classNames.length} class names for numClasses ${numClasses}`);
  }
  return { numClasses, inputSize, anchors, classNames };
}

/**
 * A YOLO-FastestV2 Detector with freshly initialised weights (load real ones with
 * `yoloFastestV2FromStateDict`). `predict` returns the raw logits of both scales, stride 16
 * first, NHWC, channels: 4A box, A objectness, C classes.
 */
export function yoloFastestV2(opts: YoloFastestV2Options = {}): Detector {
  const o = resolveYoloFastestV2Options(opts);
  const model = buildYoloFastestV2Model(o.numClasses, o.inputSize, o.anchors.length / 2);
  return new Detector(model, yoloFastestV2Spec(o));
}
