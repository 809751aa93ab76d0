/**
 * The parameter blocks of the wasm kernels, mirrored from src/engine/native/common.h: field
 * names in struct order; a name ending in `:f` is a float32, every other field an int32 (sizes,
 * strides, byte-offset pointers). `writeParams` stores one block into the module's memory.
 */

/** Activation codes of the kernels (common.h). */
export const ACT = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leaky: 3,
  sigmoid: 4,
  tanh: 5,
  elu: 6,
  swish: 7,
  mish: 8,
} as const;

export type KernelActivation = keyof typeof ACT;

export const CONV_PARAMS = ['in', 'H', 'W', 'C', 'inStride', 'out', 'OH', 'OW', 'N', 'outStride', 'weights', 'bias', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft', 'act', 'alpha:f', 'zero', 'splitBlocks'] as const;
export const DEPTHWISE_PARAMS = ['in', 'H', 'W', 'C', 'inStride', 'out', 'OH', 'OW', 'outStride', 'weights', 'bias', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft', 'act', 'alpha:f'] as const;
export const POOL_PARAMS = ['in', 'H', 'W', 'C', 'inStride', 'out', 'OH', 'OW', 'outStride', 'kh', 'kw', 'sh', 'sw', 'padTop', 'padLeft'] as const;
export const BINARY_PARAMS = ['x', 'xStride', 'y', 'yStride', 'out', 'outStride', 'pixels', 'C', 'op', 'a:f', 'b:f', 'act', 'alpha:f'] as const;
export const UNARY_PARAMS = ['x', 'xStride', 'channelStep', 'out', 'outStride', 'pixels', 'C', 'scale', 'shift', 'act', 'alpha:f'] as const;
export const UPSAMPLE_PARAMS = ['in', 'H', 'W', 'C', 'inStride', 'out', 'outStride', 'fy', 'fx'] as const;
export const PAD_PARAMS = ['in', 'H', 'W', 'C', 'inStride', 'out', 'OH', 'OW', 'outStride', 'padTop', 'padLeft', 'value:f'] as const;
export const GLOBAL_POOL_PARAMS = ['in', 'pixels', 'C', 'inStride', 'out'] as const;

/** Binary op codes of BinaryParams.op. */
export const BINARY_OP = { axpby: 0, mul: 1 } as const;

type FieldName<F extends string> = F extends `${infer N}:f` ? N : F;
/** The values of one block: every field by name (floats without the `:f`). */
export type ParamValues<L extends readonly string[]> = { [K in L[number] as FieldName<K>]: number };

/** Bytes of a block. */
export function paramBytes(layout: readonly string[]): number {
  return layout.length * 4;
}

/** Write a block at byte offset `ptr` of `memory`. Throws on a missing or non-finite field. */
export function writeParams<L extends readonly string[]>(memory: WebAssembly.Memory, ptr: number, layout: L, values: ParamValues<L>): void {
  const i32 = new Int32Array(memory.buffer, ptr, layout.length);
  const f32 = new Float32Array(memory.buffer, ptr, layout.length);
  const v = values as Record<string, number>;
  layout.forEach((field, i) => {
    const isFloat = field.endsWith(':f');
    const name = isFloat ? field.slice(0, -2) : field;
    const x = v[name];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`kernel params: field '${name}' is ${x}`);
    if (isFloat) f32[i] = x;
    else {
      if (!Number.isInteger(x)) throw new Error(`kernel params: field '${name}' must be an integer, got ${x}`);
      i32[i] = x;
    }
  });
}
