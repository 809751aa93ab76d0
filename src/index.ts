/**
 * yolo-tfjs: light real-time object detectors on TensorFlow.js with the original authors'
 * weights and the same boxes.
 *
 * ```ts
 * import { tinyYoloV3, yoloFastestV2, efficientDet, loadDarknet, load } from 'yolo-tfjs';
 * const detector = await load(); // the embedded Yolo-Fastest 1.1 COCO; or load('yolo-fastestv2-coco')
 * const boxes = await detector.detect('image.jpg');
 * ```
 */
import './layers'; // registers every custom layer for (de)serialisation

// Core
export { Detector } from './detector';
export type { Detection, DetectOptions, PostprocessOptions, InferenceEngine, InferenceInfo } from './detector';
export type {
  VideoSource,
  VideoElementLike,
  CanvasLike,
  VideoResultCallback,
  VideoFrameInfo,
  DetectVideoOptions,
  VideoStopHandle,
  VideoRunSummary,
} from './video/detectVideo';
export * from './spec';
export { ready, setBackend, backendInfo, autoSelectBackend, disposeBackend, defaultThreadCount } from './backend';
export type { BackendInfo, BackendOptions, AutoSelectOptions, ModuleLoader } from './backend';

// Decode, NMS, preprocessing (shared by every model)
export { postprocessOutputs } from './postprocess/postprocess';
export { decodeOutputs } from './decode/decode';
export type { DecodedOutputs } from './decode/decode';
export { suppress, boxIou, boxDiou } from './nms/nms';
export { resizeGeometry, unmapBoxes } from './preprocess/geometry';
export type { ResizeGeometry } from './preprocess/geometry';
export { preprocessImage, loadImage } from './preprocess/preprocess';
export type { PreprocessResult, ImageInput } from './preprocess/preprocess';
export { generateAnchors, gridAnchors, anchorCount } from './decode/anchors';
export type { AnchorGridOptions } from './decode/anchors';

// Fast inference (BN folded, fused convs; our wasm kernels) and ONNX export
export { compileInference, enableFastInference, disposeFastInference, registerInferenceOp, unregisterInferenceOp } from './infer';
export type { CompileOptions, CompiledInference, InferenceOpFn } from './infer';
export { compileWasmInference, UnsupportedGraphError, wasmSimdSupported, wasmThreadsSupported, defaultKernelThreads } from './engine';
export type { WasmCompiledInference, WasmInferenceOptions, KernelThreadPoolStats } from './engine';
export { exportOnnx, ONNX_OPSET } from './export/onnx';
export type { ExportOnnxOptions } from './export/onnx';

// Layers
export * from './layers';

// Models
export { tinyYoloV3, tinyYoloBody, TINY_YOLOV3_ANCHORS } from './models/darknet/tinyYoloV3';
export { yoloV4Tiny, yoloV4TinyBody, YOLOV4_TINY_ANCHORS } from './models/darknet/yoloV4Tiny';
export { yoloFastestV2, yoloFastestV2Spec, YOLO_FASTESTV2_COCO_ANCHORS } from './models/yoloFastestV2/yoloFastestV2';
export { yoloFastestV2FromStateDict, exportYoloFastestV2StateDict } from './models/yoloFastestV2/fromStateDict';
export type { YoloFastestV2Options } from './models/yoloFastestV2/yoloFastestV2';
export {
  efficientDet,
  efficientDetSpec,
  efficientDetGraph,
  efficientDetConfig,
  EFFICIENTDET_COCO_CLASSES,
  EFFICIENTDET_LEVELS,
  EFFICIENTDET_SCALES,
  EFFICIENTDET_RATIOS,
} from './models/efficientDet/efficientDet';
export type { EfficientDetOptions, EfficientDetConfig, EfficientDetGraph } from './models/efficientDet/efficientDet';
export { efficientDetHead, efficientDetRegressor, efficientDetClassifier } from './models/efficientDet/heads';
export type { EfficientDetHeadOptions } from './models/efficientDet/heads';
export { efficientDetFromStateDict, efficientDetFromPytorch } from './models/efficientDet/fromStateDict';
export { efficientDetKeyTable } from './models/efficientDet/keyMap';
export { loadDarknet } from './models/darknet/loadDarknet';
export type { LoadDarknetOptions } from './models/darknet/loadDarknet';
export { buildDarknetModel, setDarknetWeights } from './models/darknet/darknetCfg';
export { darknetModelSpec } from './models/darknet/darknetSpec';
export { copyLayerWeights } from './models/copyLayerWeights';

