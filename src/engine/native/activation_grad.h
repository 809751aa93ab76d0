/*
 * Derivatives of the activations (codes in params.h) from the pre-activation x, as tfjs' autodiff
 * of the ops the tfjs path uses (src/infer/compileInference.ts applyActivation):
 *   relu 1 if x > 0 else 0 (tf.step);  relu6 1 if 0 < x <= 6;  leaky 1 if x > 0 else alpha;
 *   sigmoid s(1 - s);  tanh 1 - t^2;  elu 1 if x >= 0 else elu(x) + 1;
 *   swish s + x s (1 - s);  mish t + x (1 - t^2) sigmoid(x) with t = tanh(softplus(x)).
 */
#pragma once
#include "activation.h"

ACT_INLINE v128_t act_deriv_v(v128_t x, const int act, v128_t alpha) {
  const v128_t zero = wasm_f32x4_splat(0.f), one = wasm_f32x4_splat(1.f);
  switch (act) {
    case ACT_RELU:
      return wasm_v128_and(one, wasm_f32x4_gt(x, zero));
    case ACT_RELU6:
      return wasm_v128_and(one, wasm_v128_and(wasm_f32x4_gt(x, zero), wasm_f32x4_le(x, wasm_f32x4_splat(6.f))));
    case ACT_LEAKY:
      return wasm_v128_bitselect(one, alpha, wasm_f32x4_gt(x, zero));
    case ACT_SIGMOID: {
      const v128_t s = sigmoid_v(x);
      return wasm_f32x4_mul(s, wasm_f32x4_sub(one, s));
    }
    case ACT_TANH: {
      const v128_t t = tanh_v(x);
      return wasm_f32x4_sub(one, wasm_f32x4_mul(t, t));
    }
    case ACT_ELU:
      return wasm_v128_bitselect(one, wasm_f32x4_add(elu_v(x), one), wasm_f32x4_ge(x, zero));
    case ACT_SWISH: {
      const v128_t s = sigmoid_v(x);
      return wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(x, s), wasm_f32x4_sub(one, s)));
    }
    case ACT_MISH: {
      const v128_t t = mish_t_v(x), s = sigmoid_v(x);
      return wasm_f32x4_add(t, wasm_f32x4_mul(wasm_f32x4_mul(x, wasm_f32x4_sub(one, wasm_f32x4_mul(t, t))), s));
    }
    default:
      return one;
  }
}

/* The transcendental derivatives through one out-of-line copy (with the code switched at run
   time): per vector their exp and division cost far more than the call, and the module does not
   carry one inlined copy per loop variant. */
#define ACT_GRAD_ANY (-1)
__attribute__((noinline)) static v128_t act_deriv_any(v128_t x, int act, v128_t alpha) {
  switch (act) {
    case ACT_SIGMOID: return act_deriv_v(x, ACT_SIGMOID, alpha);
    case ACT_TANH: return act_deriv_v(x, ACT_TANH, alpha);
    case ACT_ELU: return act_deriv_v(x, ACT_ELU, alpha);
    case ACT_SWISH: return act_deriv_v(x, ACT_SWISH, alpha);
    case ACT_MISH: return act_deriv_v(x, ACT_MISH, alpha);
    default: return act_deriv_v(x, ACT_LINEAR, alpha);
  }
}

/* act'(x) for a loop specialised on ACT (a cheap code, or ACT_GRAD_ANY with the code in `act`). */
ACT_INLINE v128_t act_deriv(v128_t x, const int ACT, int act, v128_t alpha) {
  return ACT == ACT_GRAD_ANY ? act_deriv_any(x, act, alpha) : act_deriv_v(x, ACT, alpha);
}

/*
 * ACT_DISPATCH_GRAD(act, CALL): CALL(A) with A the compile-time code of a cheap activation
 * (linear, relu, relu6, leaky; unknown codes -> linear) or ACT_GRAD_ANY for the others.
 */
#define ACT_DISPATCH_GRAD(act, CALL)            \
  switch (act) {                                \
    case ACT_RELU: CALL(ACT_RELU); break;       \
    case ACT_RELU6: CALL(ACT_RELU6); break;     \
    case ACT_LEAKY: CALL(ACT_LEAKY); break;     \
    case ACT_SIGMOID:                           \
    case ACT_TANH:                              \
    case ACT_ELU:                               \
    case ACT_SWISH:                             \
    case ACT_MISH: CALL(ACT_GRAD_ANY); break;   \
    default: CALL(ACT_LINEAR); break;           \
  }
