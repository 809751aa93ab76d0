/** Detection evaluation: COCO (pycocotools rules) and Pascal VOC (chainercv rules). */
export { cocoEvaluate } from './cocoEvaluate';
export type { CocoEvalResult, CocoStats, CocoClassResult, CocoEvalArrays, CocoEvaluateOptions } from './cocoEvaluate';
export { vocEvaluate, vocAveragePrecision } from './vocEvaluate';
export type { VocEvalResult, VocClassResult, VocEvaluateOptions } from './vocEvaluate';
export { formatApTable } from './formatApTable';
export type { CocoGroundTruth, CocoDetection, CocoAnnotation, CocoImage, CocoCategory } from './cocoFormat';
