/**
 * `yolo-tfjs/train`: training (datasets, augmentation, batches, losses, freezing, class
 * changes, EMA, schedules, checkpoints, curves) and anchor k-means.
 */
import '../layers'; // registers every custom layer
// Datasets and anchors
export {
  readYoloDataset,
  readVocDataset,
  readCocoDataset,
  readDataset,
  readYoloPredictions,
  readVocResults,
  toCocoGt,
  cocoToDataset,
  toCocoResults,
  readImageSize,
} from '../train/data';
export type { DatasetBox, DatasetImage, DetectionDataset, DatasetWarning, DatasetFormat } from '../train/data';
export { kmeansAnchors } from '../train/kmeansAnchors';
export type { KmeansAnchorsOptions, KmeansAnchorsResult } from '../train/kmeansAnchors';

// Training
export { train } from '../train/train';
export { trainStep } from '../train/trainStep';
export type { TrainOptions, TrainResult, StepLog, EpochLog } from '../train/trainOptions';
export { evaluate } from '../train/evaluate';
export type { EvaluateOptions, EvaluateResult } from '../train/evaluate';
export { augment, augmentWithParams, mosaic, DEFAULT_AUGMENT } from '../train/augment';
export type { AugmentOptions, TrainBox, AugmentedSample } from '../train/augment';
export { batches, epochOrder, batchCount } from '../train/batches';
export type { TrainBatch, BatchOptions } from '../train/batches';
export { withClasses } from '../train/withClasses';
export type { WithClassesOptions } from '../train/withClasses';
export { applyFreeze } from '../train/modelParts';
export type { FreezeSpec } from '../train/modelParts';
export { renderSyntheticImage, writeSyntheticDataset, SYNTHETIC_CLASSES } from '../train/syntheticDataset';
export { learningRateAt } from '../train/schedule';
export { WeightEma } from '../train/ema';
export { renderPlot, writeCurvesPng } from '../train/plotCurves';
export { saveCheckpoint, loadCheckpoint } from '../train/checkpoint';

export { lossForSpec, darknetAnchorsFromSpec } from '../train/lossForSpec';
export type { LossForSpecOptions, TrainLoss } from '../train/lossForSpec';
export {
  yoloV3Loss,
  preprocessTrueBoxes,
  yoloFastestV2Loss,
  buildYoloFastestV2Targets,
  efficientDetLoss,
  assignEfficientDetAnchors,
} from '../train/losses';
export type { LossTerms, GroundTruthBox } from '../train/losses';
export { registerWasmTrainingKernels, registerCpuTrainingFixes } from '../train/wasmGradients';

export { ProgressBar } from '../util/progress';
