/*
 * maxpool2d, PoolParams in params.h; units = output rows.
 *
 * Each output pixel is the channel-wise max over the window taps that fall inside the input:
 * positions in the padding are skipped, so they never win (tf.maxPool; PyTorch's ZeroPad2d +
 * MaxPool2d, where the zeros can win, needs pad2d first). Interior pixels take an unchecked
 * path with 2x2 and 3x3 windows unrolled; larger windows are separable (pool_row_sep). A
 * window without any valid tap (impossible for valid configurations) gives -FLT_MAX (-inf on
 * the separable path).
 */
#include "common.h"
#include "vecio.h"

typedef struct {
  int C;
  int rowStep; /* floats between input rows (W * inStride) */
  int inStride;
} PoolCtx;

/* Max over taps [ky0,ky1) x [kx0,kx1) of the channel vector at c; ip = input at tap (0,0). */
VEC_INLINE v128_t pool_max(const PoolCtx* X, const float* ip, int c, int tail, int ky0, int ky1, int kx0, int kx1,
                           const int KH, const int KW) {
  const int ys = KH ? 0 : ky0, ye = KH ? KH : ky1, xs = KW ? 0 : kx0, xe = KW ? KW : kx1;
  if (ye <= ys || xe <= xs) return wasm_f32x4_splat(-3.40282347e38f);
  const float* p0 = ip + (size_t)ys * X->rowStep + (size_t)xs * X->inStride + c;
  v128_t m = tail ? load_tail(p0, tail) : wasm_v128_load(p0); /* max is idempotent: tap (ys, xs) again is harmless */
  for (int ky = ys; ky < ye; ky++) {
    const float* row = ip + (size_t)ky * X->rowStep + c;
    for (int kx = xs; kx < xe; kx++) {
      const float* p = row + (size_t)kx * X->inStride;
      m = wasm_f32x4_pmax(m, tail ? load_tail(p, tail) : wasm_v128_load(p));
    }
  }
  return m;
}

VEC_INLINE void pool_pixel(const PoolCtx* X, const float* ip, float* o, int ky0, int ky1, int kx0, int kx1, const int KH,
                           const int KW) {
  const int C = X->C;
  int c = 0;
  for (; c + 4 <= C; c += 4) wasm_v128_store(o + c, pool_max(X, ip, c, 0, ky0, ky1, kx0, kx1, KH, KW));
  if (c < C) store_tail(o + c, pool_max(X, ip, c, C - c, ky0, ky1, kx0, kx1, KH, KW), C - c);
}

VEC_INLINE void pool_interior(const PoolCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int x0, int x1,
                              int kh, int kw, const int KH, const int KW) {
  for (int ox = x0; ox < x1; ox++)
    pool_pixel(X, rowBase + (ptrdiff_t)ox * ipStep, orow + (size_t)ox * outStride, 0, kh, 0, kw, KH, KW);
}

/* Larger windows (SPP's 5x5 .. 13x13): separable. For a tile of POOL_TILE output pixels of one
   row and one channel vector, first the maxima over the valid window rows [ky0, ky1) of every
   input column the tile touches (-inf for columns in the padding), then each output is the max of
   kw consecutive column maxima: span*(ky1-ky0)/tile + kw maxima per output instead of kh*kw.
   Covers the whole row, edges included. */
#define POOL_TILE 8
#define POOL_MAX_SPAN 64

VEC_INLINE void pool_sep_block(const PoolCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int t0, int t1,
                               int c, const int tail, int ky0, int ky1, int kw, int sw, int ix0, int W) {
  v128_t cm[POOL_MAX_SPAN];
  const v128_t ninf = wasm_f32x4_splat(-__builtin_inff());
  const int span = (t1 - t0 - 1) * sw + kw;
  const float* base = rowBase + (ptrdiff_t)t0 * ipStep + (ptrdiff_t)ky0 * X->rowStep + c;
  for (int j = 0; j < span; j++) {
    const int ix = ix0 + j;
    if (ix < 0 || ix >= W || ky1 <= ky0) {
      cm[j] = ninf;
      continue;
    }
    const float* p = base + (ptrdiff_t)j * X->inStride;
    v128_t m = tail ? load_tail(p, tail) : wasm_v128_load(p);
    for (int ky = ky0 + 1; ky < ky1; ky++) {
      p += X->rowStep;
      m = wasm_f32x4_pmax(m, tail ? load_tail(p, tail) : wasm_v128_load(p));
    }
    cm[j] = m;
  }
  float* o = orow + (size_t)t0 * outStride + c;
  for (int i = 0, j0 = 0; i < t1 - t0; i++, j0 += sw, o += outStride) {
    v128_t m = cm[j0];
    for (int kx = 1; kx < kw; kx++) m = wasm_f32x4_pmax(m, cm[j0 + kx]);
    if (tail)
      store_tail(o, m, tail);
    else
      wasm_v128_store(o, m);
  }
}

