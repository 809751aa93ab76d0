/**
 * The input gradient of conv2d as a conv2d (the wasm kernel of inference): for stride 1,
 * dx = conv(dy, W') with W'[ky][kx][co][ci] = W[kh-1-ky][kw-1-kx][ci][co] (spatially flipped,
 * in/out transposed) and padding (k-1)*d - pad on the top/left, the bottom/right following from
 * the output size (reads outside dy are zero), so it is exact for any 'same'/explicit padding,
 * odd or even kernels. For stride s > 1, dy is first spread onto a zeroed grid
 * ((OH-1)*s+1 rows, the `zeroInsert` kernel) and that grid is convolved with stride 1.
 * Depthwise convolutions the same way for stride 1 (the depthwise2d kernel on flipped weights,
 * faster than the gather kernel depthwise2dInputGrad, which takes every other stride).
 */
import { packConvWeights, packDepthwiseWeights } from './kernelModule';

/** Geometry of a forward conv2d (one image, NHWC): input H x W x C, output OH x OW x N. */
export interface ConvGeometry {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  N: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
}

/** How to compute dx of a conv2d with the conv2d kernel (see the module comment). */
export interface ConvInputGradPlan {
  /** When the forward stride > 1: run zeroInsert of dy (OH x OW x N) into a zeroed H x W x N grid with these fields, then the conv on it. */
  zeroInsert: { OH: number; OW: number; sy: number; sx: number } | null;
  /** The conv2d kernel's geometry fields: input = dy (or the zero-inserted grid), output = dx. */
  conv: { H: number; W: number; C: number; OH: number; OW: number; N: number; kh: number; kw: number; sh: 1; sw: 1; dh: number; dw: number; padTop: number; padLeft: number };
}

/** The plan of dx for a forward conv of geometry `g`. */
export function convInputGradPlan(g: ConvGeometry): ConvInputGradPlan {
  for (const [k, v] of Object.entries(g)) {
    if (!Number.isInteger(v)) throw new Error(`convInputGradPlan: ${k} must be an integer, got ${v}`);
  }
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.kh < 1 || g.kw < 1) throw new Error('convInputGradPlan: kernel, stride and dilation must be >= 1');
  const strided = g.sh > 1 || g.sw > 1;
  const gh = strided ? (g.OH - 1) * g.sh + 1 : g.OH;
  const gw = strided ? (g.OW - 1) * g.sw + 1 : g.OW;
  return {
    zeroInsert: strided ? { OH: gh, OW: gw, sy: g.sh, sx: g.sw } : null,
    conv: {
      H: gh,
      W: gw,
      C: g.N,
      OH: g.H,
      OW: g.W,
      N: g.C,
      kh: g.kh,
      kw: g.kw,
      sh: 1,
      sw: 1,
      dh: g.dh,
      dw: g.dw,
      padTop: (g.kh - 1) * g.dh - g.padTop,
      padLeft: (g.kw - 1) * g.dw - g.padLeft,
    },
  };
}

/**
 * The forward filter HWIO `[kh, kw, cin, cout]` -> the conv2d kernel's packed weights of the
 * input-gradient conv (flipped, transposed: `cout` inputs, `cin` outputs) and its zero bias.
 */
export function packConvInputGradWeights(filter: Float32Array, shape: readonly [number, number, number, number]): { weights: Float32Array; bias: Float32Array } {
  const [kh, kw, cin, cout] = shape;
  if (filter.length !== kh * kw * cin * cout) throw new Error(`packConvInputGradWeights: filter has ${filter.length} values, shape [${shape.join(', ')}] needs ${kh * kw * cin * cout}`);
  const t = new Float32Array(filter.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const src = ((kh - 1 - ky) * kw + (kw - 1 - kx)) * cin * cout;
      const dst = (ky * kw + kx) * cout * cin;
      for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) t[dst + co * cin + ci] = filter[src + ci * cout + co];
    }
  }
  return packConvWeights(t, [kh, kw, cout, cin], null);
}

/**
 * For a stride-1 depthwise conv of geometry `g` (C = N channels): the depthwise2d kernel's
 * geometry fields computing dx from dy (input = dy OH x OW, output = dx H x W), with weights from
 * {@link packDepthwiseInputGradWeights}. null for strides > 1 (use depthwise2dInputGrad).
 */
export function depthwiseInputGradAsForward(g: Omit<ConvGeometry, 'N'>): { H: number; W: number; OH: number; OW: number; kh: number; kw: number; sh: 1; sw: 1; dh: number; dw: number; padTop: number; padLeft: number } | null {
  if (g.sh !== 1 || g.sw !== 1) return null;
  const c = convInputGradPlan({ ...g, N: g.C }).conv;
  return { H: c.H, W: c.W, OH: c.OH, OW: c.OW, kh: c.kh, kw: c.kw, sh: 1, sw: 1, dh: c.dh, dw: c.dw, padTop: c.padTop, padLeft: c.padLeft };
}

/** Depthwise filter `[kh, kw, C, 1]` -> depthwise2d's packed weights of the input-gradient conv (spatially flipped) and its zero bias. */
export function packDepthwiseInputGradWeights(filter: Float32Array, shape: readonly [number, number, number, number]): { weights: Float32Array; bias: Float32Array } {
  const [kh, kw, c, mult] = shape;
  if (mult !== 1 || filter.length !== kh * kw * c) throw new Error(`packDepthwiseInputGradWeights: filter has ${filter.length} values, shape [${shape.join(', ')}] (multiplier 1 only)`);
  const t = new Float32Array(filter.length);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) t.set(filter.subarray(((kh - 1 - ky) * kw + (kw - 1 - kx)) * c, ((kh - 1 - ky) * kw + (kw - 1 - kx) + 1) * c), (ky * kw + kx) * c);
  return packDepthwiseWeights(t, shape, null);
}
