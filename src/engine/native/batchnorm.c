/*
 * BatchNorm in training mode and the activation gradient (params.h: BnStatsParams,
 * BnFinalizeParams, BnBackwardReduceParams, BnBackwardCoefParams, BnBackwardApplyParams,
 * ActBackwardParams).
 *
 * Forward: bnStats adds one image's per-channel sum and sum of squares to f64 accumulators
 * (float32 sums of x^2 over a batch lose digits when mean >> std); bnFinalize turns them into
 * the batch mean, 1/sqrt(var + eps) (biased variance, as tf.moments), the affine the forward
 * pass applies with the unary kernel (scale = gamma * invStd, shift = beta - mean * scale) and
 * updates the moving statistics as tfjs-layers does: m -= (m - batch) * (1 - momentum).
 * Backward, with g = dL/d(BN output) = dy * act'(pre) (fused: bnBackwardReduce computes g from
 * the activation's gradient dy and pre-activation, stores it and adds sum(g), sum(g * xhat) per
 * channel), bnBackwardCoef gives the per-channel coefficients of
 *   dx = gamma * invStd * (g - mean(g) - xhat * mean(g * xhat))
 *      = coefG * g + coefX * (x - mean) + coefB
 * and the gamma / beta gradients; bnBackwardApply evaluates dx per pixel.
 * Channel-unit kernels process 16 channels (a cache line of each pixel) per pass, summing PB pixels
 * in float32 registers between float64 updates.
 */
#include "activation_grad.h"
#include "vecio.h"

VEC_INLINE v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
VEC_INLINE v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }
/* acc[0..1] (f64 x 4 lanes) += v */
VEC_INLINE void add64(v128_t* acc, v128_t v) {
  acc[0] = wasm_f64x2_add(acc[0], lo64(v));
  acc[1] = wasm_f64x2_add(acc[1], hi64(v));
}
/* s[c..c+n) += acc (f64) */
VEC_INLINE void flush64(double* s, const v128_t* acc, int n) {
  double t[4];
  wasm_v128_store(t, acc[0]);
  wasm_v128_store(t + 2, acc[1]);
  for (int j = 0; j < n; j++) s[j] += t[j];
}

/* Pixels summed in float32 before each partial sum goes into the float64 totals: the hot loop
   stays in f32 registers (16 channels = 8 accumulators) and a 16-term f32 sum loses < 1e-6. */
#define PB 16

/* Channels [c, c + 4 * NV) (the last vector `tail` lanes when tail > 0). The f32 partial sums
   are of x - K with K the first pixel's value, so their rounding is relative to the spread of
   x, not to its mean (sum x^2 - n mean^2 cancels when mean >> std); the raw moments
   sum x = S1 + nK, sum x^2 = S2 + 2K S1 + nK^2 are formed in f64. */
VEC_INLINE void stats_block(const float* x, int xs, int pixels, double* sum, double* sq, int c, int tail, const int NV) {
  v128_t A[2 * 4], Bq[2 * 4], K[4];
  const float* p = x + c;
  for (int j = 0; j < NV; j++) K[j] = ld(p + 4 * j, j == NV - 1 ? tail : 0);
  for (int j = 0; j < 2 * NV; j++) A[j] = Bq[j] = wasm_f64x2_splat(0.0);
  for (int i0 = 0; i0 < pixels; i0 += PB) {
    const int i1 = i0 + PB < pixels ? i0 + PB : pixels;
    v128_t a[4], b[4];
    for (int j = 0; j < NV; j++) a[j] = b[j] = wasm_f32x4_splat(0.f);
    for (int i = i0; i < i1; i++, p += xs) {
      for (int j = 0; j < NV; j++) {
        const v128_t v = wasm_f32x4_sub(ld(p + 4 * j, j == NV - 1 ? tail : 0), K[j]);
        a[j] = wasm_f32x4_add(a[j], v);
        b[j] = wasm_f32x4_add(b[j], wasm_f32x4_mul(v, v));
      }
    }
    for (int j = 0; j < NV; j++) {
      add64(A + 2 * j, a[j]);
      add64(Bq + 2 * j, b[j]);
    }
  }
  const v128_t n = wasm_f64x2_splat((double)pixels), two = wasm_f64x2_splat(2.0);
  for (int j = 0; j < NV; j++) {
    for (int h = 0; h < 2; h++) {
      const v128_t k = h ? hi64(K[j]) : lo64(K[j]);
      const v128_t s1 = A[2 * j + h];
      /* S2 + 2 K S1 + n K^2 */
      Bq[2 * j + h] = wasm_f64x2_add(Bq[2 * j + h], wasm_f64x2_mul(k, wasm_f64x2_add(wasm_f64x2_mul(two, s1), wasm_f64x2_mul(n, k))));
      A[2 * j + h] = wasm_f64x2_add(s1, wasm_f64x2_mul(n, k));
    }
    const int m = j == NV - 1 && tail ? tail : 4;
    flush64(sum + c + 4 * j, A + 2 * j, m);
    if (sq) flush64(sq + c + 4 * j, Bq + 2 * j, m);
  }
}

