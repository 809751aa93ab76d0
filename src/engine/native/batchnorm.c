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
 * The two reductions (bnStats, bnBackwardReduce) run over pixel SLICES: slice s (a unit) reads its
 * pixels once, all channels (16 at a time, a cache line of each pixel, PB pixels summed in float32
 * registers between float64 updates), and adds into its own f64 partials at sum + s*C; bnFinalize
 * and bnBackwardCoef add the `slices` partials up. (Splitting by channels made every thread read
 * every cache line, a pass per 16-channel block.) A fixed slice count gives the same bits on any
 * number of threads.
 */
#include "activation_grad.h"
#include "vecio.h"

VEC_INLINE v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
VEC_INLINE v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }
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

/* Pixels [p0, p1) of slice s of S: the slices split the pixels evenly (units of the reductions:
   each thread reads its own pixels once, all channels, and sums into its slice's partials). */
VEC_INLINE void slice_pixels(int s, int S, int pixels, int* p0, int* p1) {
  *p0 = (int)((int64_t)pixels * s / S);
  *p1 = (int)((int64_t)pixels * (s + 1) / S);
}

/* Channel range [r0, r1) in blocks of 16 (a cache line of each pixel per pass), then 4. */
#define CHANNEL_BLOCKS(r0, r1, CALL)                 \
  {                                                  \
    int c_ = r0;                                     \
    for (; c_ + 16 <= r1; c_ += 16) CALL(c_, 0, 4);  \
    for (; c_ + 4 <= r1; c_ += 4) CALL(c_, 0, 1);    \
    if (c_ < r1) CALL(c_, r1 - c_, 1);               \
  }

/* Pixels [i0, i1) (at most PB, from x = pixel i0) of channels [c, c + 4 * NV) (the last vector
   `tail` lanes when tail > 0), added to the f64 sums. The f32 partial sums are of x - K with K
   the slice's first pixel, so their rounding is relative to the spread of x, not to its mean
   (sum x^2 - n mean^2 cancels when mean >> std); the raw moments sum x = S1 + nK,
   sum x^2 = S2 + 2K S1 + nK^2 are formed in f64. */
VEC_INLINE void stats_block(const float* x, int xs, int i0, int i1, const float* kp, double* sum, double* sq, int c, int tail, const int NV) {
  v128_t a[4], b[4], K[4];
  const float* p = x + c;
  for (int j = 0; j < NV; j++) {
    K[j] = ld(kp + c + 4 * j, j == NV - 1 ? tail : 0);
    a[j] = b[j] = wasm_f32x4_splat(0.f);
  }
  for (int i = i0; i < i1; i++, p += xs) {
    for (int j = 0; j < NV; j++) {
      const v128_t v = wasm_f32x4_sub(ld(p + 4 * j, j == NV - 1 ? tail : 0), K[j]);
      a[j] = wasm_f32x4_add(a[j], v);
      b[j] = wasm_f32x4_add(b[j], wasm_f32x4_mul(v, v));
    }
  }
  const v128_t n = wasm_f64x2_splat((double)(i1 - i0)), two = wasm_f64x2_splat(2.0);
  for (int j = 0; j < NV; j++) {
    v128_t A[2], Bq[2];
    for (int h = 0; h < 2; h++) {
      const v128_t k = h ? hi64(K[j]) : lo64(K[j]);
      const v128_t s1 = h ? hi64(a[j]) : lo64(a[j]);
      const v128_t s2 = h ? hi64(b[j]) : lo64(b[j]);
      /* S2 + 2 K S1 + n K^2, S1 + n K */
      Bq[h] = wasm_f64x2_add(s2, wasm_f64x2_mul(k, wasm_f64x2_add(wasm_f64x2_mul(two, s1), wasm_f64x2_mul(n, k))));
      A[h] = wasm_f64x2_add(s1, wasm_f64x2_mul(n, k));
    }
    const int m = j == NV - 1 && tail ? tail : 4;
    flush64(sum + c + 4 * j, A, m);
    if (sq) flush64(sq + c + 4 * j, Bq, m);
  }
}

/* Units = the `slices` pixel slices; slice s adds into sum + s*C (and sumSq + s*C). x^2 in f32 is
   exact to 2^-24 relative, enough for the variance; the sums are f64. */
