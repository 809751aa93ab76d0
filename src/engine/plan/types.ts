/**
 * What the planner produces: views of flat memory, constants, and kernel calls (steps).
 */
import type { KernelName } from '../kernelModule';

/** A node the wasm engine cannot run (the caller falls back to the tfjs graph). */
export class UnsupportedGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedGraphError';
  }
}

/** A tensor view of one image: `pixels` rows of `C` floats, `stride` floats apart. */
export interface View {
  storage: number;
  /** Offset in floats from the storage's start. */
  offset: number;
  H: number;
  W: number;
  C: number;
  stride: number;
}

/** An activation buffer. */
export interface StorageInfo {
  floats: number;
}

/** Constant data a step needs (packed weights, ...), placed once in the module's memory. */
export interface ConstRef {
  data: Float32Array;
}

export type Layout = readonly string[];

/**
 * One kernel call. `params` builds the parameter block from the resolved byte addresses of
 * views and constants.
 */
export interface PlanStep {
  kernel: KernelName;
  layout: Layout;
  params(addr: (v: View) => number, constAddr: (c: ConstRef) => number): Record<string, number>;
  /** Work units and the split granularity. */
  total: number;
  grain: number;
  /** Rough multiply-adds, to decide whether threads pay off. */
  cost: number;
  reads: View[];
  writes: View[];
  /** The IR node it came from (for profiles). */
  layer: string;
}

/** The whole plan. */
export interface InferencePlan {
  storages: StorageInfo[];
  consts: ConstRef[];
  steps: PlanStep[];
  input: View;
  outputs: { view: View; shape: number[] }[];
  /** Floats of zeros a conv may read for padded taps. */
  zeroFloats: number;
}

/** Packs a filter for a kernel (see packConvWeights / packDepthwiseWeights). */
export type PackFn = (filter: Float32Array, shape: readonly [number, number, number, number], bias: Float32Array | null) => { weights: Float32Array; bias: Float32Array };
