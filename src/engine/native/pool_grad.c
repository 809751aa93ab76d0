/*
 * Gradients of the pooling / resampling kernels (params.h: MaxPoolGradParams,
 * UpsampleGradParams, ZeroInsertParams). All units = INPUT rows (a gather: each unit writes only
 * its own rows of dx, so overlapping windows never make threads race); `accumulate` adds to dx.
 * maxpool2dGrad and upsampleNearestGrad run `images` images per call (units = images x rows).
 *
 * maxpool2dGrad: dy of each output window goes to its FIRST maximal tap in scan order (rows, then
 * columns; positions in the padding skipped; strict >, so NaN never wins), tfjs' MaxPoolGrad
 * convention. The argmax is recomputed from the saved pooling input x, once per window and call.
 *
 * upsampleNearestGrad: dx[iy][ix] = sum of the fy x fx block of dy it was copied to.
 *
 * zeroInsert: out[y][x] = in[y/sy][x/sx] where both divide, else 0 (stride-s dy dilated for the
 * input gradient of a strided conv as a stride-1 conv2d); units = output rows; writes every
 * output pixel (no zeroing needed).
 */
#include "common.h"
#include "vecio.h"


VEC_INLINE void zero_row(float* o, int W, int C, int os) {
  const v128_t z = wasm_f32x4_splat(0.f);
  if (os == C)
    fill_floats(o, z, W * C);
  else
    for (int x = 0; x < W; x++) fill_floats(o + (size_t)x * os, z, C);
}

/* One channel vector of one window: argmax over the valid taps [ky0,ky1) x [kx0,kx1) in scan
   order (strict >), then dy added at the argmax taps that lie in rows [kya, kyb) (the unit's
   rows). `tail` 0 = a whole vector. */
VEC_INLINE void pool_grad_vec(const float* xw, int rowStep, int xs, const float* d, float* ow, int orowStep, int os, int c,
                              const int tail, int ky0, int ky1, int kx0, int kx1, int kw, int kya, int kyb) {
  v128_t m = wasm_f32x4_splat(-__builtin_inff()), arg = wasm_i32x4_splat(-1);
  for (int ky = ky0; ky < ky1; ky++) {
    const float* row = xw + (size_t)ky * rowStep + c;
    for (int kx = kx0; kx < kx1; kx++) {
      const v128_t v = ld(row + (size_t)kx * xs, tail);
      const v128_t gt = wasm_f32x4_gt(v, m);
      m = wasm_v128_bitselect(v, m, gt);
      arg = wasm_v128_bitselect(wasm_i32x4_splat(ky * kw + kx), arg, gt);
    }
  }
  const v128_t g = ld(d + c, tail);
  for (int ky = kya; ky < kyb; ky++) {
    for (int kx = kx0; kx < kx1; kx++) {
      /* no branch on the hit: which tap wins is data-dependent and mispredicts; adding 0 is exact */
      const v128_t hit = wasm_i32x4_eq(arg, wasm_i32x4_splat(ky * kw + kx));
      float* o = ow + (ptrdiff_t)ky * orowStep + (size_t)kx * os + c;
      st(o, wasm_f32x4_add(ld(o, tail), wasm_v128_and(g, hit)), tail);
    }
  }
}

/* Each output window's argmax is computed once per call: the loop runs over the OUTPUT rows whose
   windows touch the unit's input rows [r0, r1) and adds dy only into those rows, so units never
   write the same memory, and an input pixel receives its contributions in (oy, ox) order
   whatever the split (bit-identical results). */
