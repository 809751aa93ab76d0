/*
 * upsampleNearest by integer factors (UpsampleParams in params.h); units = output rows.
 * Output is (H*fy) x (W*fx); out[y][x] = in[floor(y/fy)][floor(x/fx)], i.e.
 * tf.image.resizeNearestNeighbor to an integer multiple of the size (alignCorners false,
 * halfPixelCenters false).
 */
#include "common.h"
#include "vecio.h"

__attribute__((export_name("upsampleNearest"))) void upsampleNearest(const int32_t* params, int r0, int r1) {
  const UpsampleParams* P = (const UpsampleParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const int H = P->H, W = P->W, C = P->C, inStride = P->inStride, outStride = P->outStride;
  const int fy = P->fy, fx = P->fx;
  const int OH = H * fy, OW = W * fx;
  if (r0 < 0) r0 = 0;
  if (r1 > OH) r1 = OH;
  if (C <= 0 || fx <= 0 || fy <= 0) return;
  for (int oy = r0; oy < r1; oy++) {
    const float* irow = in + (size_t)(oy / fy) * W * inStride;
    float* o = out + (size_t)oy * OW * outStride;
    if (C == 4 * (C >> 2) && C <= 16) {
      /* few channels: the pixel stays in registers across its fx copies */
      for (int ix = 0; ix < W; ix++) {
        const float* s = irow + (size_t)ix * inStride;
        for (int c = 0; c < C; c += 4) {
          const v128_t v = wasm_v128_load(s + c);
          for (int k = 0; k < fx; k++) wasm_v128_store(o + (size_t)k * outStride + c, v);
        }
        o += (size_t)fx * outStride;
      }
    } else {
      for (int ix = 0; ix < W; ix++) {
        const float* s = irow + (size_t)ix * inStride;
        for (int k = 0; k < fx; k++, o += outStride) copy_floats(o, s, C);
      }
    }
  }
}
