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

/* Pixels per chunk and input channels per packed block: the packed x block (CB * KC floats, 16 KiB)
   and one dy panel (KC * 8 floats) stay in L1 while every output-channel block and input-channel
   group passes over them. Packing makes both streams contiguous: read in place, rows of 256 or
   512 channels (1-2 KiB apart) all fall into a few L1 sets and evict each other. */
#define KC 64
#define CB 64
/* Layers whose dW does not fit in L2 (tiny YOLOv3's 3x3 512 -> 1024: 19 MB) stream all of dW in
   and out once per chunk: they take longer chunks (dW moves 2x less often). 128 pixels of 64
   channels (32 KB of x panel, 4 KB of dy) beat 192 of 32 (24 + 6 KB; the dy panel is repacked
   per 32 channels) by ~5% single-thread, 192 of 16 by 25% (bench/bigConv.ts). */
#define KC_BIG 128
#define CB_BIG 64
#define BIG_DW_BYTES (2 * 1024 * 1024)

/* acc rows r (input channel ci + r) of one 8-wide output block over the n packed pixels. */
#define FG_ROW(i, A0, A1)                                  \
  {                                                        \
    const v128_t s = wasm_v128_load32_splat(xp + (i));     \
    A0 = f32x4_madd(A0, s, d0);                            \
    A1 = f32x4_madd(A1, s, d1);                            \
  }

VEC_INLINE void fg_load_row(const float* o, int nrem, int valid, v128_t* a0, v128_t* a1) {
  if (valid && nrem >= 8) {
    *a0 = wasm_v128_load(o);
    *a1 = wasm_v128_load(o + 4);
  } else {
    float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (valid)
      for (int j = 0; j < nrem; j++) t[j] = o[j];
    *a0 = wasm_v128_load(t);
    *a1 = wasm_v128_load(t + 4);
  }
}

VEC_INLINE void fg_store_row(float* o, int nrem, int valid, v128_t a0, v128_t a1) {
  if (!valid) return;
  if (nrem >= 8) {
    wasm_v128_store(o, a0);
    wasm_v128_store(o + 4, a1);
  } else {
    float t[8];
    wasm_v128_store(t, a0);
    wasm_v128_store(t + 4, a1);
    for (int j = 0; j < nrem; j++) o[j] = t[j];
  }
}

/* dW rows [ci, ci + 4) (those < C: `rows` valid) x one 8-wide block (nrem valid columns) +=
   xg^T * dp over n pixels; xg = packed [n][4] inputs, dp = packed [n][8] dy. */
VEC_INLINE void fg_group(float* dw, int N, int rows, int nrem, const float* xg, const float* dp, int n) {
  v128_t a00, a01, a10, a11, a20, a21, a30, a31;
  fg_load_row(dw, nrem, rows > 0, &a00, &a01);
  fg_load_row(dw + N, nrem, rows > 1, &a10, &a11);
  fg_load_row(dw + 2 * N, nrem, rows > 2, &a20, &a21);
  fg_load_row(dw + 3 * N, nrem, rows > 3, &a30, &a31);
  const float* xp = xg;
  for (int j = 0; j < n; j++, xp += 4, dp += 8) {
    const v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
    FG_ROW(0, a00, a01)
    FG_ROW(1, a10, a11)
    FG_ROW(2, a20, a21)
    FG_ROW(3, a30, a31)
  }
  fg_store_row(dw, nrem, rows > 0, a00, a01);
  fg_store_row(dw + N, nrem, rows > 1, a10, a11);
  fg_store_row(dw + 2 * N, nrem, rows > 2, a20, a21);
  fg_store_row(dw + 3 * N, nrem, rows > 3, a30, a31);
}

/* Pack dy rows p0 + po[j] (or p0 + j when po is null), channels [b*8, b*8 + 8) -> dpanel[j][8]. */
VEC_INLINE void pack_dy(float* dpanel, const float* dy, int ds, int b, int nrem, int n, int p0, const int* po) {
  for (int j = 0; j < n; j++) {
    const float* src = dy + (size_t)(po ? po[j] : p0 + j) * ds + b * 8;
    float* d = dpanel + j * 8;
    if (nrem == 8) {
      wasm_v128_store(d, wasm_v128_load(src));
      wasm_v128_store(d + 4, wasm_v128_load(src + 4));
    } else {
      for (int k = 0; k < 8; k++) d[k] = k < nrem ? src[k] : 0.f;
    }
  }
}

/* Layers whose whole kernel (kh*kw*C values per pixel, e.g. the first 3x3 conv on 3 channels) fits
   one packed block: the chunk is unrolled im2col-style into xpanel (row r = tap*C + ci, zero where
   the tap is in the padding), so every tap's product comes from ONE GEMM against a dy panel
   packed once per block; dW rows r are dW's [tap][ci] rows in order. */
