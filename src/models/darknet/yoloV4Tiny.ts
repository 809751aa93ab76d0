/**
 * YOLOv4-tiny (Darknet `yolov4-tiny.cfg`): two stride-2 convs, three CSPOSA blocks, a
 * 13x13 head and a 26x26 head fed by the third block's 1x1 conv (cfg layer 23). Layers are
 * named after their cfg index (`conv_<i>`, `route_<i>`, ...).
 */
import * as tf from '@tensorflow/tfjs';
import { darknetConv2D, darknetConv2DBNLeaky } from '../../layers/darknetConv2D';
import { cspOSABlock } from '../../layers/cspOSA';
import { Detector } from '../../detector';
import { ModelSpec } from '../../spec';
import { darknetConvName as cn } from './darknetConvLayers';
import { DarknetModelOptions, resolveDarknetOptions, darknetHead, darknetInput } from './darknetModelOptions';
import { darknetDetectionSettings, darknetNms } from './darknetSpec';
import { TINY_YOLOV3_ANCHORS } from './tinyYoloV3';

/** yolov4-tiny.cfg anchors (the same six as yolov3-tiny). */
export const YOLOV4_TINY_ANCHORS: [number, number][] = TINY_YOLOV3_ANCHORS.map(([w, h]) => [w, h]);

/** Anchor masks of yolov4-tiny.cfg: 13x13 head, then 26x26 head (anchor 0 unused). */
export const YOLOV4_TINY_MASKS: [number[], number[]] = [[3, 4, 5], [1, 2, 3]];

/** yolov4-tiny.cfg `scale_x_y`. */
export const YOLOV4_TINY_SCALE_XY = 1.05;

/**
 * The YOLOv4-tiny network on an input tensor; outputs the two raw head convs (13x13 then
 * 26x26 at 416), each `[N, H, W, numAnchors*(5+numClasses)]`.
 */
export function yoloV4TinyBody(input: tf.SymbolicTensor, numAnchors: number, numClasses: number): tf.LayersModel {
  if (!Number.isInteger(numAnchors) || numAnchors < 1) throw new Error(`yoloV4TinyBody: numAnchors must be a positive integer, got ${numAnchors}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`yoloV4TinyBody: numClasses must be a positive integer, got ${numClasses}`);
  const conv = (filters: number, size: number, i: number, stride = 1) => darknetConv2DBNLeaky(filters, size, { stride, name: cn(i) });
  const headFilters = numAnchors * (5 + numClasses);

  let x = conv(32, 3, 0, 2)(input);
  x = conv(64, 3, 1, 2)(x);
  x = cspOSABlock(x, { filters: 64, cfgIndex: 2 }).output;
  x = cspOSABlock(x, { filters: 128, cfgIndex: 10 }).output;
  const b3 = cspOSABlock(x, { filters: 256, cfgIndex: 18 });
  x = conv(512, 3, 26)(b3.output);
  const x27 = conv(256, 1, 27)(x);
  let y1 = conv(512, 3, 28)(x27);
  y1 = darknetConv2D({ filters: headFilters, size: 1, activation: 'linear', name: cn(29) })(y1);

  let y2 = conv(128, 1, 32)(x27);
  y2 = tf.layers.upSampling2d({ size: [2, 2], name: 'upsample_33' }).apply(y2) as tf.SymbolicTensor;
  y2 = tf.layers.concatenate({ axis: -1, name: 'route_34' }).apply([y2, b3.tap]) as tf.SymbolicTensor;
  y2 = conv(256, 3, 35)(y2);
  y2 = darknetConv2D({ filters: headFilters, size: 1, activation: 'linear', name: cn(36) })(y2);
  return tf.model({ inputs: input, outputs: [y1, y2], name: 'yolov4-tiny' });
}

/**
 * YOLOv4-tiny as a `Detector` (untrained weights). Heads: 13x13 with anchors 3,4,5 and 26x26
 * with anchors 1,2,3 (as yolov4-tiny.cfg), scale_x_y 1.05, greedy DIoU NMS (`greedynms`).
 * Custom anchors: exactly 6, selected with the same masks.
 */
export function yoloV4Tiny(options: DarknetModelOptions = {}): Detector {
  const o = resolveDarknetOptions('yoloV4Tiny', options, YOLOV4_TINY_ANCHORS);
  if (o.anchors.length !== 6) {
    throw new Error(`yoloV4Tiny: needs exactly 6 anchors (masks 3,4,5 and 1,2,3 as yolov4-tiny.cfg), got ${o.anchors.length}`);
  }
  const input = tf.input({ shape: [o.inputSize[0], o.inputSize[1], 3], name: 'input' });
  const model = yoloV4TinyBody(input, 3, o.numClasses);
  const spec: ModelSpec = {
    name: 'yolov4-tiny',
    input: darknetInput(o.inputSize),
    classNames: o.classNames,
    heads: YOLOV4_TINY_MASKS.map((mask, i) => darknetHead(i, mask.map((m) => o.anchors[m]), YOLOV4_TINY_SCALE_XY)),
    ...darknetDetectionSettings(darknetNms({ nmsKind: 'greedynms', betaNms: 0.6 })),
  };
  return new Detector(model, spec);
}
