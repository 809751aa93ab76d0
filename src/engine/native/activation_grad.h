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

/*
 * ACT_DISPATCH_ALL(act, CALL): CALL(A) with A the compile-time code of `act` (unknown -> linear),
 * so a loop taking the code as a constant is specialised per activation.
 */
#define ACT_DISPATCH_ALL(act, CALL)             \
  switch (act) {                                \
    case ACT_RELU: CALL(ACT_RELU); break;       \
    case ACT_RELU6: CALL(ACT_RELU6); break;     \
    case ACT_LEAKY: CALL(ACT_LEAKY); break;     \
    case ACT_SIGMOID: CALL(ACT_SIGMOID); break; \
    case ACT_TANH: CALL(ACT_TANH); break;       \
    case ACT_ELU: CALL(ACT_ELU); break;         \
    case ACT_SWISH: CALL(ACT_SWISH); break;     \
    case ACT_MISH: CALL(ACT_MISH); break;       \
    default: CALL(ACT_LINEAR); break;           \
  }
