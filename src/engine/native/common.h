/*
 * yolo-tfjs inference kernels: shared definitions.
 *
 * Every kernel has the signature `void name(const int32_t* params, int r0, int r1)`:
 * `params` points at the kernel's parameter block (one of the structs of params.h, written once
 * by the JavaScript planner, src/engine/kernelParams.ts) and [r0, r1) is the slice of the work
 * this call does (the unit is named per kernel), so that a thread pool can split any kernel.
 *
 * Tensors are float32 NHWC views of ONE image: pixel p = y * W + x starts at
 * `base + p * stride` (stride in floats, >= C, so a view can be a channel slice of a wider
 * buffer: concatenation costs nothing). A stride of 0 broadcasts one C-vector to every pixel.
 * Pointers are byte offsets into the module's memory, stored as int32 in the blocks.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define PTR(T, v) ((T*)(uintptr_t)(v))

/* acc + a * b. With relaxed SIMD (the `-relaxed` builds) one fused multiply-add where the CPU
   has it (~1.25x faster convolutions; rounding differs from mul + add by an ulp). */
static inline __attribute__((always_inline)) v128_t f32x4_madd(v128_t acc, v128_t a, v128_t b) {
#ifdef __wasm_relaxed_simd__
  return __builtin_wasm_relaxed_madd_f32x4(a, b, acc);
#else
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
#endif
}

/* The parameter blocks (one struct per kernel) and the activation / op codes, generated from
   scripts/kernel-params.js together with their TypeScript mirror src/engine/kernelLayouts.ts. */
#include "params.h"