static void maxpool_grad_rows(const MaxPoolGradParams* P, int r0, int r1) {
  const float* x = PTR(const float, P->in);
  const float* dy = PTR(const float, P->dy);
  float* dx = PTR(float, P->out);
  const int H = P->H, W = P->W, C = P->C, xs = P->inStride;
  const int OH = P->OH, OW = P->OW, dys = P->dyStride, os = P->outStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, padTop = P->padTop, padLeft = P->padLeft;
  if (r0 < 0) r0 = 0;
  if (r1 > H) r1 = H;
  if (C <= 0 || r0 >= r1 || sh <= 0 || sw <= 0) return;
  if (!P->accumulate)
    for (int iy = r0; iy < r1; iy++) zero_row(dx + (size_t)iy * W * os, W, C, os);
  /* output rows whose window [oy*sh - padTop, + kh) meets [r0, r1) */
  int oyA = r0 + padTop - kh + 1;
  oyA = oyA <= 0 ? 0 : (oyA + sh - 1) / sh;
  int oyB = r1 - 1 + padTop < 0 ? -1 : (r1 - 1 + padTop) / sh;
  if (oyB > OH - 1) oyB = OH - 1;
  for (int oy = oyA; oy <= oyB; oy++) {
    const int y0 = oy * sh - padTop;
    const int ky0 = y0 < 0 ? -y0 : 0, ky1 = y0 + kh > H ? H - y0 : kh;
    const int kya = r0 - y0 > ky0 ? r0 - y0 : ky0, kyb = r1 - y0 < ky1 ? r1 - y0 : ky1;
    if (kya >= kyb) continue;
    for (int ox = 0; ox < OW; ox++) {
      const int x0 = ox * sw - padLeft;
      const int kx0 = x0 < 0 ? -x0 : 0, kx1 = x0 + kw > W ? W - x0 : kw;
      if (kx0 >= kx1) continue;
      const float* d = dy + ((size_t)oy * OW + ox) * dys;
      const float* xw = x + ((ptrdiff_t)y0 * W + x0) * xs; /* tap (0, 0) of the window */
      float* ow = dx + ((ptrdiff_t)y0 * W + x0) * os;
      int c = 0;
      for (; c + 4 <= C; c += 4) pool_grad_vec(xw, W * xs, xs, d, ow, W * os, os, c, 0, ky0, ky1, kx0, kx1, kw, kya, kyb);
      if (c < C) pool_grad_vec(xw, W * xs, xs, d, ow, W * os, os, c, C - c, ky0, ky1, kx0, kx1, kw, kya, kyb);
    }
  }
}

#define MOVE_POOL(Q, b) (Q.in += (b) * Q.inImageStep, Q.dy += (b) * Q.dyImageStep, Q.out += (b) * Q.outImageStep)
__attribute__((export_name("maxpool2dGrad"))) void maxpool2dGrad(const int32_t* params, int r0, int r1) {
  const MaxPoolGradParams* P = (const MaxPoolGradParams*)params;
  FOR_IMAGE_ROWS(MaxPoolGradParams, P, P->H, r0, r1, maxpool_grad_rows, MOVE_POOL)
}

static void upsample_grad_rows(const UpsampleGradParams* P, int r0, int r1) {
  const float* dy = PTR(const float, P->dy);
  float* dx = PTR(float, P->out);
  const int H = P->H, W = P->W, C = P->C, dys = P->dyStride, os = P->outStride, fy = P->fy, fx = P->fx;
  const int OW = W * fx;
  if (r0 < 0) r0 = 0;
  if (r1 > H) r1 = H;
  if (C <= 0 || fx <= 0 || fy <= 0) return;
  for (int iy = r0; iy < r1; iy++) {
    for (int ix = 0; ix < W; ix++) {
      float* o = dx + ((size_t)iy * W + ix) * os;
      for (int c = 0; c < C; c += 4) {
        const int tail = C - c < 4 ? C - c : 0;
        v128_t a = P->accumulate ? ld(o + c, tail) : wasm_f32x4_splat(0.f);
        for (int i = 0; i < fy; i++) {
          const float* d = dy + ((size_t)(iy * fy + i) * OW + (size_t)ix * fx) * dys + c;
          for (int j = 0; j < fx; j++) a = wasm_f32x4_add(a, ld(d + (size_t)j * dys, tail));
        }
        st(o + c, a, tail);
      }
    }
  }
}

#define MOVE_UP(Q, b) (Q.dy += (b) * Q.dyImageStep, Q.out += (b) * Q.outImageStep)
__attribute__((export_name("upsampleNearestGrad"))) void upsampleNearestGrad(const int32_t* params, int r0, int r1) {
  const UpsampleGradParams* P = (const UpsampleGradParams*)params;
  FOR_IMAGE_ROWS(UpsampleGradParams, P, P->H, r0, r1, upsample_grad_rows, MOVE_UP)
}

__attribute__((export_name("zeroInsert"))) void zeroInsert(const int32_t* params, int r0, int r1) {
  const ZeroInsertParams* P = (const ZeroInsertParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const int H = P->H, W = P->W, C = P->C, is = P->inStride, OH = P->OH, OW = P->OW, os = P->outStride;
  const int sy = P->sy, sx = P->sx;
  if (r0 < 0) r0 = 0;
  if (r1 > OH) r1 = OH;
  if (C <= 0 || sy <= 0 || sx <= 0) return;
  const v128_t z = wasm_f32x4_splat(0.f);
  for (int y = r0; y < r1; y++) {
    float* orow = out + (size_t)y * OW * os;
    if (y % sy || y / sy >= H) {
      zero_row(orow, OW, C, os);
      continue;
    }
    const float* irow = in + (size_t)(y / sy) * W * is;
    for (int x = 0; x < OW; x++) {
      float* o = orow + (size_t)x * os;
      if (x % sx || x / sx >= W)
        fill_floats(o, z, C);
      else
        copy_floats(o, irow + (size_t)(x / sx) * is, C);
    }
  }
}