static void filter_grad_im2col(const ConvFilterGradParams* P, int r0, int r1, float* xpanel, float* dpanel) {
  const float* x = PTR(const float, P->in);
  const float* dy = PTR(const float, P->dy);
  float* dw = PTR(float, P->dW);
  const int H = P->H, W = P->W, C = P->C, xs = P->inStride, OW = P->OW, N = P->N, ds = P->dyStride;
  const int kh = P->kh, kw = P->kw, K = kh * kw * C, groups = (K + 3) >> 2;
  const int M = P->OH * OW;
  for (int p0 = 0; p0 < M; p0 += KC) {
    const int n = p0 + KC < M ? KC : M - p0;
    int oy = p0 / OW, ox = p0 - oy * OW;
    for (int j = 0; j < n; j++) {
      /* the pixel's im2col row, contiguous, then spread into the panel's 4-wide groups */
      float row[CB] __attribute__((aligned(16)));
      int r = 0;
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * P->sh - P->padTop + ky * P->dh;
        for (int kx = 0; kx < kw; kx++, r += C) {
          const int ix = ox * P->sw - P->padLeft + kx * P->dw;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            const float* src = x + ((size_t)iy * W + ix) * xs;
            for (int ci = 0; ci < C; ci++) row[r + ci] = src[ci];
          } else {
            for (int ci = 0; ci < C; ci++) row[r + ci] = 0.f;
          }
        }
      }
      for (; r < groups * 4; r++) row[r] = 0.f;
      for (int g = 0; g < groups; g++) wasm_v128_store(xpanel + ((size_t)g * n + j) * 4, wasm_v128_load(row + 4 * g));
      if (++ox == OW) {
        ox = 0;
        oy++;
      }
    }
    for (int b = r0; b < r1; b++) {
      const int nrem = N - b * 8 < 8 ? N - b * 8 : 8;
      pack_dy(dpanel, dy, ds, b, nrem, n, p0, 0);
      for (int g = 0; g < groups; g++) fg_group(dw + (size_t)(4 * g) * N + b * 8, N, K - 4 * g, nrem, xpanel + (size_t)g * n * 4, dpanel, n);
    }
  }
}

static void filter_grad_image(const ConvFilterGradParams* P, int r0, int r1);

/* Units image-major: unit u = image u / nb, output-channel block u % nb. Each image's run of
   blocks is one call on a copy of the params pointing at that image's x, dy and dW. */
__attribute__((export_name("conv2dFilterGrad"))) void conv2dFilterGrad(const int32_t* params, int r0, int r1) {
  const ConvFilterGradParams* P = (const ConvFilterGradParams*)params;
  const int nb = (P->N + 7) >> 3, images = P->images < 1 ? 1 : P->images;
  if (nb <= 0) return;
  if (r0 < 0) r0 = 0;
  if (r1 > images * nb) r1 = images * nb;
  for (int u = r0; u < r1;) {
    const int i = u / nb, b0 = u - i * nb, b1 = r1 - i * nb < nb ? r1 - i * nb : nb;
    ConvFilterGradParams Q = *P;
    Q.in += i * P->inImageStep;
    Q.dy += i * P->dyImageStep;
    Q.dW += i * P->dWImageStep;
    filter_grad_image(&Q, b0, b1);
    u = i * nb + b1;
  }
}

/* One image: blocks [r0, r1) of 8 output channels. */
static void filter_grad_image(const ConvFilterGradParams* P, int r0, int r1) {
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
  float xpanel[CB_BIG * KC_BIG > CB * KC ? CB_BIG * KC_BIG : CB * KC]; /* [cb/4 groups][n][4] */
  float dpanel[KC_BIG * 8];                                              /* [n][8] */
  int xo[KC_BIG], po[KC_BIG];
  if (kh * kw > 1 && kh * kw * C <= CB) {
    filter_grad_im2col(P, r0, r1, xpanel, dpanel);
    return;
  }
  const int big = (size_t)kh * kw * C * N * 4 > BIG_DW_BYTES;
  const int kc = big ? KC_BIG : KC, cb = big ? CB_BIG : CB;
  for (int p0 = 0; p0 < M; p0 += kc) {
    const int p1 = p0 + kc < M ? p0 + kc : M;
    for (int ky = 0; ky < kh; ky++) {
      for (int kx = 0; kx < kw; kx++) {
        /* the chunk's pixels whose tap (ky, kx) is inside the image: input offset, dy row */
        int n = 0;
        {
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
        }
        if (n == 0) continue;
        float* dwt = dw + (size_t)(ky * kw + kx) * C * N;
        for (int c0 = 0; c0 < C; c0 += cb) {
          const int cn = C - c0 < cb ? C - c0 : cb;
          const int groups = (cn + 3) >> 2;
          /* pack x[pixel j][c0 + 4g + i] -> xpanel[g][j][i], zero past channel C */
          for (int j = 0; j < n; j++) {
            const float* src = x + xo[j] + c0;
            int g = 0;
            for (; 4 * g + 4 <= cn; g++) wasm_v128_store(xpanel + ((size_t)g * n + j) * 4, wasm_v128_load(src + 4 * g));
            if (g < groups) wasm_v128_store(xpanel + ((size_t)g * n + j) * 4, load_tail(src + 4 * g, cn - 4 * g));
          }
          for (int b = r0; b < r1; b++) {
            const int nrem = N - b * 8 < 8 ? N - b * 8 : 8;
            pack_dy(dpanel, dy, ds, b, nrem, n, 0, po);
            for (int g = 0; g < groups; g++) {
              const int ci = c0 + 4 * g;
              fg_group(dwt + (size_t)ci * N + b * 8, N, C - ci, nrem, xpanel + (size_t)g * n * 4, dpanel, n);
            }
          }
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