/* Channel range [r0, r1) in blocks of 16 (a cache line of each pixel per pass), then 4. */
#define CHANNEL_BLOCKS(r0, r1, CALL)                 \
  {                                                  \
    int c_ = r0;                                     \
    for (; c_ + 16 <= r1; c_ += 16) CALL(c_, 0, 4);  \
    for (; c_ + 4 <= r1; c_ += 4) CALL(c_, 0, 1);    \
    if (c_ < r1) CALL(c_, r1 - c_, 1);               \
  }

/* x^2 in f32 is exact to 2^-24 relative, enough for the variance; the sums are f64. */
__attribute__((export_name("bnStats"))) void bnStats(const int32_t* params, int r0, int r1) {
  const BnStatsParams* P = (const BnStatsParams*)params;
  const float* x = PTR(const float, P->x);
  double* sum = PTR(double, P->sum);
  double* sq = PTR(double, P->sumSq);
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
#define STATS(c, t, nv) stats_block(x, P->xStride, P->pixels, sum, sq, c, t, nv)
  CHANNEL_BLOCKS(r0, r1, STATS)
#undef STATS
}

__attribute__((export_name("bnFinalize"))) void bnFinalize(const int32_t* params, int r0, int r1) {
  const BnFinalizeParams* P = (const BnFinalizeParams*)params;
  const double* sum = PTR(const double, P->sum);
  const double* sq = PTR(const double, P->sumSq);
  const float* gamma = PTR(const float, P->gamma);
  const float* beta = PTR(const float, P->beta);
  float* mean = PTR(float, P->mean);
  float* invStd = PTR(float, P->invStd);
  float* scale = PTR(float, P->scale);
  float* shift = PTR(float, P->shift);
  float* mm = PTR(float, P->movingMean);
  float* mv = PTR(float, P->movingVar);
  const double n = (double)P->count;
  const float decay = P->decay;
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
  for (int c = r0; c < r1; c++) {
    const double m = sum[c] / n;
    double v = sq[c] / n - m * m;
    if (v < 0) v = 0;
    const float mf = (float)m, vf = (float)v;
    const float is = (float)(1.0 / __builtin_sqrt((double)vf + (double)P->epsilon));
    mean[c] = mf;
    invStd[c] = is;
    const float s = (P->gamma ? gamma[c] : 1.f) * is;
    if (P->scale) scale[c] = s;
    if (P->shift) shift[c] = (P->beta ? beta[c] : 0.f) - mf * s;
    if (P->movingMean) mm[c] = mm[c] - (mm[c] - mf) * decay;
    if (P->movingVar) mv[c] = mv[c] - (mv[c] - vf) * decay;
  }
}

