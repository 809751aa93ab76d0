/* act_run: an activation over a contiguous run of floats, src -> dst (see activation.h). */
#include "activation.h"
#include "vecio.h"

VEC_INLINE void act_loop(float* d, const float* p, int n, const int act, v128_t alpha) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t a = act_v(wasm_v128_load(p + i), act, alpha), b = act_v(wasm_v128_load(p + i + 4), act, alpha);
    const v128_t c = act_v(wasm_v128_load(p + i + 8), act, alpha), e = act_v(wasm_v128_load(p + i + 12), act, alpha);
    wasm_v128_store(d + i, a);
    wasm_v128_store(d + i + 4, b);
    wasm_v128_store(d + i + 8, c);
    wasm_v128_store(d + i + 12, e);
  }
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, act_v(wasm_v128_load(p + i), act, alpha));
  if (i < n) store_tail(d + i, act_v(load_tail(p + i, n - i), act, alpha), n - i);
}

void act_run(float* d, const float* p, int n, int act, float alpha_s) {
  const v128_t alpha = wasm_f32x4_splat(alpha_s);
  switch (act) {
    case ACT_LINEAR: if (d != p) copy_floats(d, p, n); break;
    case ACT_RELU: act_loop(d, p, n, ACT_RELU, alpha); break;
    case ACT_RELU6: act_loop(d, p, n, ACT_RELU6, alpha); break;
    case ACT_LEAKY: act_loop(d, p, n, ACT_LEAKY, alpha); break;
    case ACT_SIGMOID: act_loop(d, p, n, ACT_SIGMOID, alpha); break;
    case ACT_TANH: act_loop(d, p, n, ACT_TANH, alpha); break;
    case ACT_ELU: act_loop(d, p, n, ACT_ELU, alpha); break;
    case ACT_SWISH: act_loop(d, p, n, ACT_SWISH, alpha); break;
    case ACT_MISH: act_loop(d, p, n, ACT_MISH, alpha); break;
    default: break;
  }
}
