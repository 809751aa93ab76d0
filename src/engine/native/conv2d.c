/*
 * conv2d: a convolution as an implicit GEMM. Output pixels are taken MR at a time and output
 * channels 8 at a time (two 4-lane accumulators per pixel); for each kernel tap the MR input
 * pixels are located (or the zero row when the tap falls in the padding) and the C input
 * channels are streamed against the packed weights. Output-channel blocks are the OUTER loop so
 * a block's weights (kh*kw*C*8 floats) stay in cache across all the pixels of the range.
 */
#include "activation.h"

#define MR 4

/* acc[i][0..1] += sum_j p_i[j] * wp[j][0..8] for j < LEN; advances wp. */
#define ACCUMULATE(P0, P1, P2, P3, LEN)                                   \
  for (int j = 0; j < (LEN); j++) {                                       \
    const v128_t w0 = wasm_v128_load(wp), w1 = wasm_v128_load(wp + 4);    \
    wp += 8;                                                              \
    v128_t x;                                                             \
    x = wasm_v128_load32_splat((P0) + j);                                 \
    a00 = f32x4_madd(a00, x, w0);                     \
    a01 = f32x4_madd(a01, x, w1);                     \
    x = wasm_v128_load32_splat((P1) + j);                                 \
    a10 = f32x4_madd(a10, x, w0);                     \
    a11 = f32x4_madd(a11, x, w1);                     \
    x = wasm_v128_load32_splat((P2) + j);                                 \
    a20 = f32x4_madd(a20, x, w0);                     \
    a21 = f32x4_madd(a21, x, w1);                     \
    x = wasm_v128_load32_splat((P3) + j);                                 \
    a30 = f32x4_madd(a30, x, w0);                     \
    a31 = f32x4_madd(a31, x, w1);                     \
  }

/* Layers whose packed weights per 8-channel block (K*8 floats) do not fit in L1 reread the whole
   block panel from L2 (or, when the input crowds it out, from L3) for every MR pixels: with
   K = 4608 (3x3x512, tiny YOLOv3's conv_12) that is 147 KB per 4 pixels. They take the reduction
   in chunks instead: one tap's CK channels (CK*8 floats, 8 KB) at a time over all the pixels of a
   sub-range, partial sums parked in `part` between chunks. The order of the sum (bias, then k =
   tap*C + c ascending) is the one of the unchunked loop and floats are stored unrounded, so the
   bits are the same. */
/* One pixel's 8-channel output block (lo, hi): all of it, or its first nrem (< 8) channels. */
static inline __attribute__((always_inline)) void store_block8(float* o, v128_t lo, v128_t hi, int nrem) {
  if (nrem >= 8) {
    wasm_v128_store(o, lo);
    wasm_v128_store(o + 4, hi);
  } else {
    float t[8];
    wasm_v128_store(t, lo);
    wasm_v128_store(t + 4, hi);
    for (int j = 0; j < nrem; j++) o[j] = t[j];
  }
}

#define CK 256
#define KCHUNK_MIN_K 2048 /* K*8 floats = 64 KB, twice the L1 (below, the panel mostly stays in L1 / L2 anyway) */
#define MSUB 128          /* pixels per sub-range: part = MSUB*8 floats (at most 4 KB of stack) */

