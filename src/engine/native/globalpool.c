/*
 * globalAvgPool (GlobalPoolParams in params.h); units = channels. out[c] = mean over the pixels
 * of in[p*inStride + c], summed in f64 (two f64x2 per channel vector) and divided in f64, so the
 * float result is the correctly rounded mean up to ~1e-16 relative. Channels are taken 16 at a
 * time so each pixel contributes a whole 64-byte line per pass.
 */
#include "common.h"
#include "vecio.h"

VEC_INLINE v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
VEC_INLINE v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }

/* Channel vectors [c, c + 4*NV) (NV compile-time, tail lanes < 4 only with NV == 1). */
VEC_INLINE void gap_block(const float* in, int pixels, int inStride, float* out, int c, int tail, const int NV) {
  v128_t acc[2 * 4];
  for (int j = 0; j < 2 * NV; j++) acc[j] = wasm_f64x2_splat(0.0);
  const float* p = in + c;
  for (int i = 0; i < pixels; i++, p += inStride) {
    for (int j = 0; j < NV; j++) {
      const v128_t v = tail ? load_tail(p + 4 * j, tail) : wasm_v128_load(p + 4 * j);
      acc[2 * j] = wasm_f64x2_add(acc[2 * j], lo64(v));
      acc[2 * j + 1] = wasm_f64x2_add(acc[2 * j + 1], hi64(v));
    }
  }
  const v128_t n = wasm_f64x2_splat((double)pixels);
  for (int j = 0; j < NV; j++) {
    const v128_t a = wasm_f64x2_div(acc[2 * j], n), b = wasm_f64x2_div(acc[2 * j + 1], n);
    const v128_t r = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(a), wasm_f32x4_demote_f64x2_zero(b), 0, 1, 4, 5);
    if (tail)
      store_tail(out + c + 4 * j, r, tail);
    else
      wasm_v128_store(out + c + 4 * j, r);
  }
}

__attribute__((export_name("globalAvgPool"))) void globalAvgPool(const int32_t* params, int r0, int r1) {
  const GlobalPoolParams* P = (const GlobalPoolParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const int pixels = P->pixels, inStride = P->inStride;
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
  if (pixels <= 0) return;
  int c = r0;
  for (; c + 16 <= r1; c += 16) gap_block(in, pixels, inStride, out, c, 0, 4);
  for (; c + 4 <= r1; c += 4) gap_block(in, pixels, inStride, out, c, 0, 1);
  if (c < r1) gap_block(in, pixels, inStride, out, c, r1 - c, 1);
}
