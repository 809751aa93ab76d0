/*
 * Activations on 4 lanes (act_v) and on one float (act_s). Codes in params.h.
 *
 * The transcendental ones are built on one vectorised exp: x = n*ln2 + r with n = nearest(x/ln2)
 * and |r| <= ln2/2 (Cody-Waite, ln2 split in two so n*LN2_HI is exact), then
 * exp(x) = 2^n * (1 + q(r)) with q a degree-6 polynomial (near-minimax, relative error 3e-9, so
 * the float result is within ~1 ulp). Keeping q apart gives expm1 = (2^n - 1) + 2^n*q, accurate
 * also for tiny x (n = 0: expm1 = q, and q = r + O(r^2)).
 *
 * The formulas mirror what tfjs (wasm backend) computes so that results agree to 1e-6 absolute:
 *   sigmoid: d = e/(1+e) with e = exp(-|x|); x > 0 ? 1 - d : d  (no overflow; saturates to 0/1)
 *   tanh:    m = expm1(-2|x|); sign(x) * (-m / (2 + m))            (saturates to +-1)
 *   elu:     x > 0 ? x : expm1(x)                                   (alpha 1, as tf.elu)
 *   swish:   x * sigmoid(x)
 *   mish:    x * tanh(softplus(x)) without log: tanh(log(1+u)) = u(u+2) / (u(u+2) + 2) with
 *            u = e^x; written in e = exp(-|x|) <= 1 so nothing overflows:
 *            x >= 0: 1 - 2e^2/(1 + 2e + 2e^2);  x < 0: e(e+2) / (e(e+2) + 2).
 *            Large negative x -> e = 0 -> 0; large positive -> 1 -> x.
 * act_s runs the same vector code on lane 0 for these, so a channel tail gives the same bits.
 */
#pragma once
#include "common.h"

#define ACT_INLINE static inline __attribute__((always_inline))

/* exp(x) = s * (1 + q): returns s = 2^n, stores q. Inputs are clamped to [EXP_LO, EXP_HI].
   n = round(x / ln2) comes from the magic-number trick: adding 1.5*2^23 + 127 rounds x/ln2 to an
   integer in the low mantissa bits, already biased, so shifting the bits left by 23 gives 2^n
   (no float->int conversion, which is slow in wasm on x86). */
#define EXP_LO -87.3f /* below: exp underflows (callers that need it flush to 0) */
#define EXP_HI 88.0f
ACT_INLINE v128_t exp_parts(v128_t x, v128_t* q) {
  const v128_t magic = wasm_f32x4_splat(12582912.0f + 127.0f);
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(EXP_LO)), wasm_f32x4_splat(EXP_HI));
  v128_t n = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  const v128_t s = wasm_i32x4_shl(n, 23);
  n = wasm_f32x4_sub(n, magic);
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145751953125f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.428606765330187045e-06f)));
  v128_t p = wasm_f32x4_splat(0.0013814662816002965f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.008368710987269878f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.04166838526725769f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.1666652113199234f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.4999999403953552f));
  *q = wasm_f32x4_add(r, wasm_f32x4_mul(wasm_f32x4_mul(r, r), p));
  return s;
}

/* exp(x); 0 for x < EXP_LO. */
ACT_INLINE v128_t exp_v(v128_t x) {
  v128_t q;
  const v128_t s = exp_parts(x, &q);
  const v128_t e = wasm_f32x4_add(s, wasm_f32x4_mul(s, q));
  return wasm_v128_andnot(e, wasm_f32x4_lt(x, wasm_f32x4_splat(EXP_LO)));
}

/* exp(x) - 1, accurate near 0; -1 for very negative x. */
ACT_INLINE v128_t expm1_v(v128_t x) {
  v128_t q;
  const v128_t s = exp_parts(x, &q);
  return wasm_f32x4_add(wasm_f32x4_sub(s, wasm_f32x4_splat(1.f)), wasm_f32x4_mul(s, q));
}

ACT_INLINE v128_t sigmoid_v(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.f);
  const v128_t e = exp_v(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  const v128_t d = wasm_f32x4_div(e, wasm_f32x4_add(one, e));
  return wasm_v128_bitselect(wasm_f32x4_sub(one, d), d, wasm_f32x4_gt(x, wasm_f32x4_splat(0.f)));
}

