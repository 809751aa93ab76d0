/*
 * Element-wise kernels over pixel ranges (BinaryParams, UnaryParams in params.h).
 *
 * binary: out = act(a*x + b*y) (BINARY_AXPBY) or act(x*y) (BINARY_MUL); x or y may broadcast one
 *   C-vector (stride 0, the squeeze-excitation product). When all three views are dense
 *   (stride == C) the pixel range is one flat run of floats.
 * unary: out = act(x[c*channelStep] * scale[c] + shift[c]); scale/shift pointer 0 = none. With no
 *   affine, linear activation and channelStep 1 it is a strided copy.
 *
 * The loops are always_inline functions taking the op and a cheap activation as compile-time
 * constants (ACT_DISPATCH_CHEAP switches once per call). The transcendental activations run as
 * act_run over what was just stored (a pixel's C floats, or a chunk of a flat run, still in L1),
 * which keeps one copy of their code in the module instead of one per loop variant.
 */
#include "activation.h"
#include "vecio.h"

/* Flat runs are processed in chunks of this many floats, so act_run finds them in L1. */
#define CHUNK 2048

VEC_INLINE v128_t binary_op(v128_t x, v128_t y, const int op, v128_t a, v128_t b) {
  return op == BINARY_MUL ? wasm_f32x4_mul(x, y) : wasm_f32x4_add(wasm_f32x4_mul(a, x), wasm_f32x4_mul(b, y));
}

/* out[0..n) = act(op(x, y)) over contiguous runs. */
VEC_INLINE void binary_flat(const float* x, const float* y, float* out, int n, const int op, const int act, v128_t a,
                            v128_t b, v128_t alpha) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t r0 = binary_op(wasm_v128_load(x + i), wasm_v128_load(y + i), op, a, b);
    const v128_t r1 = binary_op(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4), op, a, b);
    wasm_v128_store(out + i, act_cheap_v(r0, act, alpha));
    wasm_v128_store(out + i + 4, act_cheap_v(r1, act, alpha));
  }
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(out + i, act_cheap_v(binary_op(wasm_v128_load(x + i), wasm_v128_load(y + i), op, a, b), act, alpha));
  if (i < n) store_tail(out + i, act_cheap_v(binary_op(load_tail(x + i, n - i), load_tail(y + i, n - i), op, a, b), act, alpha), n - i);
}

VEC_INLINE void binary_run(const float* x, int xs, const float* y, int ys, float* out, int os, int C, int p0, int p1,
                           const int op, const int act, int fullAct, v128_t a, v128_t b, float alpha_s) {
  const v128_t alpha = wasm_f32x4_splat(alpha_s);
  const int post = !act_is_cheap(fullAct);
  if (xs == C && ys == C && os == C) {
    const size_t base = (size_t)p0 * C;
    const int n = (p1 - p0) * C;
    for (int i = 0; i < n; i += CHUNK) {
      const int m = n - i < CHUNK ? n - i : CHUNK;
      binary_flat(x + base + i, y + base + i, out + base + i, m, op, act, a, b, alpha);
      if (post) act_run(out + base + i, out + base + i, m, fullAct, alpha_s);
    }
    return;
  }
  for (int p = p0; p < p1; p++) {
    float* o = out + (size_t)p * os;
    binary_flat(x + (size_t)p * xs, y + (size_t)p * ys, o, C, op, act, a, b, alpha);
    if (post) act_run(o, o, C, fullAct, alpha_s);
  }
}

__attribute__((export_name("binary"))) void binary(const int32_t* params, int r0, int r1) {
  const BinaryParams* P = (const BinaryParams*)params;
  const float* x = PTR(const float, P->x);
  const float* y = PTR(const float, P->y);
  float* out = PTR(float, P->out);
  const int xs = P->xStride, ys = P->yStride, os = P->outStride, C = P->C, act = P->act;
  const v128_t a = wasm_f32x4_splat(P->a), b = wasm_f32x4_splat(P->b);
  const float alpha = P->alpha;
  if (r0 < 0) r0 = 0;
  if (r1 > P->pixels) r1 = P->pixels;
  if (r0 >= r1 || C <= 0) return;
#define BIN_MUL(A) binary_run(x, xs, y, ys, out, os, C, r0, r1, BINARY_MUL, A, act, a, b, alpha)
#define BIN_AXPBY(A) binary_run(x, xs, y, ys, out, os, C, r0, r1, BINARY_AXPBY, A, act, a, b, alpha)
  if (P->op == BINARY_MUL) {
    ACT_DISPATCH_CHEAP(act, BIN_MUL)
  } else {
    ACT_DISPATCH_CHEAP(act, BIN_AXPBY)
  }
#undef BIN_MUL
#undef BIN_AXPBY
}

/* Affine part of unary, a compile-time bit mask: which of scale / shift are present. */
enum { AFF_SCALE = 1, AFF_SHIFT = 2 };

VEC_INLINE v128_t affine_v(v128_t v, const float* scale, const float* shift, int c, int tail, const int aff) {
  if (aff & AFF_SCALE) v = wasm_f32x4_mul(v, tail ? load_tail(scale + c, tail) : wasm_v128_load(scale + c));
  if (aff & AFF_SHIFT) v = wasm_f32x4_add(v, tail ? load_tail(shift + c, tail) : wasm_v128_load(shift + c));
  return v;
}

