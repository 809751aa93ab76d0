/**
 * onnxruntime-node inside Jest. Jest runs tests in a vm context whose `Float32Array` differs
 * from the one the native binding creates its outputs with, so ort's `instanceof` checks
 * fail ("A float32 tensor's data must be type of Float32Array"). We load ort while the
 * sandbox's `Float32Array` global is the main realm's (ort captures the constructor at load
 * time), restore it at once, and give ort main-realm arrays as inputs.
 */
import * as vm from 'vm';

type Ctor = Float32ArrayConstructor;

export interface OrtInJest {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ort: any;
  /** Copy into a Float32Array of the realm ort checks against. */
  toOrtF32(a: ArrayLike<number>): Float32Array;
}

export function loadOrtInJest(): OrtInJest {
  const MainF32 = vm.runInThisContext('Float32Array') as Ctor;
  const g = globalThis as unknown as { Float32Array: Ctor };
  const own = g.Float32Array;
  g.Float32Array = MainF32;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const ort = require('onnxruntime-node');
    return { ort, toOrtF32: (a) => MainF32.from(a) };
  } finally {
    g.Float32Array = own;
  }
}
