/** The fast inference path: compile a LayersModel into fused tfjs ops. */
export { compileInference, inferenceGraph, applyActivation } from './compileInference';
export type { CompileOptions, CompiledInference, LeakyMode } from './compileInference';
export { enableFastInference, disposeFastInference } from './enableFastInference';
export { registerInferenceOp, unregisterInferenceOp } from './registerInferenceOp';
export type { InferenceOpFn } from './registerInferenceOp';
export { buildInferenceGraph, BUILTIN_INFERENCE_CLASSES } from './buildInferenceGraph';
export type { BuildGraphOptions } from './buildInferenceGraph';
export { optimizeGraph } from './optimizeGraph';
export type { OptimizeOptions } from './optimizeGraph';
export type { IRGraph, IRNode, IROp, IRActivation, IRPadding } from './ir';
