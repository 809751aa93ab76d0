/* Vector helpers shared by the element kernels. */
#pragma once
#include "common.h"

#define VEC_INLINE static inline __attribute__((always_inline))

/* Partial loads/stores of the first n (1..3) lanes: never touch memory past p[n-1]. */
VEC_INLINE v128_t load_tail(const float* p, int n) {
  v128_t v = n >= 2 ? wasm_v128_load64_zero(p) : wasm_v128_load32_zero(p);
  if (n == 3) v = wasm_v128_load32_lane(p + 2, v, 2);
  return v;
}

VEC_INLINE void store_tail(float* p, v128_t v, int n) {
  if (n >= 2) {
    wasm_v128_store64_lane(p, v, 0);
    if (n == 3) wasm_v128_store32_lane(p + 2, v, 2);
  } else {
    wasm_v128_store32_lane(p, v, 0);
  }
}

/* A whole vector, or (tail = 1..3) only its first `tail` lanes: one call for the last,
   partial vector of a channel run. */
VEC_INLINE v128_t ld(const float* p, int tail) { return tail ? load_tail(p, tail) : wasm_v128_load(p); }
VEC_INLINE void st(float* p, v128_t v, int tail) {
  if (tail)
    store_tail(p, v, tail);
  else
    wasm_v128_store(p, v);
}

/* dst[0..n) = src[0..n) (no overlap). */
VEC_INLINE void copy_floats(float* dst, const float* src, int n) {
  int c = 0;
  for (; c + 8 <= n; c += 8) {
    const v128_t a = wasm_v128_load(src + c), b = wasm_v128_load(src + c + 4);
    wasm_v128_store(dst + c, a);
    wasm_v128_store(dst + c + 4, b);
  }
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
  if (c < n) store_tail(dst + c, load_tail(src + c, n - c), n - c);
}

/* dst[0..n) = v (all lanes of v equal). */
VEC_INLINE void fill_floats(float* dst, v128_t v, int n) {
  int c = 0;
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, v);
  if (c < n) store_tail(dst + c, v, n - c);
}

/* Units = images x ROWS, image-major: calls ROWFN(&Q, a, e) for each image b the range [r0, r1)
   meets, with Q a copy of *P whose pointers (byte offsets) are moved to image b (field += b *
   step for each listed pair) and [a, e) the range's rows inside the image. */
#define FOR_IMAGE_ROWS(TYPE, P, ROWS, r0, r1, ROWFN, MOVE)                  \
  {                                                                         \
    const int rows_ = (ROWS), n_ = (P)->images > 0 ? (P)->images : 1;      \
    if (rows_ > 0) {                                                        \
      int lo_ = (r0) < 0 ? 0 : (r0), hi_ = (r1) > n_ * rows_ ? n_ * rows_ : (r1); \
      for (int b_ = lo_ / rows_; b_ < n_ && b_ * rows_ < hi_; b_++) {       \
        TYPE Q = *(P);                                                      \
        MOVE(Q, b_);                                                        \
        const int a_ = lo_ > b_ * rows_ ? lo_ - b_ * rows_ : 0;             \
        const int e_ = hi_ < (b_ + 1) * rows_ ? hi_ - b_ * rows_ : rows_;   \
        ROWFN(&Q, a_, e_);                                                  \
      }                                                                     \
    }                                                                       \
  }