static void pool_row_sep(const PoolCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int OW, int ky0,
                         int ky1, int kw, int sw, int padLeft, int W) {
  const int C = X->C;
  for (int t0 = 0; t0 < OW; t0 += POOL_TILE) {
    const int t1 = t0 + POOL_TILE < OW ? t0 + POOL_TILE : OW;
    const int ix0 = t0 * sw - padLeft;
    int c = 0;
    for (; c + 4 <= C; c += 4) pool_sep_block(X, rowBase, ipStep, orow, outStride, t0, t1, c, 0, ky0, ky1, kw, sw, ix0, W);
    if (c < C) pool_sep_block(X, rowBase, ipStep, orow, outStride, t0, t1, c, C - c, ky0, ky1, kw, sw, ix0, W);
  }
}

static void pool_edges(const PoolCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int x0, int x1,
                       int ky0, int ky1, int kw, int sw, int padLeft, int W) {
  for (int ox = x0; ox < x1; ox++) {
    const int ix0 = ox * sw - padLeft;
    const int kx0 = ix0 < 0 ? -ix0 : 0;
    const int kx1 = ix0 + kw > W ? W - ix0 : kw;
    pool_pixel(X, rowBase + (ptrdiff_t)ox * ipStep, orow + (size_t)ox * outStride, ky0, ky1, kx0, kx1, 0, 0);
  }
}

__attribute__((export_name("maxpool2d"))) void maxpool2d(const int32_t* params, int r0, int r1) {
  const PoolParams* P = (const PoolParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const int H = P->H, W = P->W, inStride = P->inStride;
  const int OH = P->OH, OW = P->OW, outStride = P->outStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, padTop = P->padTop, padLeft = P->padLeft;
  if (r0 < 0) r0 = 0;
  if (r1 > OH) r1 = OH;
  if (P->C <= 0 || OW <= 0) return;
  const PoolCtx X = {P->C, W * inStride, inStride};
  const int ipStep = sw * inStride;
  /* interior columns: ox*sw - padLeft >= 0 and ox*sw - padLeft + kw <= W */
  int xa = (padLeft + sw - 1) / sw, xb;
  {
    const int num = W + padLeft - kw;
    xb = num < 0 ? 0 : num / sw + 1;
  }
  if (xb > OW) xb = OW;
  if (xa > xb) xa = xb;
  const int separable = kh * kw > 9 && (POOL_TILE - 1) * sw + kw <= POOL_MAX_SPAN;
  for (int oy = r0; oy < r1; oy++) {
    const int iy0 = oy * sh - padTop;
    const int ky0 = iy0 < 0 ? -iy0 : 0;
    const int ky1 = iy0 + kh > H ? H - iy0 : kh;
    float* orow = out + (size_t)oy * OW * outStride;
    const float* rowBase = in + ((ptrdiff_t)iy0 * W - padLeft) * inStride;
    if (separable) {
      pool_row_sep(&X, rowBase, ipStep, orow, outStride, OW, ky0 < ky1 ? ky0 : 0, ky0 < ky1 ? ky1 : 0, kw, sw, padLeft, W);
      continue;
    }
    const int interior = ky0 == 0 && ky1 == kh && xb > xa;
    const int e0 = interior ? xa : OW, e1 = interior ? xb : OW;
    pool_edges(&X, rowBase, ipStep, orow, outStride, 0, e0, ky0, ky1, kw, sw, padLeft, W);
    if (interior) {
      if (kh == 2 && kw == 2)
        pool_interior(&X, rowBase, ipStep, orow, outStride, e0, e1, kh, kw, 2, 2);
      else if (kh == 3 && kw == 3)
        pool_interior(&X, rowBase, ipStep, orow, outStride, e0, e1, kh, kw, 3, 3);
      else
        pool_interior(&X, rowBase, ipStep, orow, outStride, e0, e1, kh, kw, 0, 0);
    }
    pool_edges(&X, rowBase, ipStep, orow, outStride, e1, OW, ky0, ky1, kw, sw, padLeft, W);
  }
}