__attribute__((export_name("bnStats"))) void bnStats(const int32_t* params, int r0, int r1) {
  const BnStatsParams* P = (const BnStatsParams*)params;
  const float* x = PTR(const float, P->x);
  const int C = P->C, xs = P->xStride, S = P->slices > 0 ? P->slices : 1;
  if (r0 < 0) r0 = 0;
  if (r1 > S) r1 = S;
  for (int s = r0; s < r1; s++) {
    int p0, p1;
    slice_pixels(s, S, P->pixels, &p0, &p1);
    if (p0 >= p1) continue;
    double* sum = PTR(double, P->sum) + (size_t)s * C;
    double* sq = P->sumSq ? PTR(double, P->sumSq) + (size_t)s * C : 0;
    const float* kp = x + (size_t)p0 * xs;
    for (int i0 = p0; i0 < p1; i0 += PB) {
      const int i1 = i0 + PB < p1 ? i0 + PB : p1;
      const float* xi = x + (size_t)i0 * xs;
#define STATS(c, t, nv) stats_block(xi, xs, i0, i1, kp, sum, sq, c, t, nv)
      CHANNEL_BLOCKS(0, C, STATS)
#undef STATS
    }
  }
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
  const int C = P->C, S = P->slices > 0 ? P->slices : 1;
  if (r0 < 0) r0 = 0;
  if (r1 > C) r1 = C;
  for (int c = r0; c < r1; c++) {
    double s1 = 0, s2 = 0;
    for (int k = 0; k < S; k++) {
      s1 += sum[(size_t)k * C + c];
      s2 += sq[(size_t)k * C + c];
    }
    const double m = s1 / n;
    double v = s2 / n - m * m;
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

/* Pixels [i0, i1) (at most PB; the pointers at pixel i0) of channels [c, c + 4 * NV): g stored,
   sum g and sum g * (x - mean) * invStd added to the f64 sums. */
VEC_INLINE void reduce_block(const BnBackwardReduceParams* P, const float* dy, const float* pre, const float* x, float* g, int n,
                             double* sg, double* sgx, int c, int tail, const int NV, const int ACT) {
  const float* meanp = PTR(const float, P->mean) + c;
  const float* isp = PTR(const float, P->invStd) + c;
  const int dys = P->dyStride, ps = P->preStride, xs = P->xStride, gs = P->gStride;
  const v128_t alpha = wasm_f32x4_splat(P->alpha);
  dy += c, pre += c, x += c, g += c;
  v128_t a[4], b[4], mean[4];
  for (int j = 0; j < NV; j++) {
    a[j] = b[j] = wasm_f32x4_splat(0.f);
    mean[j] = ld(meanp + 4 * j, j == NV - 1 ? tail : 0);
  }
  for (int i = 0; i < n; i++, dy += dys, pre += ps, x += xs, g += gs) {
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
    const int t = j == NV - 1 ? tail : 0;
    const v128_t is = ld(isp + 4 * j, t);
    v128_t A[2] = {lo64(a[j]), hi64(a[j])};
    v128_t Bx[2] = {wasm_f64x2_mul(lo64(b[j]), lo64(is)), wasm_f64x2_mul(hi64(b[j]), hi64(is))};
    const int m = t ? t : 4;
    flush64(sg + c + 4 * j, A, m);
    flush64(sgx + c + 4 * j, Bx, m);
  }
}

/* Slices [r0, r1), each one pass over its pixels (PB at a time, all channel blocks). */
VEC_INLINE void reduce_range(const BnBackwardReduceParams* P, int r0, int r1, const int ACT) {
  const int C = P->C, S = P->slices > 0 ? P->slices : 1;
  const float* dy = PTR(const float, P->dy);
  const float* pre = PTR(const float, P->pre);
  const float* x = PTR(const float, P->x);
  float* g = PTR(float, P->g);
  for (int s = r0; s < r1; s++) {
    int p0, p1;
    slice_pixels(s, S, P->pixels, &p0, &p1);
    double* sg = PTR(double, P->sumG) + (size_t)s * C;
    double* sgx = PTR(double, P->sumGX) + (size_t)s * C;
    for (int i0 = p0; i0 < p1; i0 += PB) {
      const int n = i0 + PB < p1 ? PB : p1 - i0;
      const float* dyi = dy + (size_t)i0 * P->dyStride;
      const float* prei = pre + (size_t)i0 * P->preStride;
      const float* xi = x + (size_t)i0 * P->xStride;
      float* gi = g + (size_t)i0 * P->gStride;
#define RED(c, t, nv) reduce_block(P, dyi, prei, xi, gi, n, sg, sgx, c, t, nv, ACT)
      CHANNEL_BLOCKS(0, C, RED)
#undef RED
    }
  }
}

__attribute__((export_name("bnBackwardReduce"))) void bnBackwardReduce(const int32_t* params, int r0, int r1) {
  const BnBackwardReduceParams* P = (const BnBackwardReduceParams*)params;
  const int S = P->slices > 0 ? P->slices : 1;
  if (r0 < 0) r0 = 0;
  if (r1 > S) r1 = S;
  if (r0 >= r1 || P->C <= 0) return;
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
  const int C = P->C, S = P->slices > 0 ? P->slices : 1;
  if (r0 < 0) r0 = 0;
  if (r1 > C) r1 = C;
  for (int c = r0; c < r1; c++) {
    double sG = 0, sGX = 0;
    for (int k = 0; k < S; k++) {
      sG += sg[(size_t)k * C + c];
      sGX += sgx[(size_t)k * C + c];
    }
    const double is = invStd[c];
    const double k = (P->gamma ? (double)gamma[c] : 1.0) * is;
    cg[c] = (float)k;
    cx[c] = (float)(-k * is * (sGX / n));
    cb[c] = (float)(-k * (sG / n));
    if (P->dGamma) dGamma[c] += (float)sGX;
    if (P->dBeta) dBeta[c] += (float)sG;
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
