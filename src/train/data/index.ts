/**
 * Dataset readers (YOLO txt, Pascal VOC XML, COCO JSON) into one common format, conversions
 * to COCO ground truth / results, and readers for detection results. The `read*` functions
 * are Node-only (they load fs lazily); the parsers and converters are pure.
 */
export type {
  DatasetBox,
  DatasetImage,
  DetectionDataset,
  DatasetWarning,
  DatasetWarningKind,
  ReadDatasetOptions,
  ReadDatasetResult,
} from './dataset';
export { formatDatasetWarning } from './dataset';
export { readYoloDataset } from './readYoloDataset';
export type { YoloDatasetSource, ReadYoloOptions } from './readYoloDataset';
export { readVocDataset } from './readVocDataset';
export type { ReadVocOptions } from './readVocDataset';
export { readCocoDataset } from './readCocoDataset';
export type { ReadCocoOptions } from './readCocoDataset';
export { readDataset } from './readDataset';
export type { DatasetFormat } from './readDataset';
export { toCocoGt, cocoToDataset, toCocoResults, categoryIdOf } from './cocoConvert';
export type { DatasetDetection, ToCocoGtOptions } from './cocoConvert';
export { readYoloPredictions, readVocResults } from './readDetections';
export { parseImageSize, readImageSize } from './imageSize';
export type { ImageSize } from './imageSize';
export { parseXml } from './xml';
export { parseYoloText, parseClassNames } from './yoloLabels';
export { parseVocAnnotation } from './vocAnnotation';