VEC_INLINE void reduce_block(const BnBackwardReduceParams* P, double* sg, double* sgx, int c, int tail, const int NV, const int ACT) {
  const float* dy = PTR(const float, P->dy) + c;
  const float* pre = PTR(const float, P->pre) + c;
  const float* x = PTR(const float, P->x) + c;
  float* g = PTR(float, P->g) + c;
  const float* meanp = PTR(const float, P->mean) + c;
  const float* isp = PTR(const float, P->invStd) + c;
  const int dys = P->dyStride, ps = P->preStride, xs = P->xStride, gs = P->gStride, pixels = P->pixels;
  const v128_t alpha = wasm_f32x4_splat(P->alpha);
  /* sum g and sum g * (x - mean); invStd is applied to the f64 total at the end */
  v128_t A[2 * 4], Bx[2 * 4], mean[4];
  for (int j = 0; j < NV; j++) {
    A[2 * j] = A[2 * j + 1] = Bx[2 * j] = Bx[2 * j + 1] = wasm_f64x2_splat(0.0);
    mean[j] = ld(meanp + 4 * j, j == NV - 1 ? tail : 0);
  }
  for (int i0 = 0; i0 < pixels; i0 += PB) {
    const int i1 = i0 + PB < pixels ? i0 + PB : pixels;
    v128_t a[4], b[4];
    for (int j = 0; j < NV; j++) a[j] = b[j] = wasm_f32x4_splat(0.f);
    for (int i = i0; i < i1; i++, dy += dys, pre += ps, x += xs, g += gs) {
      for (int j = 0; j < NV; j++) {
        const int t = j == NV - 1 ? tail : 0;
        v128_t gv = ld(dy + 4 * j, t);
        if (ACT != ACT_LINEAR) gv = wasm_f32x4_mul(gv, act_deriv(ld(pre + 4 * j, t), ACT, P->act, alpha));
        st(g + 4 * j, gv, t);
        a[j] = wasm_f32x4_add(a[j], gv);
        b[j] = wasm_f32x4_add(b[j], wasm_f32x4_mul(gv, wasm_f32x4_sub(ld(x + 4 * j, t), mean[j])));
      }
    }
    for (int j = 0; j < NV; j++) {
      add64(A + 2 * j, a[j]);
      add64(Bx + 2 * j, b[j]);
    }
  }
  for (int j = 0; j < NV; j++) {
    const int t = j == NV - 1 ? tail : 0;
    const v128_t is = ld(isp + 4 * j, t);
    Bx[2 * j] = wasm_f64x2_mul(Bx[2 * j], lo64(is));
    Bx[2 * j + 1] = wasm_f64x2_mul(Bx[2 * j + 1], hi64(is));
    const int n = t ? t : 4;
    flush64(sg + c + 4 * j, A + 2 * j, n);
    flush64(sgx + c + 4 * j, Bx + 2 * j, n);
  }
}

VEC_INLINE void reduce_range(const BnBackwardReduceParams* P, int r0, int r1, const int ACT) {
  double* sg = PTR(double, P->sumG);
  double* sgx = PTR(double, P->sumGX);
#define RED(c, t, nv) reduce_block(P, sg, sgx, c, t, nv, ACT)
  CHANNEL_BLOCKS(r0, r1, RED)
#undef RED
}

__attribute__((export_name("bnBackwardReduce"))) void bnBackwardReduce(const int32_t* params, int r0, int r1) {
  const BnBackwardReduceParams* P = (const BnBackwardReduceParams*)params;
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
  if (r0 >= r1) return;
#define BN_RED(A) reduce_range(P, r0, r1, A)
  ACT_DISPATCH_GRAD(P->act, BN_RED)
#undef BN_RED
}

__attribute__((export_name("bnBackwardCoef"))) void bnBackwardCoef(const int32_t* params, int r0, int r1) {
  const BnBackwardCoefParams* P = (const BnBackwardCoefParams*)params;
  const double* sg = PTR(const double, P->sumG);
  const double* sgx = PTR(const double, P->sumGX);
  const float* gamma = PTR(const float, P->gamma);
  const float* invStd = PTR(const float, P->invStd);
  float* cg = PTR(float, P->coefG);
  float* cx = PTR(float, P->coefX);
  float* cb = PTR(float, P->coefB);
  float* dGamma = PTR(float, P->dGamma);
  float* dBeta = PTR(float, P->dBeta);
  const double n = (double)P->count;
  if (r0 < 0) r0 = 0;
  if (r1 > P->C) r1 = P->C;
  for (int c = r0; c < r1; c++) {
    const double is = invStd[c];
    const double k = (P->gamma ? (double)gamma[c] : 1.0) * is;
    cg[c] = (float)k;
    cx[c] = (float)(-k * is * (sgx[c] / n));
    cb[c] = (float)(-k * (sg[c] / n));
    if (P->dGamma) dGamma[c] += (float)sgx[c];
    if (P->dBeta) dBeta[c] += (float)sg[c];
  }
}

