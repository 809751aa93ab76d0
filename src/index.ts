/**
 * yolo-tfjs: light real-time object detectors on TensorFlow.js with the original authors'
 * weights and the same boxes.
 *
 * This entry holds what an application uses: loading (`load`, `loadDarknet`, `loadPytorch`),
 * the model builders, `Detector`, spec types, backend choice, evaluation and drawing. The rest
 * is under subpaths: `yolo-tfjs/train`, `yolo-tfjs/eval`, `yolo-tfjs/layers`,
 * `yolo-tfjs/weights`, `yolo-tfjs/engine`, `yolo-tfjs/export` (and `yolo-tfjs/prune`).
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

// Image input (for calling `predict` directly; `detect` does this itself)
export { preprocessImage, loadImage } from './preprocess/preprocess';
export type { PreprocessResult, ImageInput } from './preprocess/preprocess';

// Models: builders (random init) and loaders of published weights
export { tinyYoloV3 } from './models/darknet/tinyYoloV3';
export { yoloV4Tiny } from './models/darknet/yoloV4Tiny';
export type { DarknetModelOptions } from './models/darknet/darknetModelOptions';
export { yoloFastestV2 } from './models/yoloFastestV2/yoloFastestV2';
export type { YoloFastestV2Options } from './models/yoloFastestV2/yoloFastestV2';
export { efficientDet } from './models/efficientDet/efficientDet';
export type { EfficientDetOptions } from './models/efficientDet/efficientDet';
export { rfsong } from './models/rfsong/rfsong';
export type { RfsongOptions } from './models/rfsong/rfsong';
export { scaledYolov4 } from './models/scaledYolov4/scaledYolov4';
export type { ScaledYolov4Options } from './models/scaledYolov4/scaledYolov4';
export { loadDarknet } from './models/darknet/loadDarknet';
export type { LoadDarknetOptions } from './models/darknet/loadDarknet';
export { loadPytorch, PYTORCH_ARCHS } from './models/loadPytorch';
export type { LoadPytorchOptions } from './models/loadPytorch';

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

// Drawing
export { drawDetections, detectionsSvg, classColor } from './draw/drawDetections';
