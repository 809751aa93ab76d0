/**
 * OpenCV's `cv2.resize(src, (W, H), interpolation=INTER_LINEAR)` on 8-bit images, reproduced
 * in integer arithmetic (OpenCV 4.x `resizeGeneric_` with `HResizeLinear<uchar, int, short,
 * 2048>` and the SIMD `VResizeLinearVec_32s8u` vertical pass): the preprocessing of SSD /
 * RFBNet-style models, which resize the uint8 image and round BEFORE the float conversion.
 *
 * Per axis: scale = src / dst (double); f = float32((d + 0.5) * scale - 0.5); s = floor(f),
 * f -= s; x is clamped to the edge with weight 0 outside; weights are rint(w * 2048) (round
 * half to even). Horizontal: T = I[s] * a0 + I[s+1] * a1 (exact int32). Vertical (SIMD form):
 * out = sat_u8((((T0 >> 4) * b0 >> 16) + ((T1 >> 4) * b1 >> 16) + 2) >> 2) for EVERY element of a
 * row: OpenCV's vector loop covers row tails too (checked against OpenCV 4.6 with its SIMD
 * dispatch, for all 3-channel widths 3..72 and odd widths up to 453; the scalar form
 * `(T0 * b0 + T1 * b1 + 2^21) >> 22` differs by 1 on some tail bytes and is not used). Checked
 * bit-exact against the rfsong fixtures' `resized_*_hwc_bgr.u8` and the installed python3-opencv.
 *
 * An exact 2x shrink in both axes (src = 2 * dst), which `cv::resize` switches to INTER_AREA
 * (`resizeAreaFast`: (a + b + c + d + 2) >> 2), needs no path of its own: there f = 0.5, both
 * weights are 1024, T = 1024 (a + b), and the vertical formula above reduces to exactly
 * (a + b + c + d + 2) >> 2 (tested against cv2 on a 768x576 -> 384x288 shrink).
 */

/** Round half to even, as `cvRound`/`rint`. */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface AxisCoeffs {
  s: Int32Array;
  /** Fractional weight f (float32), before the fixed-point conversion. */
  f: Float32Array;
}

function axisCoeffs(src: number, dst: number): AxisCoeffs {
  const scale = src / dst;
  const s = new Int32Array(dst);
  const f = new Float32Array(dst);
  for (let d = 0; d < dst; d++) {
    const v = Math.fround((d + 0.5) * scale - 0.5);
    const fl = Math.floor(v);
    s[d] = fl;
    f[d] = Math.fround(v - fl);
  }
  return { s, f };
}

function fixed(f: number): [number, number] {
  return [rint(Math.fround(Math.fround(1 - f) * 2048)), rint(Math.fround(f * 2048))];
}

/**
 * Resize interleaved uint8 pixels `[h, w, c]` to `[dstH, dstW, c]` as OpenCV's INTER_LINEAR
 * does. `src` may be any integer array holding 0..255.
 */
export function resizeLinearU8OpenCV(
  src: ArrayLike<number>,
  h: number,
  w: number,
  c: number,
  dstH: number,
  dstW: number,
): Uint8Array {
  if (!(h > 0 && w > 0 && c > 0 && dstH > 0 && dstW > 0)) throw new Error(`resizeLinearU8OpenCV: bad sizes ${h}x${w}x${c} -> ${dstH}x${dstW}`);
  if (src.length !== h * w * c) throw new Error(`resizeLinearU8OpenCV: ${src.length} values for ${h}x${w}x${c}`);
  const width = dstW * c;
  // Horizontal taps per output element.
  const xc = axisCoeffs(w, dstW);
  const i0 = new Int32Array(width);
  const i1 = new Int32Array(width);
  const a0 = new Int32Array(width);
  const a1 = new Int32Array(width);
  for (let dx = 0; dx < dstW; dx++) {
    let s = xc.s[dx];
    let f = xc.f[dx];
    if (s < 0) {
      s = 0;
      f = 0;
    }
    let w0: number;
    let w1: number;
    if (s >= w - 1) {
      s = w - 1;
      [w0, w1] = [2048, 0];
    } else {
      [w0, w1] = fixed(f);
    }
    const s1 = Math.min(s + 1, w - 1);
    for (let ch = 0; ch < c; ch++) {
      const e = dx * c + ch;
      i0[e] = s * c + ch;
      i1[e] = s1 * c + ch;
      a0[e] = w0;
      a1[e] = w1;
    }
  }
  // Horizontal pass over every source row that a destination row reads (lazily, cached).
  const rows = new Map<number, Int32Array>();
  const hrow = (r: number): Int32Array => {
    let t = rows.get(r);
    if (!t) {
      t = new Int32Array(width);
      const base = r * w * c;
      for (let e = 0; e < width; e++) t[e] = src[base + i0[e]] * a0[e] + src[base + i1[e]] * a1[e];
      rows.set(r, t);
    }
    return t;
  };
  const out = new Uint8Array(dstH * width);
  const yc = axisCoeffs(h, dstH);
  for (let dy = 0; dy < dstH; dy++) {
    const [b0, b1] = fixed(yc.f[dy]);
    const r0 = Math.min(Math.max(yc.s[dy], 0), h - 1);
    const r1 = Math.min(Math.max(yc.s[dy] + 1, 0), h - 1);
    const t0 = hrow(r0);
    const t1 = hrow(r1);
    const o = dy * width;
    for (let e = 0; e < width; e++) {
      // (T >> 4) * b fits in int32; Math.floor of the product / 2^16 is the arithmetic shift.
      const v = (Math.floor(((t0[e] >> 4) * b0) / 65536) + Math.floor(((t1[e] >> 4) * b1) / 65536) + 2) >> 2;
      out[o + e] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    // Rows are read in increasing order: drop the ones no later output row needs.
    for (const k of rows.keys()) if (k < r0) rows.delete(k);
  }
  return out;
}

