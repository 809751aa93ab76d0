/*
 * Training kernels of conv2d (ConvFilterGradParams, ChannelSumParams in params.h).
 *
 * conv2dFilterGrad: dW[ky][kx][ci][co] += sum over output pixels p of x[tap(p, ky, kx)][ci] * dy[p][co],
 * the filter gradient of one image added to dW (HWIO, tfjs' filter layout); taps in the padding
 * contribute nothing. It is a GEMM X_tap^T * dY per tap with the pixels as the reduction axis:
 * output channels are taken 8 at a time (two vectors of dy per pixel) and input channels 4 at a
 * time (splats of x), 8 accumulators held over a chunk of KC pixels, the register blocking of
 * conv2d. Units = blocks of 8 output channels: different units write different columns of dW, so
 * threads never race; a call adds to dW (the planner zeroes dW once per step and calls once per
 * image). The input gradient is conv2d itself on repacked weights (src/engine/gradPacking.ts).
 *
 * channelSum: out[c] += sum over pixels of x[p][c] (the bias gradient), summed in f64 per call;
 * units = channels.
 */
#include "common.h"
#include "vecio.h"

/* Pixels per chunk: the chunk's dy rows stay in L1 and its x rows in L2 across the channel loops. */
#define KC 256

/* acc rows r (input channels ci + r) of one 8-wide output block over the chunk's valid pixels. */
#define FG_ROW(i, A0, A1)                                  \
  {                                                        \
    const v128_t s = wasm_v128_load32_splat(xp + (i));     \
    A0 = f32x4_madd(A0, s, d0);                            \
    A1 = f32x4_madd(A1, s, d1);                            \
  }

typedef struct {
  const float* x;   /* input image */
  int xStride;      /* floats between input pixels */
  const float* dy;  /* dy at the block's first channel (or the packed tail panel) */
  int dyStride;     /* floats between dy rows (8 for the panel) */
  int row0;         /* dy row of pixel p is dy + (p - row0) * dyStride (p0 for the panel) */
  float* dw;        /* dW at [tap][0][b*8] */
  int N;            /* dW row length */
  int nrem;         /* valid output channels of the block (1..8) */
} FgCtx;

VEC_INLINE void fg_load_row(const FgCtx* X, int r, v128_t* a0, v128_t* a1) {
  const float* o = X->dw + (size_t)r * X->N;
  if (X->nrem >= 8) {
    *a0 = wasm_v128_load(o);
    *a1 = wasm_v128_load(o + 4);
  } else {
    float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < X->nrem; j++) t[j] = o[j];
    *a0 = wasm_v128_load(t);
    *a1 = wasm_v128_load(t + 4);
  }
}

VEC_INLINE void fg_store_row(const FgCtx* X, int r, v128_t a0, v128_t a1) {
  float* o = X->dw + (size_t)r * X->N;
  if (X->nrem >= 8) {
    wasm_v128_store(o, a0);
    wasm_v128_store(o + 4, a1);
  } else {
    float t[8];
    wasm_v128_store(t, a0);
    wasm_v128_store(t + 4, a1);
    for (int j = 0; j < X->nrem; j++) o[j] = t[j];
  }
}

/* Input channels [ci, ci + 4) (NR = 4) or one channel (NR = 1). `xo` / `po`: float offset of the
   input pixel and index of the dy row of each of the n valid pixels (LIST = 1), or the dense
   pointwise case (LIST = 0: pixel j of the chunk is input pixel p0 + j and dy row p0 + j). */
VEC_INLINE void fg_rows(const FgCtx* X, int ci, int n, int p0, const int* xo, const int* po, const int NR, const int LIST) {
  v128_t a00, a01, a10, a11, a20, a21, a30, a31;
  fg_load_row(X, ci, &a00, &a01);
  if (NR == 4) {
    fg_load_row(X, ci + 1, &a10, &a11);
    fg_load_row(X, ci + 2, &a20, &a21);
    fg_load_row(X, ci + 3, &a30, &a31);
  }
  const int xs = X->xStride, ds = X->dyStride;
  const float* xb = X->x + ci;
  for (int j = 0; j < n; j++) {
    const float* xp = LIST ? xb + xo[j] : xb + (size_t)(p0 + j) * xs;
    const float* dp = X->dy + (size_t)((LIST ? po[j] : p0 + j) - X->row0) * ds;
    const v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
    FG_ROW(0, a00, a01)
    if (NR == 4) {
      FG_ROW(1, a10, a11)
      FG_ROW(2, a20, a21)
      FG_ROW(3, a30, a31)
    }
  }
  fg_store_row(X, ci, a00, a01);
  if (NR == 4) {
    fg_store_row(X, ci + 1, a10, a11);
    fg_store_row(X, ci + 2, a20, a21);
    fg_store_row(X, ci + 3, a30, a31);
  }
}

