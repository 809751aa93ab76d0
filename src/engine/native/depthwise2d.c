/*
 * depthwise2d (channel multiplier 1), DepthwiseParams in params.h; units = output rows.
 *
 * Each output pixel accumulates its kernel taps over channel vectors (4 at a time; the last
 * partial vector with lane loads/stores, so neither the input view nor the output view is read
 * or written past channel C). Weights are packed [kh*kw][Cp] with Cp = C rounded up to 4 (zero
 * padded), so weight and bias loads are always whole vectors.
 *
 * Interior pixels (every tap inside the image) take a fast path without bounds checks: for 3x3
 * and 5x5 the taps are unrolled and the weights held in registers over a tile of output pixels
 * (5x5 in three passes of kernel rows, the later ones adding to the stored partial sums, so the
 * output view must not alias the input). Other sizes and the edge pixels loop over the
 * rectangle of valid taps (padding contributes zero).
 * Cheap activations are applied on the accumulators; the transcendental ones by act_run on the
 * pixel just written.
 */
#include "activation.h"
#include "vecio.h"

typedef struct {
  const float* w;     /* packed weights [kh*kw][Cp] */
  const float* bias;  /* [Cp] */
  int C, Cp, kh, kw;  /* kw: taps per kernel row in the weight layout */
  int rowStep;        /* floats between input rows of consecutive ky (dh * W * inStride) */
  int colStep;        /* floats between input pixels of consecutive kx (dw * inStride) */
  int act;
  v128_t alpha;
} DwCtx;

/* Sum of taps ky in [ky0, ky1), kx in [kx0, kx1) for the channel vector at c; ip = input at tap
   (0, 0). KH/KW > 0: compile-time full kernel (interior); 0: runtime bounds. */
VEC_INLINE v128_t dw_acc(const DwCtx* X, const float* ip, int c, int tail, int ky0, int ky1, int kx0, int kx1, const int KH,
                         const int KW) {
  v128_t acc = wasm_v128_load(X->bias + c);
  const int kw = KW ? KW : X->kw;
  const int ye = KH ? KH : ky1, xe = KW ? KW : kx1;
  for (int ky = KH ? 0 : ky0; ky < ye; ky++) {
    const float* row = ip + (size_t)ky * X->rowStep + c;
    const float* wr = X->w + (size_t)(ky * kw) * X->Cp + c;
    for (int kx = KW ? 0 : kx0; kx < xe; kx++) {
      const float* p = row + (size_t)kx * X->colStep;
      const v128_t v = tail ? load_tail(p, tail) : wasm_v128_load(p);
      acc = f32x4_madd(acc, v, wasm_v128_load(wr + (size_t)kx * X->Cp));
    }
  }
  return acc;
}

/* One output pixel over valid taps [ky0,ky1) x [kx0,kx1). */
VEC_INLINE void dw_pixel(const DwCtx* X, const float* ip, float* o, int ky0, int ky1, int kx0, int kx1, const int KH,
                         const int KW) {
  const int C = X->C;
  int c = 0;
  for (; c + 4 <= C; c += 4) wasm_v128_store(o + c, act_cheap_v(dw_acc(X, ip, c, 0, ky0, ky1, kx0, kx1, KH, KW), X->act, X->alpha));
  if (c < C) store_tail(o + c, act_cheap_v(dw_acc(X, ip, c, C - c, ky0, ky1, kx0, kx1, KH, KW), X->act, X->alpha), C - c);
}

/* Interior pixels are done in tiles of DW_TILE output pixels; within a tile the channel
   vectors are the outer loop, so the kernel's KH*KW weight vectors stay in registers while the
   tile's pixels stream past (the tile's input stays in L1 across the channel vectors). */
#define DW_TILE 8

/* Channel vector c (tail lanes if tail > 0) of the interior pixels [t0, t1), kernel rows
   [KY0, KY1): starts from the bias when KY0 == 0, else from the partial sums already stored
   (the addition order is the same as in one pass). */
