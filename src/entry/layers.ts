/**
 * `yolo-tfjs/layers`: the layer builders and custom layers, and the networks built from them
 * (model bodies, specs, graphs and their constants), for building or changing networks.
 */
export * from '../layers';

// Models: bodies, specs, graphs and constants
export { tinyYoloV3, tinyYoloBody, TINY_YOLOV3_ANCHORS } from '../models/darknet/tinyYoloV3';
export { yoloV4Tiny, yoloV4TinyBody, YOLOV4_TINY_ANCHORS } from '../models/darknet/yoloV4Tiny';
export { yoloFastestV2, yoloFastestV2Spec, YOLO_FASTESTV2_COCO_ANCHORS } from '../models/yoloFastestV2/yoloFastestV2';
export type { YoloFastestV2Options } from '../models/yoloFastestV2/yoloFastestV2';
export {
  efficientDet,
  efficientDetSpec,
  efficientDetGraph,
  efficientDetConfig,
  EFFICIENTDET_COCO_CLASSES,
  EFFICIENTDET_LEVELS,
  EFFICIENTDET_SCALES,
  EFFICIENTDET_RATIOS,
} from '../models/efficientDet/efficientDet';
export type { EfficientDetOptions, EfficientDetConfig, EfficientDetGraph } from '../models/efficientDet/efficientDet';
export { efficientDetHead, efficientDetRegressor, efficientDetClassifier } from '../models/efficientDet/heads';
export type { EfficientDetHeadOptions } from '../models/efficientDet/heads';
export { buildDarknetModel } from '../models/darknet/darknetCfg';
export { darknetModelSpec } from '../models/darknet/darknetSpec';
export { rfsong } from '../models/rfsong/rfsong';
export type { RfsongOptions } from '../models/rfsong/rfsong';

