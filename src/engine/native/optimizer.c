/*
 * Optimizer updates on flat float32 arrays (params.h: AdamParams, MomentumParams, EmaParams);
 * units = floats (any split). Every element goes through the same float32 operations, in the
 * same order, as tfjs' optimizers on the cpu backend (mul and add separate, never fused), so the
 * results are bit-identical to tf.train.adam / tf.train.momentum; the scalars are float32 as
 * tfjs makes them (src/engine/optimizerScalars.ts computes them).
 *
 * adam:      m = m*b1 + g*(1-b1); v = v*b2 + g*g*(1-b2);
 *            p = (m/(1-acc1)) / (sqrt(v/(1-acc2)) + eps) * (-lr) + p;  then p *= decayFactor
 *            (decoupled weight decay, `1 - lr*wd`; 1 = none).
 * momentum:  a = mom*a + g; p = (-lr)*a + p; then p *= decayFactor (nesterov off).
 * ema:       s = s*d + p*(1-d).
 */
#include "common.h"
#include "vecio.h"

#define SPLAT wasm_f32x4_splat
#define MUL wasm_f32x4_mul
#define ADD wasm_f32x4_add
#define DIV wasm_f32x4_div

__attribute__((export_name("adam"))) void adam(const int32_t* params, int r0, int r1) {
  const AdamParams* P = (const AdamParams*)params;
  float* p = PTR(float, P->param);
  const float* g = PTR(const float, P->grad);
  float* m = PTR(float, P->m);
  float* v = PTR(float, P->v);
  const v128_t negLr = SPLAT(P->negLr), b1 = SPLAT(P->beta1), c1 = SPLAT(P->oneMinusBeta1);
  const v128_t b2 = SPLAT(P->beta2), c2 = SPLAT(P->oneMinusBeta2), a1 = SPLAT(P->oneMinusAccBeta1);
  const v128_t a2 = SPLAT(P->oneMinusAccBeta2), eps = SPLAT(P->epsilon), decay = SPLAT(P->decayFactor);
  if (r0 < 0) r0 = 0;
  if (r1 > P->n) r1 = P->n;
  for (int i = r0; i < r1; i += 4) {
    const int t = r1 - i < 4 ? r1 - i : 0;
    const v128_t gi = ld(g + i, t);
    const v128_t mi = ADD(MUL(ld(m + i, t), b1), MUL(gi, c1));
    const v128_t vi = ADD(MUL(ld(v + i, t), b2), MUL(MUL(gi, gi), c2));
    const v128_t step = MUL(DIV(DIV(mi, a1), ADD(wasm_f32x4_sqrt(DIV(vi, a2)), eps)), negLr);
    st(m + i, mi, t);
    st(v + i, vi, t);
    st(p + i, MUL(ADD(step, ld(p + i, t)), decay), t);
  }
}

__attribute__((export_name("sgdMomentum"))) void sgdMomentum(const int32_t* params, int r0, int r1) {
  const MomentumParams* P = (const MomentumParams*)params;
  float* p = PTR(float, P->param);
  const float* g = PTR(const float, P->grad);
  float* a = PTR(float, P->acc);
  const v128_t mom = SPLAT(P->momentum), negLr = SPLAT(P->negLr), decay = SPLAT(P->decayFactor);
  if (r0 < 0) r0 = 0;
  if (r1 > P->n) r1 = P->n;
  for (int i = r0; i < r1; i += 4) {
    const int t = r1 - i < 4 ? r1 - i : 0;
    const v128_t gi = ld(g + i, t);
    const v128_t ai = ADD(MUL(mom, ld(a + i, t)), gi);
    st(a + i, ai, t);
    /* tfjs: nesterov ? c*(g + acc*m) + p : c*acc + p, c = -lr */
    const v128_t step = P->nesterov ? ADD(gi, MUL(ai, mom)) : ai;
    st(p + i, MUL(ADD(MUL(negLr, step), ld(p + i, t)), decay), t);
  }
}

__attribute__((export_name("ema"))) void ema(const int32_t* params, int r0, int r1) {
  const EmaParams* P = (const EmaParams*)params;
  float* s = PTR(float, P->shadow);
  const float* p = PTR(const float, P->param);
  const v128_t d = SPLAT(P->decay), c = SPLAT(P->oneMinusDecay);
  if (r0 < 0) r0 = 0;
  if (r1 > P->n) r1 = P->n;
  for (int i = r0; i < r1; i += 4) {
    const int t = r1 - i < 4 ? r1 - i : 0;
    st(s + i, ADD(MUL(ld(s + i, t), d), MUL(ld(p + i, t), c)), t);
  }
}