VEC_INLINE void dw_tile_block(const DwCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int t0, int t1,
                              int c, const int tail, const int KY0, const int KY1, const int KW) {
  v128_t w[(KY1 - KY0) * KW];
  for (int t = 0; t < (KY1 - KY0) * KW; t++) w[t] = wasm_v128_load(X->w + (size_t)(KY0 * KW + t) * X->Cp + c);
  const v128_t b = wasm_v128_load(X->bias + c);
  const int rowStep = X->rowStep, colStep = X->colStep;
  const float* ip = rowBase + (ptrdiff_t)t0 * ipStep + (ptrdiff_t)KY0 * rowStep + c;
  float* o = orow + (size_t)t0 * outStride + c;
  for (int ox = t0; ox < t1; ox++, ip += ipStep, o += outStride) {
    v128_t acc = KY0 == 0 ? b : tail ? load_tail(o, tail) : wasm_v128_load(o);
    const float* row = ip;
    for (int ky = 0; ky < KY1 - KY0; ky++, row += rowStep) {
      const float* p = row;
      for (int kx = 0; kx < KW; kx++, p += colStep) {
        const v128_t v = tail ? load_tail(p, tail) : wasm_v128_load(p);
        acc = f32x4_madd(acc, v, w[ky * KW + kx]);
      }
    }
    if (KY1 == X->kh) acc = act_cheap_v(acc, X->act, X->alpha);
    if (tail)
      store_tail(o, acc, tail);
    else
      wasm_v128_store(o, acc);
  }
}

/* All channel vectors of the tile for kernel rows [KY0, KY1). */
VEC_INLINE void dw_tile_rows(const DwCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int t0, int t1,
                             const int KY0, const int KY1, const int KW) {
  const int C = X->C;
  int c = 0;
  for (; c + 4 <= C; c += 4) dw_tile_block(X, rowBase, ipStep, orow, outStride, t0, t1, c, 0, KY0, KY1, KW);
  if (c < C) dw_tile_block(X, rowBase, ipStep, orow, outStride, t0, t1, c, C - c, KY0, KY1, KW);
}

/* Interior pixels ox in [x0, x1) of one output row, kernel KH x KW known at compile time. */
VEC_INLINE void dw_interior(const DwCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int x0, int x1,
                            int post, float alpha_s, const int KH, const int KW) {
  const int C = X->C;
  for (int t0 = x0; t0 < x1; t0 += DW_TILE) {
    const int t1 = t0 + DW_TILE < x1 ? t0 + DW_TILE : x1;
    if (KH <= 3) {
      dw_tile_rows(X, rowBase, ipStep, orow, outStride, t0, t1, 0, KH, KW);
    } else {
      /* 5x5: kernel rows in passes of two so a pass's weights fit the registers */
      dw_tile_rows(X, rowBase, ipStep, orow, outStride, t0, t1, 0, 2, KW);
      dw_tile_rows(X, rowBase, ipStep, orow, outStride, t0, t1, 2, 4, KW);
      dw_tile_rows(X, rowBase, ipStep, orow, outStride, t0, t1, 4, KH, KW);
    }
    if (post)
      for (int ox = t0; ox < t1; ox++) {
        float* op = orow + (size_t)ox * outStride;
        act_run(op, op, C, X->act, alpha_s);
      }
  }
}

/* Edge pixels ox in [x0, x1) of one output row: valid taps only. */
static void dw_edges(const DwCtx* X, const float* rowBase, int ipStep, float* orow, int outStride, int x0, int x1, int ky0,
                     int ky1, int sw, int padLeft, int W, int dw, int post, float alpha_s) {
  const int kw = X->kw;
  for (int ox = x0; ox < x1; ox++) {
    const int ix0 = ox * sw - padLeft;
    int kx0 = 0, kx1 = kw;
    while (kx0 < kw && ix0 + kx0 * dw < 0) kx0++;
    while (kx1 > kx0 && ix0 + (kx1 - 1) * dw >= W) kx1--;
    float* op = orow + (size_t)ox * outStride;
    dw_pixel(X, rowBase + (ptrdiff_t)ox * ipStep, op, ky0, ky1, kx0, kx1, 0, 0);
    if (post) act_run(op, op, X->C, X->act, alpha_s);
  }
}