/* One pixel (channelStep 1): o[c] = act(x[c] * scale[c] + shift[c]). */
VEC_INLINE void unary_pixel(const float* xp, float* o, int C, const float* scale, const float* shift, const int aff,
                            const int act, v128_t alpha) {
  int c = 0;
  for (; c + 4 <= C; c += 4) wasm_v128_store(o + c, act_cheap_v(affine_v(wasm_v128_load(xp + c), scale, shift, c, 0, aff), act, alpha));
  if (c < C) store_tail(o + c, act_cheap_v(affine_v(load_tail(xp + c, C - c), scale, shift, c, C - c, aff), act, alpha), C - c);
}

VEC_INLINE void unary_run(const float* x, int xs, float* out, int os, int C, int p0, int p1, const float* scale,
                          const float* shift, const int aff, const int act, int fullAct, float alpha_s) {
  const v128_t alpha = wasm_f32x4_splat(alpha_s);
  const int post = !act_is_cheap(fullAct);
  if (!aff && xs == C && os == C) {
    const size_t base = (size_t)p0 * C;
    const int n = (p1 - p0) * C;
    if (post) {
      act_run(out + base, x + base, n, fullAct, alpha_s);
    } else if (act == ACT_LINEAR) {
      __builtin_memcpy(out + base, x + base, (size_t)n * sizeof(float));
    } else {
      unary_pixel(x + base, out + base, n, scale, shift, 0, act, alpha);
    }
    return;
  }
  for (int p = p0; p < p1; p++) {
    float* o = out + (size_t)p * os;
    const float* xp = x + (size_t)p * xs;
    if (post && !aff) {
      act_run(o, xp, C, fullAct, alpha_s);
    } else {
      unary_pixel(xp, o, C, scale, shift, aff, act, alpha);
      if (post) act_run(o, o, C, fullAct, alpha_s);
    }
  }
}

__attribute__((export_name("unary"))) void unary(const int32_t* params, int r0, int r1) {
  const UnaryParams* P = (const UnaryParams*)params;
  const float* x = PTR(const float, P->x);
  float* out = PTR(float, P->out);
  const int xs = P->xStride, os = P->outStride, C = P->C, step = P->channelStep, act = P->act;
  const float* scale = PTR(const float, P->scale);
  const float* shift = PTR(const float, P->shift);
  const int aff = (P->scale ? AFF_SCALE : 0) | (P->shift ? AFF_SHIFT : 0);
  const float alpha = P->alpha;
  if (r0 < 0) r0 = 0;
  if (r1 > P->pixels) r1 = P->pixels;
  if (r0 >= r1 || C <= 0) return;
  if (step != 1) {
    /* gathered channels (ShuffleNet's split): lane loads, activation switched per vector */
    const v128_t alphaV = wasm_f32x4_splat(alpha);
    for (int p = r0; p < r1; p++) {
      const float* xp = x + (size_t)p * xs;
      float* o = out + (size_t)p * os;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const float* s = xp + (size_t)c * step;
        v128_t v = wasm_v128_load32_zero(s);
        v = wasm_v128_load32_lane(s + step, v, 1);
        v = wasm_v128_load32_lane(s + 2 * step, v, 2);
        v = wasm_v128_load32_lane(s + 3 * step, v, 3);
        if (aff & AFF_SCALE) v = wasm_f32x4_mul(v, wasm_v128_load(scale + c));
        if (aff & AFF_SHIFT) v = wasm_f32x4_add(v, wasm_v128_load(shift + c));
        wasm_v128_store(o + c, act_cheap_v(v, act, alphaV));
      }
      for (; c < C; c++) {
        float v = xp[(size_t)c * step];
        if (aff & AFF_SCALE) v *= scale[c];
        if (aff & AFF_SHIFT) v += shift[c];
        o[c] = act_is_cheap(act) ? act_s(v, act, alpha) : v;
      }
      if (!act_is_cheap(act)) act_run(o, o, C, act, alpha);
    }
    return;
  }
#define UN_SS(A) unary_run(x, xs, out, os, C, r0, r1, scale, shift, AFF_SCALE | AFF_SHIFT, A, act, alpha)
#define UN_SC(A) unary_run(x, xs, out, os, C, r0, r1, scale, shift, AFF_SCALE, A, act, alpha)
#define UN_SH(A) unary_run(x, xs, out, os, C, r0, r1, scale, shift, AFF_SHIFT, A, act, alpha)
#define UN_PLAIN(A) unary_run(x, xs, out, os, C, r0, r1, scale, shift, 0, A, act, alpha)
  switch (aff) {
    case AFF_SCALE | AFF_SHIFT: ACT_DISPATCH_CHEAP(act, UN_SS) break;
    case AFF_SCALE: ACT_DISPATCH_CHEAP(act, UN_SC) break;
    case AFF_SHIFT: ACT_DISPATCH_CHEAP(act, UN_SH) break;
    default: ACT_DISPATCH_CHEAP(act, UN_PLAIN) break;
  }
#undef UN_SS
#undef UN_SC
#undef UN_SH
#undef UN_PLAIN
}
