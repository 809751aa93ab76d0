/*
 * Gradients of depthwise2d, channel multiplier 1 (params.h: DepthwiseFilterGradParams,
 * DepthwiseInputGradParams). Weights in tfjs' layout [kh][kw][C] (no packing); any kernel size,
 * stride, dilation and padding; taps in the padding contribute nothing.
 *
 * depthwise2dFilterGrad: dW[ky][kx][c] += sum over output pixels of x[tap][c] * dy[p][c]; units =
 * channels (different units write different channels of dW); a call adds `images` images. Output rows
 * are the outer loop so a row of dy and the kh input rows it reads stay in cache while every
 * channel group and tap passes over them; per tap the valid output columns are one interval.
 *
 * depthwise2dInputGrad: dx[iy][ix][c] (+)= sum over the taps (ky, kx) that reach (iy, ix) from an
 * output pixel: dy[oy][ox][c] * w[ky][kx][c] with oy = (iy + padTop - ky*dh) / sh when divisible
 * (a gather, so no zero-inserted copy for stride 2); units = images x input rows; `accumulate` adds to dx.
 * Per input pixel the valid taps are listed once (quotients and remainders of the column
 * advanced incrementally, no division per pixel), then every channel vector sums over them.
 */
#include "common.h"
#include "vecio.h"


/* ceil(a / b) for b > 0 and any sign of a */
static inline int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
/* floor(a / b) for b > 0 */
static inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Channels [c, c + 4*NV) (last vector `tail` lanes) of one tap over output columns [oxa, oxb). */
VEC_INLINE void fg_tap(float* dwt, const float* xrow, int ixStep, const float* dyrow, int dys, int oxa, int oxb, int c, int tail,
                       const int NV) {
  v128_t a[4];
  for (int j = 0; j < NV; j++) a[j] = ld(dwt + c + 4 * j, j == NV - 1 ? tail : 0);
  const float* xp = xrow + c;
  const float* dp = dyrow + c;
  for (int ox = oxa; ox < oxb; ox++) {
    const float* q = xp + (size_t)ox * ixStep;
    const float* d = dp + (size_t)ox * dys;
    for (int j = 0; j < NV; j++) {
      const int t = j == NV - 1 ? tail : 0;
      a[j] = f32x4_madd(a[j], ld(q + 4 * j, t), ld(d + 4 * j, t));
    }
  }
  for (int j = 0; j < NV; j++) st(dwt + c + 4 * j, a[j], j == NV - 1 ? tail : 0);
}

static void dw_filter_grad_image(const DepthwiseFilterGradParams* P, int r0, int r1) {
  const float* x = PTR(const float, P->in);
  const float* dy = PTR(const float, P->dy);
  float* dw = PTR(float, P->dW);
  const int H = P->H, W = P->W, C = P->C, xs = P->inStride;
  const int OH = P->OH, OW = P->OW, dys = P->dyStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, dh = P->dh, dwx = P->dw;
  const int padTop = P->padTop, padLeft = P->padLeft;
  if (r0 < 0) r0 = 0;
  if (r1 > C) r1 = C;
  if (r0 >= r1 || OW <= 0) return;
  for (int oy = 0; oy < OH; oy++) {
    const float* dyrow = dy + (size_t)oy * OW * dys;
    for (int ky = 0; ky < kh; ky++) {
      const int iy = oy * sh - padTop + ky * dh;
      if (iy < 0 || iy >= H) continue;
      for (int kx = 0; kx < kw; kx++) {
        /* output columns whose tap kx lands inside [0, W): 0 <= ox*sw - padLeft + kx*dw < W */
        const int off = kx * dwx - padLeft;
        int oxa = ceil_div(-off, sw), oxb = floor_div(W - 1 - off, sw) + 1;
        if (oxa < 0) oxa = 0;
        if (oxb > OW) oxb = OW;
        if (oxa >= oxb) continue;
        /* input pixel of output column ox: xrow + ox * sw * xs */
        const float* xrow = x + ((ptrdiff_t)iy * W + off) * xs;
        float* dwt = dw + (size_t)(ky * kw + kx) * C;
        int c = r0;
        for (; c + 16 <= r1; c += 16) fg_tap(dwt, xrow, sw * xs, dyrow, dys, oxa, oxb, c, 0, 4);
        for (; c + 4 <= r1; c += 4) fg_tap(dwt, xrow, sw * xs, dyrow, dys, oxa, oxb, c, 0, 1);
        if (c < r1) fg_tap(dwt, xrow, sw * xs, dyrow, dys, oxa, oxb, c, r1 - c, 1);
      }
    }
  }
}