__attribute__((export_name("depthwise2d"))) void depthwise2d(const int32_t* params, int r0, int r1) {
  const DepthwiseParams* P = (const DepthwiseParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const int H = P->H, W = P->W, C = P->C, inStride = P->inStride;
  const int OH = P->OH, OW = P->OW, outStride = P->outStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, dh = P->dh, dw = P->dw;
  const int padTop = P->padTop, padLeft = P->padLeft;
  const int post = !act_is_cheap(P->act);
  const float alpha_s = P->alpha;
  if (r0 < 0) r0 = 0;
  if (r1 > OH) r1 = OH;
  if (C <= 0 || OW <= 0) return;
  DwCtx X;
  X.w = PTR(const float, P->weights);
  X.bias = PTR(const float, P->bias);
  X.C = C;
  X.Cp = (C + 3) & ~3;
  X.kh = kh;
  X.kw = kw;
  X.rowStep = dh * W * inStride;
  X.colStep = dw * inStride;
  X.act = P->act;
  X.alpha = wasm_f32x4_splat(alpha_s);
  const int ipStep = sw * inStride; /* input floats between consecutive output pixels */

  /* Output columns whose taps are all inside [0, W): ox*sw - padLeft >= 0 and
     ox*sw - padLeft + (kw-1)*dw <= W-1. */
  int xa = (padLeft + sw - 1) / sw;
  int xb = 0;
  {
    const int num = W - 1 + padLeft - (kw - 1) * dw;
    xb = num < 0 ? 0 : num / sw + 1;
  }
  if (xb > OW) xb = OW;
  if (xa > xb) xa = xb;

  for (int oy = r0; oy < r1; oy++) {
    const int iy0 = oy * sh - padTop;
    int ky0 = 0, ky1 = kh;
    while (ky0 < kh && iy0 + ky0 * dh < 0) ky0++;
    while (ky1 > ky0 && iy0 + (ky1 - 1) * dh >= H) ky1--;
    float* orow = out + (size_t)oy * OW * outStride;
    /* input at tap (0,0) of output pixel ox: rowBase + ox * ipStep (may point outside the
       image for edge pixels; only valid taps are read) */
    const float* rowBase = in + ((ptrdiff_t)iy0 * W - padLeft) * inStride;
    /* edge columns [0, e0) and [e1, OW), interior [e0, e1) */
    const int interior = ky0 == 0 && ky1 == kh && xb > xa;
    const int e0 = interior ? xa : OW, e1 = interior ? xb : OW;
    dw_edges(&X, rowBase, ipStep, orow, outStride, 0, e0, ky0, ky1, sw, padLeft, W, dw, post, alpha_s);
    if (interior) {
      if (kh == 3 && kw == 3)
        dw_interior(&X, rowBase, ipStep, orow, outStride, e0, e1, post, alpha_s, 3, 3);
      else if (kh == 5 && kw == 5)
        dw_interior(&X, rowBase, ipStep, orow, outStride, e0, e1, post, alpha_s, 5, 5);
      else
        for (int ox = e0; ox < e1; ox++) {
          float* op = orow + (size_t)ox * outStride;
          dw_pixel(&X, rowBase + (ptrdiff_t)ox * ipStep, op, 0, kh, 0, kw, 0, 0);
          if (post) act_run(op, op, C, X.act, alpha_s);
        }
    }
    dw_edges(&X, rowBase, ipStep, orow, outStride, e1, OW, ky0, ky1, sw, padLeft, W, dw, post, alpha_s);
  }
}
