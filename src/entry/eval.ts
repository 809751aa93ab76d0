/**
 * `yolo-tfjs/eval`: detection evaluation (COCO with pycocotools rules, Pascal VOC with
 * chainercv rules) and the conversions between datasets, detections and COCO JSON.
 */
export * from '../eval';
export { readYoloPredictions, readVocResults, toCocoGt, cocoToDataset, toCocoResults } from '../train/data';
export { evaluate } from '../train/evaluate';
export type { EvaluateOptions, EvaluateResult } from '../train/evaluate';