/* out (+)= coefG * g + coefX * (x - mean) + coefB over one pixel's channels. */
VEC_INLINE void apply_pixel(const float* g, const float* x, float* o, const float* cg, const float* cx, const float* cb,
                            const float* mean, int C, const int ACC) {
  for (int c = 0; c < C; c += 4) {
    const int t = C - c < 4 ? C - c : 0;
    v128_t r = wasm_f32x4_add(wasm_f32x4_mul(ld(cg + c, t), ld(g + c, t)),
                              wasm_f32x4_mul(ld(cx + c, t), wasm_f32x4_sub(ld(x + c, t), ld(mean + c, t))));
    r = wasm_f32x4_add(r, ld(cb + c, t));
    if (ACC) r = wasm_f32x4_add(ld(o + c, t), r);
    st(o + c, r, t);
  }
}

__attribute__((export_name("bnBackwardApply"))) void bnBackwardApply(const int32_t* params, int r0, int r1) {
  const BnBackwardApplyParams* P = (const BnBackwardApplyParams*)params;
  const float* g = PTR(const float, P->g);
  const float* x = PTR(const float, P->x);
  float* out = PTR(float, P->out);
  const float *cg = PTR(const float, P->coefG), *cx = PTR(const float, P->coefX), *cb = PTR(const float, P->coefB);
  const float* mean = PTR(const float, P->mean);
  const int C = P->C;
  if (r0 < 0) r0 = 0;
  if (r1 > P->pixels) r1 = P->pixels;
  for (int p = r0; p < r1; p++) {
    const float* gp = g + (size_t)p * P->gStride;
    const float* xp = x + (size_t)p * P->xStride;
    float* o = out + (size_t)p * P->outStride;
    if (P->accumulate)
      apply_pixel(gp, xp, o, cg, cx, cb, mean, C, 1);
    else
      apply_pixel(gp, xp, o, cg, cx, cb, mean, C, 0);
  }
}

/* ---- actBackward: out (+)= dy * act'(pre); units = pixels ---- */

VEC_INLINE void act_back_range(const ActBackwardParams* P, int r0, int r1, const int ACT) {
  const float* dy = PTR(const float, P->dy);
  const float* pre = PTR(const float, P->pre);
  float* out = PTR(float, P->out);
  const int C = P->C, acc = P->accumulate;
  const v128_t alpha = wasm_f32x4_splat(P->alpha);
  for (int p = r0; p < r1; p++) {
    const float* d = dy + (size_t)p * P->dyStride;
    const float* x = pre + (size_t)p * P->preStride;
    float* o = out + (size_t)p * P->outStride;
    for (int c = 0; c < C; c += 4) {
      const int t = C - c < 4 ? C - c : 0;
      v128_t r = ld(d + c, t);
      if (ACT != ACT_LINEAR) r = wasm_f32x4_mul(r, act_deriv(ld(x + c, t), ACT, P->act, alpha));
      if (acc) r = wasm_f32x4_add(ld(o + c, t), r);
      st(o + c, r, t);
    }
  }
}

__attribute__((export_name("actBackward"))) void actBackward(const int32_t* params, int r0, int r1) {
  const ActBackwardParams* P = (const ActBackwardParams*)params;
  if (r0 < 0) r0 = 0;
  if (r1 > P->pixels) r1 = P->pixels;
  if (r0 >= r1 || P->C <= 0) return;
#define ACT_BACK(A) act_back_range(P, r0, r1, A)
  ACT_DISPATCH_GRAD(P->act, ACT_BACK)
#undef ACT_BACK
}
