/**
 * Tiny YOLOv3 (Darknet `yolov3-tiny.cfg`, keras-yolo3 `tiny_yolo_body`): two [yolo] scales.
 * Every layer is named after its Darknet cfg index (`conv_<i>`, `maxpool_<i>`, ...), so
 * Darknet weights assign in cfg order (see `darknetConvLayers`).
 */
import * as tf from '@tensorflow/tfjs';
import { darknetConv2D, darknetConv2DBNLeaky } from '../../layers/darknetConv2D';
import { darknetMaxPool } from '../../layers/darknetMaxPool';
import { Detector } from '../../detector';
import { ModelSpec } from '../../spec';
import { darknetConvName as cn } from './darknetConvLayers';
import { DarknetModelOptions, resolveDarknetOptions, darknetHead, darknetInput } from './darknetModelOptions';
import { darknetDetectionSettings, darknetNms } from './darknetSpec';

/** Darknet's yolov3-tiny anchors (network pixels). */
export const TINY_YOLOV3_ANCHORS: [number, number][] = [
  [10, 14], [23, 27], [37, 58], [81, 82], [135, 169], [344, 319],
];

/**
 * keras-yolo3's `tiny_yolo_body` on an input tensor: returns the LayersModel whose outputs are
 * the two raw head convs, 13x13 (stride 32) first then 26x26 (stride 16), each
 * `[N, H, W, numAnchors*(5+numClasses)]`. `numAnchors` is per head (3 in Darknet).
 */
export function tinyYoloBody(input: tf.SymbolicTensor, numAnchors: number, numClasses: number): tf.LayersModel {
  if (!Number.isInteger(numAnchors) || numAnchors < 1) throw new Error(`tinyYoloBody: numAnchors must be a positive integer, got ${numAnchors}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`tinyYoloBody: numClasses must be a positive integer, got ${numClasses}`);
  const conv = (filters: number, size: number, i: number) => darknetConv2DBNLeaky(filters, size, { name: cn(i) });
  const headFilters = numAnchors * (5 + numClasses);

  let x = input;
  const filters = [16, 32, 64, 128, 256];
  let x1: tf.SymbolicTensor | undefined;
  filters.forEach((f, k) => {
    x = conv(f, 3, 2 * k)(x);
    if (k === 4) x1 = x; // layer 8, routed by layer 20
    x = darknetMaxPool(x, { size: 2, stride: 2, name: `maxpool_${2 * k + 1}` });
  });
  x = conv(512, 3, 10)(x);
  x = darknetMaxPool(x, { size: 2, stride: 1, name: 'maxpool_11' });
  x = conv(1024, 3, 12)(x);
  const x2 = conv(256, 1, 13)(x);
  let y1 = conv(512, 3, 14)(x2);
  y1 = darknetConv2D({ filters: headFilters, size: 1, activation: 'linear', name: cn(15) })(y1);

  let y2 = conv(128, 1, 18)(x2);
  y2 = tf.layers.upSampling2d({ size: [2, 2], name: 'upsample_19' }).apply(y2) as tf.SymbolicTensor;
  y2 = tf.layers.concatenate({ axis: -1, name: 'route_20' }).apply([y2, x1 as tf.SymbolicTensor]) as tf.SymbolicTensor;
  y2 = conv(256, 3, 21)(y2);
  y2 = darknetConv2D({ filters: headFilters, size: 1, activation: 'linear', name: cn(22) })(y2);
  return tf.model({ inputs: input, outputs: [y1, y2], name: 'yolov3-tiny' });
}

/**
 * Tiny YOLOv3 as a `Detector` (untrained weights; load Darknet weights into it by cfg order).
 * Outputs in cfg order: 13x13 head (mask 3,4,5) then 26x26 head (mask 0,1,2).
 */
export function tinyYoloV3(options: DarknetModelOptions = {}): Detector {
  const o = resolveDarknetOptions('tinyYoloV3', options, TINY_YOLOV3_ANCHORS);
  if (o.anchors.length % 2 !== 0) {
    throw new Error(`tinyYoloV3: needs an even number of anchors (half per head), got ${o.anchors.length}`);
  }
  const perHead = o.anchors.length / 2;
  const input = tf.input({ shape: [o.inputSize[0], o.inputSize[1], 3], name: 'input' });
  const model = tinyYoloBody(input, perHead, o.numClasses);
  const spec: ModelSpec = {
    name: 'yolov3-tiny',
    input: darknetInput(o.inputSize),
    classNames: o.classNames,
    heads: [
      darknetHead(0, o.anchors.slice(perHead), 1),
      darknetHead(1, o.anchors.slice(0, perHead), 1),
    ],
    ...darknetDetectionSettings(darknetNms({ nmsKind: 'default', betaNms: 0.6 })),
  };
  return new Detector(model, spec);
}
