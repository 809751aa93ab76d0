/*
 * Gradient of the interleaved channel split (ShuffleNet's channel shuffle + split, params.h:
 * ChannelScatterParams): output j of the split holds channels j, j + groups, ... of x, so its
 * gradient goes back to x with an OUTPUT channel step: out[p][c * channelStep] (+)= x[p][c].
 * Units = pixels; `accumulate` adds. (The forward is the `unary` kernel with an input channel
 * step.) Four channels are gathered into a vector and written lane by lane.
 */
#include "common.h"
#include "vecio.h"

__attribute__((export_name("channelScatter"))) void channelScatter(const int32_t* params, int r0, int r1) {
  const ChannelScatterParams* P = (const ChannelScatterParams*)params;
  const float* x = PTR(const float, P->x);
  float* out = PTR(float, P->out);
  const int xs = P->xStride, os = P->outStride, C = P->C, step = P->channelStep, acc = P->accumulate;
  if (r0 < 0) r0 = 0;
  if (r1 > P->pixels) r1 = P->pixels;
  if (r0 >= r1 || C <= 0 || step <= 0) return;
  for (int p = r0; p < r1; p++) {
    const float* xp = x + (size_t)p * xs;
    float* o = out + (size_t)p * os;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      float* d = o + (size_t)c * step;
      v128_t v = wasm_v128_load(xp + c);
      if (acc) {
        v128_t t = wasm_v128_load32_zero(d);
        t = wasm_v128_load32_lane(d + step, t, 1);
        t = wasm_v128_load32_lane(d + 2 * step, t, 2);
        t = wasm_v128_load32_lane(d + 3 * step, t, 3);
        v = wasm_f32x4_add(t, v);
      }
      wasm_v128_store32_lane(d, v, 0);
      wasm_v128_store32_lane(d + step, v, 1);
      wasm_v128_store32_lane(d + 2 * step, v, 2);
      wasm_v128_store32_lane(d + 3 * step, v, 3);
    }
    for (; c < C; c++) o[(size_t)c * step] = acc ? o[(size_t)c * step] + xp[c] : xp[c];
  }
}
