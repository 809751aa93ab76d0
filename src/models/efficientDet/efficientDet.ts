/**
 * EfficientDet D0-D7 (zylo117/Yet-Another-EfficientDet-Pytorch): EfficientNet backbone,
 * BiFPN, shared box/class heads. `predict` returns `[regression [N, K, 4], classification
 * [N, K, C]]` exactly as upstream (raw (dy, dx, dh, dw); sigmoid probabilities), K anchors in
 * the order level -> y -> x -> anchor (see `gridAnchors` in src/decode/anchors.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../detector';
import { ModelSpec, AnchorDeltasHeadSpec, MAX_CLASSES, MAX_INPUT_SIDE } from '../../spec';
import { efficientNet } from '../../layers/efficientNet';
import { biFPN } from '../../layers/biFPN';
import { efficientDetRegressor, efficientDetClassifier } from './heads';
import { anchorCount } from '../../decode/anchors';
import { WeightInit } from '../../layers/weightInit';

/** Compound-scaling row of one EfficientDet variant. */
export interface EfficientDetConfig {
  phi: number;
  /** EfficientNet-B{backbone}. */
  backbone: number;
  inputSize: number;
  /** BiFPN / head width. */
  channels: number;
  /** BiFPN layers. */
  bifpnRepeats: number;
  /** Separable convs per head before the header. */
  headDepth: number;
  anchorScale: number;
  /** Fast normalised fusion (zylo117: D0-D5) or plain sum (D6, D7). */
  attention: boolean;
}

const BACKBONE = [0, 1, 2, 3, 4, 5, 6, 6];
const INPUT = [512, 640, 768, 896, 1024, 1280, 1280, 1536];
const WIDTH = [64, 88, 112, 160, 224, 288, 384, 384];
const BIFPN_REPEATS = [3, 4, 5, 6, 7, 7, 8, 8];
const HEAD_DEPTH = [3, 3, 3, 4, 4, 4, 5, 5];
const ANCHOR_SCALE = [4, 4, 4, 4, 4, 4, 4, 5];

/** The compound-scaling table of zylo117's `EfficientDetBackbone` for phi 0..7. */
export function efficientDetConfig(phi: number): EfficientDetConfig {
  if (!Number.isInteger(phi) || phi < 0 || phi > 7) throw new Error(`EfficientDet phi must be an integer 0..7, got ${phi}`);
  return {
    phi,
    backbone: BACKBONE[phi],
    inputSize: INPUT[phi],
    channels: WIDTH[phi],
    bifpnRepeats: BIFPN_REPEATS[phi],
    headDepth: HEAD_DEPTH[phi],
    anchorScale: ANCHOR_SCALE[phi],
    attention: phi < 6,
  };
}

/** zylo117's COCO `obj_list`: 90 entries (the original category ids), '' for unused ids. */
export const EFFICIENTDET_COCO_CLASSES: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', '', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep',
  'cow', 'elephant', 'bear', 'zebra', 'giraffe', '', 'backpack', 'umbrella', '', '', 'handbag', 'tie',
  'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove',
  'skateboard', 'surfboard', 'tennis racket', 'bottle', '', 'wine glass', 'cup', 'fork', 'knife', 'spoon',
  'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut',
  'cake', 'chair', 'couch', 'potted plant', 'bed', '', 'dining table', '', '', 'toilet', '', 'tv',
  'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
  'refrigerator', '', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

/** Options of {@link efficientDet}. */
export interface EfficientDetOptions {
  /** Compound coefficient 0..7. */
  phi: number;
  /** Class count (default 90, zylo117's COCO list). */
  numClasses?: number;
  /** Class names (length = numClasses). Default: the COCO-90 list for 90, else `class{i}`. */
  classNames?: string[];
  /**
   * Override the network input side (multiple of 128). Default: the variant's (512..1536).
   * Parameter counts do not depend on it; anchors and outputs do.
   */
  inputSize?: number;
  /**
   * Kernel initialisation: 'random' (default, tfjs defaults) or 'zeros' (fast; for weights that
   * are loaded right after building).
   */
  init?: WeightInit;
}

/** Levels, scales and ratios zylo117 uses for COCO. */
export const EFFICIENTDET_LEVELS = [3, 4, 5, 6, 7];
export const EFFICIENTDET_SCALES = [2 ** 0, 2 ** (1.0 / 3.0), 2 ** (2.0 / 3.0)];
export const EFFICIENTDET_RATIOS: [number, number][] = [[1.0, 1.0], [1.4, 0.7], [0.7, 1.4]];