/* `images` images added into dW one after the other (the same order on any split). */
__attribute__((export_name("depthwise2dFilterGrad"))) void depthwise2dFilterGrad(const int32_t* params, int r0, int r1) {
  const DepthwiseFilterGradParams* P = (const DepthwiseFilterGradParams*)params;
  const int n = P->images > 0 ? P->images : 1;
  for (int b = 0; b < n; b++) {
    DepthwiseFilterGradParams Q = *P;
    Q.in += b * P->inImageStep;
    Q.dy += b * P->dyImageStep;
    dw_filter_grad_image(&Q, r0, r1);
  }
}

#define DW_MAX_K 32 /* kernel rows/columns the gather lists hold (kernels beyond: nothing is written; the planner refuses them) */

static void dw_input_grad_rows(const DepthwiseInputGradParams* P, int r0, int r1) {
  const float* dy = PTR(const float, P->dy);
  const float* w = PTR(const float, P->weights);
  float* dx = PTR(float, P->out);
  const int OH = P->OH, OW = P->OW, C = P->C, dys = P->dyStride;
  const int H = P->H, W = P->W, os = P->outStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, dh = P->dh, dwx = P->dw;
  const int padTop = P->padTop, padLeft = P->padLeft, acc = P->accumulate;
  if (r0 < 0) r0 = 0;
  if (r1 > H) r1 = H;
  if (C <= 0 || kh > DW_MAX_K || kw > DW_MAX_K) return;
  int qs[DW_MAX_K], rs[DW_MAX_K]; /* per kx: (ix + padLeft - kx*dw) = q * sw + r, 0 <= r < sw */
  for (int iy = r0; iy < r1; iy++) {
    /* kernel rows reaching row iy and their output rows */
    int kys[DW_MAX_K], oys[DW_MAX_K], ny = 0;
    for (int ky = 0; ky < kh; ky++) {
      const int t = iy + padTop - ky * dh;
      if (t < 0 || t % sh) continue;
      const int oy = t / sh;
      if (oy >= OH) continue;
      kys[ny] = ky;
      oys[ny++] = oy;
    }
    float* orow = dx + (size_t)iy * W * os;
    if (ny == 0) {
      if (!acc)
        for (int ix = 0; ix < W; ix++) fill_floats(orow + (size_t)ix * os, wasm_f32x4_splat(0.f), C);
      continue;
    }
    /* the quotients / remainders are advanced per column instead of dividing per pixel */
    for (int kx = 0; kx < kw; kx++) {
      const int t = padLeft - kx * dwx;
      qs[kx] = floor_div(t, sw);
      rs[kx] = t - qs[kx] * sw;
    }
    for (int ix = 0; ix < W; ix++) {
      const float* taps[DW_MAX_K * DW_MAX_K];
      const float* wts[DW_MAX_K * DW_MAX_K];
      int nt = 0;
      for (int kx = 0; kx < kw; kx++) {
        if (rs[kx] == 0 && qs[kx] >= 0 && qs[kx] < OW) {
          for (int i = 0; i < ny; i++) {
            taps[nt] = dy + ((size_t)oys[i] * OW + qs[kx]) * dys;
            wts[nt++] = w + (size_t)(kys[i] * kw + kx) * C;
          }
        }
        if (++rs[kx] == sw) {
          rs[kx] = 0;
          qs[kx]++;
        }
      }
      float* o = orow + (size_t)ix * os;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t a = acc ? wasm_v128_load(o + c) : wasm_f32x4_splat(0.f);
        for (int t = 0; t < nt; t++) a = f32x4_madd(a, wasm_v128_load(taps[t] + c), wasm_v128_load(wts[t] + c));
        wasm_v128_store(o + c, a);
      }
      if (c < C) {
        const int tail = C - c;
        v128_t a = acc ? load_tail(o + c, tail) : wasm_f32x4_splat(0.f);
        for (int t = 0; t < nt; t++) a = f32x4_madd(a, load_tail(taps[t] + c, tail), load_tail(wts[t] + c, tail));
        store_tail(o + c, a, tail);
      }
    }
  }
}

#define MOVE_DW(Q, b) (Q.dy += (b) * Q.dyImageStep, Q.out += (b) * Q.outImageStep)
__attribute__((export_name("depthwise2dInputGrad"))) void depthwise2dInputGrad(const int32_t* params, int r0, int r1) {
  const DepthwiseInputGradParams* P = (const DepthwiseInputGradParams*)params;
  FOR_IMAGE_ROWS(DepthwiseInputGradParams, P, P->H, r0, r1, dw_input_grad_rows, MOVE_DW)
}