ACT_INLINE v128_t tanh_v(v128_t x) {
  const v128_t sign = wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000));
  const v128_t a = wasm_f32x4_abs(x);
  const v128_t m = expm1_v(wasm_f32x4_mul(a, wasm_f32x4_splat(-2.f)));
  const v128_t t = wasm_f32x4_div(wasm_f32x4_neg(m), wasm_f32x4_add(m, wasm_f32x4_splat(2.f)));
  return wasm_v128_or(t, sign);
}

ACT_INLINE v128_t elu_v(v128_t x) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  const v128_t em1 = expm1_v(wasm_f32x4_pmin(x, zero));
  return wasm_v128_bitselect(x, em1, wasm_f32x4_gt(x, zero));
}

/* tanh(softplus(x)), the factor of mish. */
ACT_INLINE v128_t mish_t_v(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.f), two = wasm_f32x4_splat(2.f);
  const v128_t e = exp_v(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  const v128_t pos = wasm_f32x4_ge(x, wasm_f32x4_splat(0.f));
  /* x >= 0: t = 1 - 2e^2 / (1 + 2e + 2e^2);  x < 0: t = u / (u + 2), u = e(e + 2). One division. */
  const v128_t e2 = wasm_f32x4_mul(e, e);
  const v128_t twoE2 = wasm_f32x4_add(e2, e2);
  const v128_t u = wasm_f32x4_mul(e, wasm_f32x4_add(e, two));
  const v128_t num = wasm_v128_bitselect(twoE2, u, pos);
  const v128_t den = wasm_v128_bitselect(wasm_f32x4_add(wasm_f32x4_add(one, wasm_f32x4_add(e, e)), twoE2), wasm_f32x4_add(u, two), pos);
  const v128_t f = wasm_f32x4_div(num, den);
  return wasm_v128_bitselect(wasm_f32x4_sub(one, f), f, pos);
}

ACT_INLINE v128_t mish_v(v128_t x) { return wasm_f32x4_mul(x, mish_t_v(x)); }

/* The cheap activations (linear, relu, relu6, leaky) inline; any other code returns x unchanged:
   kernels apply those with act_run on the stored outputs (act_is_cheap says which case). */
ACT_INLINE v128_t act_cheap_v(v128_t x, int act, v128_t alpha) {
  switch (act) {
    case ACT_RELU:
      return wasm_f32x4_pmax(x, wasm_f32x4_splat(0.f));
    case ACT_RELU6:
      return wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(0.f)), wasm_f32x4_splat(6.f));
    case ACT_LEAKY:
      return wasm_f32x4_pmax(x, wasm_f32x4_mul(x, alpha));
    default:
      return x;
  }
}

ACT_INLINE int act_is_cheap(int act) { return act <= ACT_LEAKY || act > ACT_MISH; }

ACT_INLINE v128_t act_v(v128_t x, int act, v128_t alpha) {
  switch (act) {
    case ACT_SIGMOID:
      return sigmoid_v(x);
    case ACT_TANH:
      return tanh_v(x);
    case ACT_ELU:
      return elu_v(x);
    case ACT_SWISH:
      return wasm_f32x4_mul(x, sigmoid_v(x));
    case ACT_MISH:
      return mish_v(x);
    default:
      return act_cheap_v(x, act, alpha);
  }
}

ACT_INLINE float act_s(float x, int act, float alpha) {
  switch (act) {
    case ACT_LINEAR:
      return x;
    case ACT_RELU:
      return x > 0.f ? x : 0.f;
    case ACT_RELU6:
      return x > 0.f ? (x < 6.f ? x : 6.f) : 0.f;
    case ACT_LEAKY:
      return x > alpha * x ? x : alpha * x;
    default:
      return wasm_f32x4_extract_lane(act_v(wasm_f32x4_splat(x), act, wasm_f32x4_splat(alpha)), 0);
  }
}


/* dst[0..n) = act(src[0..n)) (src == dst allowed), one specialised loop per activation
   (activation.c). */
void act_run(float* dst, const float* src, int n, int act, float alpha);

/*
 * ACT_DISPATCH_CHEAP(act, CALL): expands CALL(A) once per cheap activation code with A a
 * compile-time constant (any other code -> ACT_LINEAR), so a kernel's inner loop (an
 * always_inline function taking `act`) is specialised and has no switch inside.
 */
#define ACT_DISPATCH_CHEAP(act, CALL)       \
  switch (act) {                            \
    case ACT_RELU: CALL(ACT_RELU); break;   \
    case ACT_RELU6: CALL(ACT_RELU6); break; \
    case ACT_LEAKY: CALL(ACT_LEAKY); break; \
    default: CALL(ACT_LINEAR); break;       \
  }
