/*
 * Broadcast channel ops of the training engine (ScaleChannelsParams, ChannelDotParams in params.h),
 * the pieces EfficientDet needs beyond convs and BN:
 *
 * scaleChannels: out[p][c] (+)= x[p*xStride + c] * s[c] * k; units = pixels. One kernel serves
 *   the squeeze-excitation product (x * s, forward) and its input gradient (dy * s), the spatial
 *   mean's gradient (xStride 0: dmean / (H*W) on every pixel), the fusion's terms (w_i * x_i) and
 *   their gradients (w_i * dy), and drop-connect (mask / keep per image).
 * channelDot: out[c] (+)= sum_p x[p][c] * y[p][c], summed in f64 per call; units = channels. The
 *   gradient of the squeeze-excitation scale (per image) and of a fusion weight (then summed over
 *   the channels by the caller).
 */
#include "common.h"
#include "vecio.h"

VEC_INLINE void scale_run(const float* x, int xs, const float* s, float* out, int os, int C, int p0, int p1, v128_t k,
                          const int ACC, const int HAS_S) {
  for (int p = p0; p < p1; p++) {
    const float* xp = x + (size_t)p * xs;
    float* o = out + (size_t)p * os;
    for (int c = 0; c < C; c += 4) {
      const int tail = C - c < 4 ? C - c : 0;
      v128_t v = wasm_f32x4_mul(ld(xp + c, tail), k);
      if (HAS_S) v = wasm_f32x4_mul(v, ld(s + c, tail));
      if (ACC) v = wasm_f32x4_add(v, ld(o + c, tail));
      st(o + c, v, tail);
    }
  }
}

__attribute__((export_name("scaleChannels"))) void scaleChannels(const int32_t* params, int r0, int r1) {
  const ScaleChannelsParams* P = (const ScaleChannelsParams*)params;
  const float* x = PTR(const float, P->x);
  const float* s = P->s ? PTR(const float, P->s) : 0;
  float* out = PTR(float, P->out);
  const int xs = P->xStride, os = P->outStride, C = P->C;
  const v128_t k = wasm_f32x4_splat(P->k);
  if (r0 < 0) r0 = 0;
  if (r1 > P->pixels) r1 = P->pixels;
  if (r0 >= r1 || C <= 0) return;
  /* x * (s * k) would round differently from (x * k) * s only when both apply; the callers use
     one of the two (k = 1 with s), so the result is x * s or x * k exactly as tfjs' mul. */
  if (P->accumulate) {
    if (s) scale_run(x, xs, s, out, os, C, r0, r1, k, 1, 1);
    else scale_run(x, xs, s, out, os, C, r0, r1, k, 1, 0);
  } else {
    if (s) scale_run(x, xs, s, out, os, C, r0, r1, k, 0, 1);
    else scale_run(x, xs, s, out, os, C, r0, r1, k, 0, 0);
  }
}

VEC_INLINE v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
VEC_INLINE v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }

__attribute__((export_name("channelDot"))) void channelDot(const int32_t* params, int r0, int r1) {
  const ChannelDotParams* P = (const ChannelDotParams*)params;
  const float* x = PTR(const float, P->x);
  const float* y = PTR(const float, P->y);
  float* out = PTR(float, P->out);
  const int pixels = P->pixels, xs = P->xStride, ys = P->yStride;
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
  /* 8 channels per pass (two f32 vectors, four f64 accumulators): a pixel's 32 bytes per tensor
     come in one cache line more often than with 4. */
  for (int c = r0; c < r1; c += 8) {
    const int n = r1 - c < 8 ? r1 - c : 8;
    const int t0 = n < 4 ? n : 0, t1 = n > 4 ? (n < 8 ? n - 4 : 0) : 0;
    v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0, a2 = a0, a3 = a0;
    const float* px = x + c;
    const float* py = y + c;
    for (int i = 0; i < pixels; i++, px += xs, py += ys) {
      const v128_t v = wasm_f32x4_mul(ld(px, t0), ld(py, t0));
      a0 = wasm_f64x2_add(a0, lo64(v));
      a1 = wasm_f64x2_add(a1, hi64(v));
      if (n > 4) {
        const v128_t w = wasm_f32x4_mul(ld(px + 4, t1), ld(py + 4, t1));
        a2 = wasm_f64x2_add(a2, lo64(w));
        a3 = wasm_f64x2_add(a3, hi64(w));
      }
    }
    double r[8];
    wasm_v128_store(r, a0);
    wasm_v128_store(r + 2, a1);
    wasm_v128_store(r + 4, a2);
    wasm_v128_store(r + 6, a3);
    for (int j = 0; j < n; j++) out[c + j] = (P->accumulate ? out[c + j] : 0.f) + (float)r[j];
  }
}