// Weights
export { parseDarknetCfg } from './weights/parseDarknetCfg';
export type { DarknetCfg } from './weights/parseDarknetCfg';
export { readDarknetWeights, darknetWeightsFloatCount } from './weights/readDarknetWeights';
export { readPytorchStateDict } from './weights/readPytorchStateDict';
export type { ReadPytorchOptions } from './weights/readPytorchStateDict';
export { readSafetensors } from './weights/readSafetensors';
export { writeSafetensors } from './weights/writeSafetensors';
export { writePytorchStateDict } from './weights/writePytorchStateDict';
export { loadPytorch, PYTORCH_ARCHS } from './models/loadPytorch';
export { FAMILIES, familyByName, familyOfSpec } from './models/families';
export type { Family, FamilyParts, ClassLayer, StateDictLoadOptions } from './models/families';
export type { LoadPytorchOptions } from './models/loadPytorch';
export { assignStateDict, exportStateDict } from './weights/assignStateDict';
export type { TensorMap, NamedTensor } from './weights/tensorMap';

// Saving, loading, registry
export { saveDetector } from './io/saveDetector';
export type { DetectorLike } from './io/saveDetector';
export { loadDetectorFromDir, isDetectorFolder } from './io/loadDetectorFromDir';
export { loadDetectorFromUrl } from './io/loadDetectorFromUrl';
export { load } from './registry/load';
export type { LoadOptions } from './registry/load';
export { loadEmbeddedModel, EMBEDDED_MODEL_NAME } from './registry/embeddedModel';
export type { EmbeddedModelOptions } from './registry/embeddedModel';
export { setModelBaseUrl, modelBaseUrl, registryModelUrl, DEFAULT_MODEL_BASE_URL } from './registry/loadFromModelBaseUrl';
export { REGISTRY, registryNames, getRegistryEntry } from './registry/registry';
export type { RegistryEntry, RegistryFile } from './registry/registry';
export { cacheRoot } from './registry/cache';

// Evaluation
export { cocoEvaluate, vocEvaluate, vocAveragePrecision, formatApTable } from './eval';
export type {
  CocoEvalResult,
  CocoStats,
  CocoClassResult,
  CocoEvaluateOptions,
  VocEvalResult,
  VocClassResult,
  VocEvaluateOptions,
  CocoGroundTruth,
  CocoDetection,
  CocoAnnotation,
  CocoImage,
  CocoCategory,
} from './eval';

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
} from './train/data';
export type { DatasetBox, DatasetImage, DetectionDataset, DatasetWarning, DatasetFormat } from './train/data';
export { kmeansAnchors } from './train/kmeansAnchors';
export type { KmeansAnchorsOptions, KmeansAnchorsResult } from './train/kmeansAnchors';

// Training
export { train, trainStep } from './train/train';
export type { TrainOptions, TrainResult, StepLog, EpochLog } from './train/train';
export { evaluate } from './train/evaluate';
export type { EvaluateOptions, EvaluateResult } from './train/evaluate';
export { augment, augmentWithParams, mosaic, DEFAULT_AUGMENT } from './train/augment';
export type { AugmentOptions, TrainBox, AugmentedSample } from './train/augment';
export { batches, epochOrder, batchCount } from './train/batches';
export type { TrainBatch, BatchOptions } from './train/batches';
export { withClasses } from './train/withClasses';
export type { WithClassesOptions } from './train/withClasses';
export { applyFreeze } from './train/modelParts';
export type { FreezeSpec } from './train/modelParts';
export { renderSyntheticImage, writeSyntheticDataset, SYNTHETIC_CLASSES } from './train/syntheticDataset';
export { learningRateAt } from './train/schedule';
export { WeightEma } from './train/ema';
export { renderPlot, writeCurvesPng } from './train/plotCurves';
export { saveCheckpoint, loadCheckpoint } from './train/checkpoint';

export { lossForSpec, darknetAnchorsFromSpec } from './train/lossForSpec';
export type { LossForSpecOptions, TrainLoss } from './train/lossForSpec';
export {
  yoloV3Loss,
  preprocessTrueBoxes,
  yoloFastestV2Loss,
  buildYoloFastestV2Targets,
  efficientDetLoss,
  assignEfficientDetAnchors,
} from './train/losses';
export type { LossTerms, GroundTruthBox } from './train/losses';
export { registerWasmTrainingKernels, registerCpuTrainingFixes } from './train/wasmGradients';

// Utilities
export { drawDetections, detectionsSvg, classColor } from './draw/drawDetections';
export { ProgressBar } from './util/progress';