VEC_INLINE void fg_block(const FgCtx* X, int C, int n, int p0, const int* xo, const int* po, const int LIST) {
  int ci = 0;
  for (; ci + 4 <= C; ci += 4) fg_rows(X, ci, n, p0, xo, po, 4, LIST);
  for (; ci < C; ci++) fg_rows(X, ci, n, p0, xo, po, 1, LIST);
}

__attribute__((export_name("conv2dFilterGrad"))) void conv2dFilterGrad(const int32_t* params, int r0, int r1) {
  const ConvFilterGradParams* P = (const ConvFilterGradParams*)params;
  const float* x = PTR(const float, P->in);
  const float* dy = PTR(const float, P->dy);
  float* dw = PTR(float, P->dW);
  const int H = P->H, W = P->W, C = P->C, xs = P->inStride;
  const int OH = P->OH, OW = P->OW, N = P->N, ds = P->dyStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, dh = P->dh, dwx = P->dw;
  const int padTop = P->padTop, padLeft = P->padLeft;
  const int nb = (N + 7) >> 3;
  if (r0 < 0) r0 = 0;
  if (r1 > nb) r1 = nb;
  if (r0 >= r1 || C <= 0 || OH <= 0 || OW <= 0) return;
  const int M = OH * OW;
  const int pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && OW == W && OH == H;
  /* the last block when N is not a multiple of 8: its dy columns go through a zero-padded panel,
     so no load reads past channel N of a dy row */
  const int tail = (N & 7) && r1 == nb;
  const int bFull = tail ? r1 - 1 : r1;
  float panel[KC * 8];
  int xo[KC], po[KC];
  for (int p0 = 0; p0 < M; p0 += KC) {
    const int p1 = p0 + KC < M ? p0 + KC : M;
    if (tail) {
      const int nrem = N - (nb - 1) * 8;
      for (int p = p0; p < p1; p++) {
        const float* s = dy + (size_t)p * ds + (nb - 1) * 8;
        float* d = panel + (p - p0) * 8;
        for (int j = 0; j < 8; j++) d[j] = j < nrem ? s[j] : 0.f;
      }
    }
    for (int ky = 0; ky < kh; ky++) {
      for (int kx = 0; kx < kw; kx++) {
        const int t = ky * kw + kx;
        /* the chunk's pixels whose tap (ky, kx) is inside the image */
        int n = 0;
        if (!pointwise) {
          int oy = p0 / OW, ox = p0 - oy * OW;
          for (int p = p0; p < p1; p++) {
            const int iy = oy * sh - padTop + ky * dh, ix = ox * sw - padLeft + kx * dwx;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
              xo[n] = (iy * W + ix) * xs;
              po[n] = p;
              n++;
            }
            if (++ox == OW) {
              ox = 0;
              oy++;
            }
          }
          if (n == 0) continue;
        }
        for (int b = r0; b < r1; b++) {
          FgCtx X;
          X.x = x;
          X.xStride = xs;
          X.N = N;
          X.dw = dw + (size_t)t * C * N + b * 8;
          if (b < bFull) {
            X.dy = dy + b * 8;
            X.dyStride = ds;
            X.row0 = 0;
            X.nrem = 8;
          } else {
            X.dy = panel;
            X.dyStride = 8;
            X.row0 = p0;
            X.nrem = N - b * 8;
          }
          if (pointwise)
            fg_block(&X, C, p1 - p0, p0, xo, po, 0);
          else
            fg_block(&X, C, n, p0, xo, po, 1);
        }
      }
    }
  }
}

/* ---- channelSum ---- */

VEC_INLINE v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
VEC_INLINE v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }

__attribute__((export_name("channelSum"))) void channelSum(const int32_t* params, int r0, int r1) {
  const ChannelSumParams* P = (const ChannelSumParams*)params;
  const float* x = PTR(const float, P->x);
  float* out = PTR(float, P->out);
  const int pixels = P->pixels, xs = P->xStride;
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
  for (int c = r0; c < r1; c += 4) {
    const int tail = r1 - c < 4 ? r1 - c : 0;
    v128_t a = wasm_f64x2_splat(0.0), b = wasm_f64x2_splat(0.0);
    const float* p = x + c;
    for (int i = 0; i < pixels; i++, p += xs) {
      const v128_t v = tail ? load_tail(p, tail) : wasm_v128_load(p);
      a = wasm_f64x2_add(a, lo64(v));
      b = wasm_f64x2_add(b, hi64(v));
    }
    const v128_t o = tail ? load_tail(out + c, tail) : wasm_v128_load(out + c);
    a = wasm_f64x2_add(a, lo64(o));
    b = wasm_f64x2_add(b, hi64(o));
    const v128_t r = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(a), wasm_f32x4_demote_f64x2_zero(b), 0, 1, 4, 5);
    if (tail)
      store_tail(out + c, r, tail);
    else
      wasm_v128_store(out + c, r);
  }
}
