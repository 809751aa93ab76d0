/**
 * `yolo-tfjs/engine`: the pieces `Detector` runs, for custom pipelines: preprocessing and its
 * exact inverse, the fast inference paths (fused tfjs graph, our wasm SIMD kernels), decode,
 * candidate selection, NMS and postprocessing.
 */
import '../layers'; // registers every custom layer

// Image -> network input, and the inverse mapping
export { loadImage } from '../image/loadImage';
export type { ImageInput, LoadedImage, LoadImageOptions } from '../image/loadImage';
export { preprocessImage } from '../preprocess/preprocess';
export type { PreprocessResult } from '../preprocess/preprocess';
export { resizeGeometry, unmapBoxes } from '../preprocess/geometry';
export type { ResizeGeometry } from '../preprocess/geometry';

// Network: fast inference
export { compileInference, enableFastInference, disposeFastInference, registerInferenceOp, unregisterInferenceOp } from '../infer';
export type { CompileOptions, CompiledInference, InferenceOpFn } from '../infer';
export { compileWasmInference, UnsupportedGraphError, wasmSimdSupported, wasmThreadsSupported, defaultKernelThreads } from '../engine';
export type { WasmCompiledInference, WasmInferenceOptions, KernelThreadPoolStats } from '../engine';

// Raw outputs -> detections
export { decodeOutputs } from '../decode/decode';
export type { DecodedOutputs } from '../decode/decode';
export { generateAnchors, gridAnchors, anchorCount } from '../decode/anchors';
export type { AnchorGridOptions } from '../decode/anchors';
export { selectCandidates, topK } from '../select/selectCandidates';
export type { Candidates } from '../select/selectCandidates';
export { resolveClassFilter } from '../select/classFilter';
export { suppress, boxIou, boxDiou } from '../nms/nms';
export { postprocessOutputs } from '../postprocess/postprocess';