/** The `ModelSpec` of an EfficientDet variant (preprocess, anchors, decode, NMS as upstream). */
export function efficientDetSpec(o: EfficientDetOptions): ModelSpec {
  const cfg = efficientDetConfig(o.phi);
  const size = o.inputSize ?? cfg.inputSize;
  const numClasses = o.numClasses ?? o.classNames?.length ?? 90;
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`EfficientDet numClasses must be an integer >= 1, got ${numClasses}`);
  if (numClasses > MAX_CLASSES) throw new Error(`EfficientDet numClasses ${numClasses} is over the bound of ${MAX_CLASSES}`);
  const classNames = o.classNames ?? (numClasses === 90 ? EFFICIENTDET_COCO_CLASSES.slice() : Array.from({ length: numClasses }, (_, i) => `class${i}`));
  if (classNames.length !== numClasses) throw new Error(`EfficientDet: classNames has ${classNames.length} entries for numClasses ${numClasses}`);
  if (!Number.isInteger(size) || size < 128 || size % 128 !== 0) {
    throw new Error(`EfficientDet inputSize must be a positive multiple of 128 (the P7 stride), got ${size}`);
  }
  if (size > MAX_INPUT_SIDE) throw new Error(`EfficientDet inputSize ${size} is over the bound of ${MAX_INPUT_SIDE} pixels`);
  const head: AnchorDeltasHeadSpec = {
    kind: 'anchor-deltas',
    regressionOutput: 0,
    classificationOutput: 1,
    levels: EFFICIENTDET_LEVELS.slice(),
    anchorScale: cfg.anchorScale,
    scales: EFFICIENTDET_SCALES.slice(),
    ratios: EFFICIENTDET_RATIOS.map((r) => [r[0], r[1]] as [number, number]),
    clip: true,
  };
  return {
    name: `efficientdet-d${o.phi}`,
    input: {
      size: [size, size],
      resize: 'letterbox',
      letterbox: { align: 'top-left', padValue: 0 },
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    classNames,
    heads: [head],
    // upstream postprocess: max class per anchor, score > threshold (efficientdet_test.py 0.2),
    // torchvision batched_nms (per class, IoU 0.2), no cap.
    multiLabel: false,
    scoreThreshold: 0.2,
    nms: { kind: 'iou', perClass: true, iouThreshold: 0.2 },
    maxDetections: 0,
  };
}

/** The symbolic graph of an EfficientDet, with its intermediate taps (for tests and tools). */
export interface EfficientDetGraph {
  model: tf.LayersModel;
  spec: ModelSpec;
  config: EfficientDetConfig;
  input: tf.SymbolicTensor;
  /** Backbone p3, p4, p5. */
  backbone: tf.SymbolicTensor[];
  /** Each BiFPN layer's [P3..P7]; the last is the final pyramid. */
  bifpn: tf.SymbolicTensor[][];
  regression: tf.SymbolicTensor;
  classification: tf.SymbolicTensor;
}

/** Build the EfficientDet LayersModel and its taps. Weights are randomly initialised. */
export function efficientDetGraph(o: EfficientDetOptions): EfficientDetGraph {
  const spec = efficientDetSpec(o);
  const cfg = efficientDetConfig(o.phi);
  const [size] = spec.input.size;
  const numClasses = spec.classNames.length;
  const input = tf.input({ shape: [size, size, 3], name: 'input' });
  const bb = efficientNet(input, { variant: cfg.backbone, prefix: 'backbone_net.model', init: o.init });
  const backbone = [bb.p3, bb.p4, bb.p5];
  const pyramid = biFPN({ channels: cfg.channels, repeats: cfg.bifpnRepeats, attention: cfg.attention, init: o.init })(backbone);
  const features = pyramid[pyramid.length - 1];
  const nA = EFFICIENTDET_SCALES.length * EFFICIENTDET_RATIOS.length;
  const regression = efficientDetRegressor(features, { channels: cfg.channels, depth: cfg.headDepth, numAnchors: nA, init: o.init });
  const classification = efficientDetClassifier(features, { channels: cfg.channels, depth: cfg.headDepth, numAnchors: nA, numClasses, init: o.init });
  const head = spec.heads[0] as AnchorDeltasHeadSpec;
  const K = anchorCount({ ...head, inputSize: size });
  if (regression.shape[1] !== K) throw new Error(`internal: head has ${regression.shape[1]} anchors, anchor generator ${K}`);
  const model = tf.model({ inputs: input, outputs: [regression, classification], name: spec.name });
  return { model, spec, config: cfg, input, backbone, bifpn: pyramid, regression, classification };
}

/**
 * EfficientDet-D{phi} as a `Detector` (random weights; load upstream weights with
 * `efficientDetFromStateDict`). `predict` returns `[regression [N, K, 4], classification [N, K, C]]`.
 */
export function efficientDet(o: EfficientDetOptions): Detector {
  const g = efficientDetGraph(o);
  return new Detector(g.model, g.spec);
}
