/*
 * yolo-tfjs inference kernels: shared definitions.
 *
 * Every kernel has the signature `void name(const int32_t* params, int r0, int r1)`:
 * `params` points at the kernel's parameter block (one of the structs below, written once by
 * the JavaScript planner, src/engine/kernelParams.ts) and [r0, r1) is the slice of the work
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

/* Activation codes (src/engine/kernelParams.ts mirrors them). */
enum {
  ACT_LINEAR = 0,
  ACT_RELU = 1,
  ACT_RELU6 = 2,
  ACT_LEAKY = 3, /* max(x, alpha * x); alpha in [0, 1] */
  ACT_SIGMOID = 4,
  ACT_TANH = 5,
  ACT_ELU = 6,
  ACT_SWISH = 7, /* x * sigmoid(x) */
  ACT_MISH = 8,  /* x * tanh(softplus(x)) */
};

/* conv2d: units of work = output pixels, or (splitBlocks = 1) blocks of 8 output channels, all
   pixels each: layers with few pixels and large weights split better by channels, each thread
   then streams only its part of the weights. Weights packed [ceil(N/8)][kh*kw*C][8] (zero
   padded), bias [ceil(N/8)*8]. `zero` points at >= C zeros (reads outside the image). */
typedef struct {
  int32_t in, H, W, C, inStride;
  int32_t out, OH, OW, N, outStride;
  int32_t weights, bias;
  int32_t kh, kw, sh, sw, dh, dw, padTop, padLeft;
  int32_t act;
  float alpha;
  int32_t zero;
  int32_t splitBlocks;
} ConvParams;

/* depthwise2d (channel multiplier 1): units = output rows. Weights packed [kh*kw][Cp] and bias
   [Cp] with Cp = C rounded up to 4 (zero padded). */
typedef struct {
  int32_t in, H, W, C, inStride;
  int32_t out, OH, OW, outStride;
  int32_t weights, bias;
  int32_t kh, kw, sh, sw, dh, dw, padTop, padLeft;
  int32_t act;
  float alpha;
} DepthwiseParams;

/* maxpool2d: units = output rows. Positions outside the input are skipped (padding never wins). */
typedef struct {
  int32_t in, H, W, C, inStride;
  int32_t out, OH, OW, outStride;
  int32_t kh, kw, sh, sw, padTop, padLeft;
} PoolParams;

/* binary: out = act(a * x + b * y) (op 0) or act(x * y) (op 1); units = pixels.
   x and y have `pixels` pixels of C channels; either stride may be 0 (broadcast). */
typedef struct {
  int32_t x, xStride, y, yStride, out, outStride;
  int32_t pixels, C;
  int32_t op;
  float a, b;
  int32_t act;
  float alpha;
} BinaryParams;

/* unary: out = act(x * scale[c] + shift[c]) (scale/shift 0 = 1 / 0); units = pixels.
   `channelStep` reads input channel c at x + c * channelStep (ShuffleNet's interleaved split:
   base offset g, step groups); 1 for contiguous. Also the plain copy (act linear, no affine). */
typedef struct {
  int32_t x, xStride, channelStep, out, outStride;
  int32_t pixels, C;
  int32_t scale, shift;
  int32_t act;
  float alpha;
} UnaryParams;

/* upsampleNearest by integer factors: units = output rows. */
typedef struct {
  int32_t in, H, W, C, inStride;
  int32_t out, outStride;
  int32_t fy, fx;
} UpsampleParams;

/* pad2d: constant padding; units = output rows. */
typedef struct {
  int32_t in, H, W, C, inStride;
  int32_t out, OH, OW, outStride;
  int32_t padTop, padLeft;
  float value;
} PadParams;

/* globalAvgPool: mean over all pixels per channel (accumulated in f64); units = channels.
   Output is C contiguous floats. */
typedef struct {
  int32_t in, pixels, C, inStride;
  int32_t out;
} GlobalPoolParams;
