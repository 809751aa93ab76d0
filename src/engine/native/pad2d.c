/*
 * pad2d: constant padding (PadParams in params.h); units = output rows. The input (H x W) is
 * placed at (padTop, padLeft) of the OH x OW output; every other output position gets `value`.
 * The bottom/right padding is what OH/OW leave; an input part falling outside the output is cut.
 */
#include "common.h"
#include "vecio.h"

__attribute__((export_name("pad2d"))) void pad2d(const int32_t* params, int r0, int r1) {
  const PadParams* P = (const PadParams*)params;
  const float* in = PTR(const float, P->in);
  float* out = PTR(float, P->out);
  const int H = P->H, W = P->W, C = P->C, inStride = P->inStride;
  const int OH = P->OH, OW = P->OW, outStride = P->outStride, padTop = P->padTop, padLeft = P->padLeft;
  const v128_t value = wasm_f32x4_splat(P->value);
  if (r0 < 0) r0 = 0;
  if (r1 > OH) r1 = OH;
  if (C <= 0) return;
  /* output columns [x0, x1) come from the input */
  int x0 = padLeft < 0 ? 0 : padLeft, x1 = padLeft + W;
  if (x0 > OW) x0 = OW;
  if (x1 > OW) x1 = OW;
  if (x1 < x0) x1 = x0;
  const int dense = outStride == C;
  for (int oy = r0; oy < r1; oy++) {
    float* o = out + (size_t)oy * OW * outStride;
    const int iy = oy - padTop;
    if (iy < 0 || iy >= H) {
      if (dense) fill_floats(o, value, OW * C);
      else
        for (int x = 0; x < OW; x++) fill_floats(o + (size_t)x * outStride, value, C);
      continue;
    }
    if (dense) fill_floats(o, value, x0 * C);
    else
      for (int x = 0; x < x0; x++) fill_floats(o + (size_t)x * outStride, value, C);
    const float* irow = in + ((size_t)iy * W + (x0 - padLeft)) * inStride;
    if (dense && inStride == C)
      copy_floats(o + (size_t)x0 * C, irow, (x1 - x0) * C);
    else
      for (int x = x0; x < x1; x++) copy_floats(o + (size_t)x * outStride, irow + (size_t)(x - x0) * inStride, C);
    if (dense) fill_floats(o + (size_t)x1 * C, value, (OW - x1) * C);
    else
      for (int x = x1; x < OW; x++) fill_floats(o + (size_t)x * outStride, value, C);
  }
}