static void conv2d_kchunked(const ConvParams* P, int mc, int me, int bBegin, int bEnd, int cheapAct, v128_t alpha) {
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const float* w = PTR(const float, P->weights);
  const float* bias = PTR(const float, P->bias);
  const float* zero = PTR(const float, P->zero);
  const int H = P->H, W = P->W, C = P->C, inStride = P->inStride;
  const int OW = P->OW, N = P->N, outStride = P->outStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, dh = P->dh, dw = P->dw;
  const int K = kh * kw * C, taps = kh * kw;
  /* Sized to the range (a worker's stack holds only what the call uses). */
  const int cap = me - mc < MSUB ? me - mc : MSUB;
  float part[(cap + MR - 1) / MR * MR * 8]; /* the last tile parks all MR rows */
  int iy0[cap], ix0[cap];
  for (int ms = mc; ms < me; ms += MSUB) {
    const int mn = me - ms < MSUB ? me - ms : MSUB;
    for (int i = 0; i < mn; i++) {
      const int oy = (ms + i) / OW;
      iy0[i] = oy * sh - P->padTop;
      ix0[i] = (ms + i - oy * OW) * sw - P->padLeft;
    }
    for (int b = bBegin; b < bEnd; b++) {
      const float* wb = w + (size_t)b * K * 8;
      const v128_t b0 = wasm_v128_load(bias + b * 8), b1 = wasm_v128_load(bias + b * 8 + 4);
      const int nrem = N - b * 8;
      for (int t = 0; t < taps; t++) {
        const int ky = t / kw, kx = t - ky * kw;
        for (int c0 = 0; c0 < C; c0 += CK) {
          const int cn = C - c0 < CK ? C - c0 : CK;
          const int first = t == 0 && c0 == 0, last = t == taps - 1 && c0 + cn == C;
          const float* wc = wb + ((size_t)t * C + c0) * 8;
          for (int i0 = 0; i0 < mn; i0 += MR) {
            const float* p[MR];
            for (int r = 0; r < MR; r++) {
              const int i = i0 + r < mn ? i0 + r : mn - 1;
              const int iy = iy0[i] + ky * dh, ix = ix0[i] + kx * dw;
              p[r] = ((iy >= 0 && iy < H && ix >= 0 && ix < W) ? in + ((size_t)iy * W + ix) * inStride : zero) + c0;
            }
            float* pp = part + i0 * 8;
            v128_t a00, a01, a10, a11, a20, a21, a30, a31;
            if (first) {
              a00 = a10 = a20 = a30 = b0;
              a01 = a11 = a21 = a31 = b1;
            } else {
              a00 = wasm_v128_load(pp), a01 = wasm_v128_load(pp + 4);
              a10 = wasm_v128_load(pp + 8), a11 = wasm_v128_load(pp + 12);
              a20 = wasm_v128_load(pp + 16), a21 = wasm_v128_load(pp + 20);
              a30 = wasm_v128_load(pp + 24), a31 = wasm_v128_load(pp + 28);
            }
            const float* wp = wc;
            ACCUMULATE(p[0], p[1], p[2], p[3], cn)
            if (!last) {
              wasm_v128_store(pp, a00), wasm_v128_store(pp + 4, a01);
              wasm_v128_store(pp + 8, a10), wasm_v128_store(pp + 12, a11);
              wasm_v128_store(pp + 16, a20), wasm_v128_store(pp + 20, a21);
              wasm_v128_store(pp + 24, a30), wasm_v128_store(pp + 28, a31);
              continue;
            }
            const v128_t r[MR][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
            for (int i = 0; i < MR && i0 + i < mn; i++) {
              float* o = out + (size_t)(ms + i0 + i) * outStride + b * 8;
              store_block8(o, act_cheap_v(r[i][0], cheapAct, alpha), act_cheap_v(r[i][1], cheapAct, alpha), nrem);
            }
          }
        }
      }
    }
  }
}

__attribute__((export_name("conv2d"))) void conv2d(const int32_t* params, int r0, int r1) {
  const ConvParams* P = (const ConvParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const float* w = PTR(const float, P->weights);
  const float* bias = PTR(const float, P->bias);
  const float* zero = PTR(const float, P->zero);
  const int H = P->H, W = P->W, C = P->C, inStride = P->inStride;
  const int OW = P->OW, N = P->N, outStride = P->outStride;
  const int kh = P->kh, kw = P->kw, sh = P->sh, sw = P->sw, dh = P->dh, dw = P->dw;
  const int padTop = P->padTop, padLeft = P->padLeft, act = P->act;
  const v128_t alpha = wasm_f32x4_splat(P->alpha);
  /* Cheap activations (relu, leaky, ...) are applied on the accumulators; the others after. */
  const int cheap = act_is_cheap(act);
  const int cheapAct = cheap ? act : ACT_LINEAR;
  const int K = kh * kw * C;
  const int nb = (N + 7) >> 3;
  /* Pixels are C contiguous floats and taps one pixel apart: a kernel row is one run. */
  const int contiguous = inStride == C && dw == 1;
  const int kwC = kw * C;
  const int pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && OW == W;
  /* Pixels are processed in chunks of MC so that a chunk's inputs and outputs stay in cache
     while every output-channel block passes over them (a block's weights are reused across the
     chunk). Layers whose weights do not fit in L2 (and calls split by channel blocks) take the
     whole range at once instead, so the weights stream from memory only once. */
  int bBegin = 0, bEnd = nb;
  if (P->splitBlocks) {
    bBegin = r0;
    bEnd = r1 < nb ? r1 : nb;
    r0 = 0;
    r1 = P->OH * OW;
  }
  int MC = (256 * 1024) / ((K + N) * 4);
  MC = MC < 4 * MR ? 4 * MR : MC - MC % MR;
  if (P->splitBlocks || (size_t)K * N * 4 > 1536 * 1024) MC = r1 - r0;
  const int kchunked = K >= KCHUNK_MIN_K && !pointwise;
  for (int mc = r0; mc < r1; mc += MC) {
    const int me = mc + MC < r1 ? mc + MC : r1;
    if (kchunked) conv2d_kchunked(P, mc, me, bBegin, bEnd, cheapAct, alpha);
    else for (int b = bBegin; b < bEnd; b++) {
      const float* wb = w + (size_t)b * K * 8;
      const v128_t b0 = wasm_v128_load(bias + b * 8), b1 = wasm_v128_load(bias + b * 8 + 4);
      const int nrem = N - b * 8;
      /* Output coordinates of pixel m, advanced incrementally (no division per tile). */
      int ty = mc / OW, tx = mc % OW;
      for (int m = mc; m < me; m += MR, tx += MR) {
        while (tx >= OW) {
          tx -= OW;
          ty++;
        }
        v128_t a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        const float* wp = wb;
        if (pointwise) {
          /* 1x1, stride 1, no padding: output pixel p reads input pixel p. */
          const float* p0 = in + (size_t)m * inStride;
          const float* p1 = m + 1 < me ? p0 + inStride : p0;
          const float* p2 = m + 2 < me ? p1 + inStride : p1;
          const float* p3 = m + 3 < me ? p2 + inStride : p2;
          ACCUMULATE(p0, p1, p2, p3, C)
        } else {
          int oy[MR], ox[MR];
          if (tx + MR <= OW && m + MR <= me) {
            for (int i = 0; i < MR; i++) {
              oy[i] = ty;
              ox[i] = tx + i;
            }
          } else {
            for (int i = 0; i < MR; i++) {
              int p = m + i < me ? m + i : me - 1;
              oy[i] = p / OW;
              ox[i] = p - oy[i] * OW;
            }
          }
          const int ix0 = ox[0] * sw - padLeft;
          const int rowTile = oy[0] == oy[MR - 1] && ox[MR - 1] - ox[0] == MR - 1;
          if (rowTile && dw == 1 && ix0 >= 0 && ox[MR - 1] * sw - padLeft + kw - 1 < W) {
            /* MR neighbours in one output row, every tap inside the row (no bounds checks): the MR
               input pixels of a tap are sw pixels apart, and with a compact input (stride C) a
               whole kernel row of a pixel (kw*C floats) is one contiguous run. */
            const int ps = sw * inStride;
            for (int ky = 0; ky < kh; ky++) {
              const int iy = oy[0] * sh - padTop + ky * dh;
              if (iy < 0 || iy >= H) {
                wp += kwC * 8;
                continue;
              }
              const float* p0 = in + ((size_t)iy * W + ix0) * inStride;
              if (contiguous) {
                ACCUMULATE(p0, p0 + ps, p0 + 2 * ps, p0 + 3 * ps, kwC)
              } else {
                for (int kx = 0; kx < kw; kx++) {
                  const float* q = p0 + kx * inStride;
                  ACCUMULATE(q, q + ps, q + 2 * ps, q + 3 * ps, C)
                }
              }
            }
          } else {
            for (int ky = 0; ky < kh; ky++) {
              for (int kx = 0; kx < kw; kx++) {
                const float* p[MR];
                for (int i = 0; i < MR; i++) {
                  int iy = oy[i] * sh - padTop + ky * dh, ix = ox[i] * sw - padLeft + kx * dw;
                  p[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? in + ((size_t)iy * W + ix) * inStride : zero;
                }
                ACCUMULATE(p[0], p[1], p[2], p[3], C)
              }
            }
          }
        }
        const v128_t r[MR][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
        for (int i = 0; i < MR && m + i < me; i++) {
          float* o = out + (size_t)(m + i) * outStride + b * 8;
          store_block8(o, act_cheap_v(r[i][0], cheapAct, alpha), act_cheap_v(r[i][1], cheapAct, alpha), nrem);
        }
      }
    }
    /* Transcendental activations run once over the chunk, still in cache. */
    if (!cheap) {
      for (int p = mc; p < me; p++) {
        float* o = out + (size_t)p * outStride + bBegin * 8;
        const int n = (bEnd * 8 < N ? bEnd * 8 : N) - bBegin * 8;
        act_run(o, o, n, act, P->alpha);
      }
    }
  }
}
