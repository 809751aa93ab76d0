/** yolo-tfjs's own WebAssembly SIMD inference engine (see wasmInference.ts). */
export { compileWasmInference, KernelTrapError, PlanTooLargeError, MAX_KERNEL_MEMORY_BYTES } from './wasmInference';
export type { WasmCompiledInference, WasmInferenceOptions } from './wasmInference';
export { UnsupportedGraphError, planInference } from './planInference';
export type { InferencePlan, PlanStep, View } from './planInference';
export { wasmSimdSupported, wasmThreadsSupported } from './kernelModule';
export { defaultKernelThreads } from './threadPool';
export type { KernelThreadPoolStats } from './threadPool';
