/**
 * The parameter blocks of the wasm kernels: the layouts (field names in struct order; a name
 * ending in `:f` is a float32, every other field an int32: sizes, strides, byte-offset pointers)
 * are generated with the C structs (native/params.h) from scripts/kernel-params.js into
 * kernelLayouts.ts. `writeParams` stores one block into the module's memory.
 */

export * from './kernelLayouts';
import { ACT } from './kernelLayouts';

export type KernelActivation = keyof typeof ACT;

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
