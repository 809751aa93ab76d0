/**
 * Gradient kernels the tfjs wasm backend (4.22) lacks, built from kernels it has.
 *
 * tfjs-backend-wasm registers no `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput` or `UnsortedSegmentSum` (the gradient of `gather`), so
 * `tf.variableGrads` of any conv net throws there. Its `Conv2DBackpropInput` exists but is a
 * plain loop about 10x slower than the forward convolution, and its `MaxPoolGrad` and
 * `ResizeNearestNeighborGrad` give wrong values (max abs errors of 0.3 and 4 against cpu on
 * a 2x4x4x3 case); its `Tile` (used by batch-norm gradients) is ~25x slower than a
 * broadcasting multiply. This module registers wasm kernels for all of them, composed of ops
 * that run inside the wasm backend (XNNPACK convolutions, pads, rank-4 transposes, slices,
 * scatterND); apart from the two heap loops, no tensor data goes through JavaScript.
 *
 * The formulas (NHWC, forward `y = conv(x, W)` with stride s, dilation d, padding top/left):
 * - filter gradient of a conv: a convolution of the padded input (batch and channels swapped)
 *   with `dy` as the filter, the filter dilated by the stride:
 *   `dW[i,j,ci,co] = sum_{n,h,w} xpad[n, h*s + i, w*s + j, ci] * dy[n,h,w,co]`.
 * - input gradient of a conv (and depthwise conv): `dy` with zeros inserted between pixels
 *   (stride), padded by `k_eff - 1 - pad`, convolved (stride 1, dilation d) with the spatially
 *   flipped filter whose in/out channels are swapped.
 * - filter gradient of a depthwise conv: a depthwise convolution whose channels are the
 *   (image, channel) pairs, again with `dy` as the filter, then summed over images; when both
 *   the stride and the dilation exceed 1 (which tfjs' depthwise op cannot run), a sum over the
 *   kernel offsets of strided-slice products instead.
 * - max-pool gradient: `dy` goes to the first maximal tap of each window (as tfjs' cpu
 *   kernel); a loop over the wasm heap (src/train/wasmHeapKernels.ts), as is `Slice`, whose
 *   wasm kernel copies NHWC slices pixel by pixel.
 * - nearest-resize gradient: sums over each input pixel's output block (integer factors) or
 *   a product with the one-hot source matrix per axis.
 *
 * Call {@link registerWasmTrainingKernels} once (it is idempotent) before computing gradients
 * on the wasm backend; it does nothing harmful on other backends (the kernels are registered
 * for `wasm` only).
 */
import * as tf from '@tensorflow/tfjs';
import { maxPoolGradOnHeap, reverseOnHeap, sliceOnHeap } from './wasmHeapKernels';
import { installBatchNormTrainingGrad } from './batchNormTrainingGrad';

type Pad = 'valid' | 'same' | number | number[][];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Kernel names this module provides for the wasm backend. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'MaxPoolGrad',
  'ResizeNearestNeighborGrad',
  'Tile',
  'Slice',
  'Reverse',
] as const;

/** wasm's own Tile and Slice kernels, kept for the cases ours do not cover. */
let originalWasmTile: tf.KernelConfig | undefined;
let originalWasmSlice: tf.KernelConfig | undefined;

/** Property set on our kernel functions, to recognise them in the registry. */
const MARK = '__yoloTfjsWasmTraining';

function strideOrDilation(v: number | number[] | undefined): [number, number] {
  if (v == null) return [1, 1];
  if (typeof v === 'number') return [v, v];
  if (v.length === 4) return [v[1], v[2]];
  if (v.length === 2) return [v[0], v[1]];
  if (v.length === 1) return [v[0], v[0]];
  throw new Error(`wasm training kernels: bad strides/dilations ${JSON.stringify(v)}`);
}

function asTensor<R extends tf.Rank>(t: tf.TensorInfo | undefined): tf.Tensor<R> {
  if (t == null) throw new Error('wasm training kernels: a required kernel input is missing');
  if (!(t instanceof tf.Tensor)) {
    throw new Error('wasm training kernels expect tf.Tensor inputs (called from a tf op), got a bare TensorInfo');
  }
  return t as tf.Tensor<R>;
}

function checkNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (wasm training kernels): only dataFormat NHWC is supported, got ${dataFormat}`);
  }
}

/**
 * Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor.
 */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number, value = 0): tf.Tensor4D {
  let y = x;
  const [n, h, w, c] = y.shape;
  const cropT = Math.max(0, -top), cropB = Math.max(0, -bottom), cropL = Math.max(0, -left), cropR = Math.max(0, -right);
  if (cropT || cropB || cropL || cropR) {
    y = tf.slice(y, [0, cropT, cropL, 0], [n, h - cropT - cropB, w - cropL - cropR, c]);
  }
  const pt = Math.max(0, top), pb = Math.max(0, bottom), pl = Math.max(0, left), pr = Math.max(0, right);
  if (pt || pb || pl || pr) {
    y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]], value);
  }
  return y;
}

/** Inserts `sh - 1` / `sw - 1` zero rows / columns between the pixels of an NHWC tensor. */
function dilateSpatial(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [n, h, 1, w, 1, c]);
  const p = tf.pad(x6, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const full = tf.reshape(p, [n, h * sh, w * sw, c]) as tf.Tensor4D;
  return tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

interface Geometry {
  sh: number; sw: number; dh: number; dw: number;
  kh: number; kw: number;
  top: number; left: number;
  outH: number; outW: number;
  inH: number; inW: number;
}

function geometry(
  xShape: number[], filterShape: number[], strides: number | number[], dilations: number | number[] | undefined,
  pad: Pad, rounding: Rounding, depthwise: boolean,
): Geometry {
  const [sh, sw] = strideOrDilation(strides);
  const [dh, dw] = strideOrDilation(dilations);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    [sh, sw], [dh, dw], pad as 'valid', rounding, depthwise, 'channelsLast',
  );
  return {
    sh, sw, dh, dw, kh: filterShape[0], kw: filterShape[1],
    top: info.padInfo.top, left: info.padInfo.left,
    outH: info.outHeight, outW: info.outWidth, inH: info.inHeight, inW: info.inWidth,
  };
}

/**
 * The input padded by the forward pass's top/left padding and cropped or padded at the
 * bottom/right to exactly the extent the output reads: `(out-1)*s + (k-1)*d + 1`.
 */
function paddedInputExtent(x: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const needH = (g.outH - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const needW = (g.outW - 1) * g.sw + (g.kw - 1) * g.dw + 1;
  return padOrCrop(x, g.top, needH - g.top - g.inH, g.left, needW - g.left - g.inW);
}

/**
 * `dy` dilated by the stride and padded so that a stride-1 'valid' convolution with the
 * (dilated) flipped filter yields exactly the input's spatial size.
 */
function dyForInputGrad(dy: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const dil = dilateSpatial(dy, g.sh, g.sw);
  const kEffH = (g.kh - 1) * g.dh + 1;
  const kEffW = (g.kw - 1) * g.dw + 1;
  const top = kEffH - 1 - g.top;
  const left = kEffW - 1 - g.left;
  const bottom = g.inH + kEffH - 1 - top - dil.shape[1];
  const right = g.inW + kEffW - 1 - left - dil.shape[2];
  return padOrCrop(dil, top, bottom, left, right);
}

/** Gradient of conv2d w.r.t. its filter: `[kh, kw, Ci, Co]`. */
export function conv2dFilterGrad(
  x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number],
  strides: number | number[], pad: Pad, rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, 1, pad, rounding, false);
    const [kh, kw, ci, co] = filterShape;
    const [n, ho, wo] = dy.shape;
    if (kh === 1 && kw === 1) {
      // 1x1: a single matrix product x^T dy over the strided input.
      let xs = paddedInputExtent(x, g);
      if (g.sh > 1 || g.sw > 1) {
        xs = tf.stridedSlice(xs, [0, 0, 0, 0], [n, xs.shape[1], xs.shape[2], ci], [1, g.sh, g.sw, 1]) as tf.Tensor4D;
      }
      const xt = tf.transpose(tf.reshape(xs, [n * ho * wo, ci]));
      return tf.reshape(tf.matMul(xt, tf.reshape(dy, [n * ho * wo, co])), [1, 1, ci, co]);
    }
    const xp = paddedInputExtent(x, g); // [N, Hn, Wn, Ci]
    const xt = tf.transpose(xp, [3, 1, 2, 0]); // [Ci, Hn, Wn, N]: batch = input channel
    const f = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]: dy as the filter
    const r = tf.conv2d(xt, f, 1, 'valid', 'NHWC', [g.sh, g.sw]); // [Ci, kh, kw, Co]
    return tf.transpose(r, [1, 2, 0, 3]);
  });
}

/** Gradient of conv2d w.r.t. its input, shape `inputShape`. */
export function conv2dInputGrad(
  dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number],
  strides: number | number[], pad: Pad, rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(inputShape, filter.shape, strides, 1, pad, rounding, false);
    const [kh, kw] = filter.shape;
    if (kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 && g.left === 0 &&
        g.outH === g.inH && g.outW === g.inW) {
      const [n, h, w, co] = dy.shape;
      const ci = filter.shape[2];
      // (wasm's matMul is slow with transposed operands: transpose the small filter instead.)
      const r = tf.matMul(tf.reshape(dy, [n * h * w, co]), tf.transpose(tf.reshape(filter, [ci, co])));
      return tf.reshape(r, inputShape);
    }
    const d = dyForInputGrad(dy, g);
    const wf = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, Co, Ci]
    return tf.conv2d(d, wf as tf.Tensor4D, 1, 'valid');
  });
}

/** Gradient of depthwiseConv2d w.r.t. its input, shape `inputShape`. */
export function depthwiseInputGrad(
  dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number],
  strides: number | number[], dilations: number | number[] | undefined, pad: Pad, rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(inputShape, filter.shape, strides, dilations, pad, rounding, true);
    const [kh, kw, c, m] = filter.shape;
    const d = dyForInputGrad(dy, g); // channels c*m
    const wf = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
    const r = tf.depthwiseConv2d(d, wf, 1, 'valid', 'NHWC', [g.dh, g.dw]); // [N, H, W, c*m]
    if (m === 1) return r;
    const [n, h, w] = r.shape;
    return tf.sum(tf.reshape(r, [n, h, w, c, m]), 4) as tf.Tensor4D;
  });
}

/** Gradient of depthwiseConv2d w.r.t. its filter: `[kh, kw, C, m]`. */
export function depthwiseFilterGrad(
  x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number],
  strides: number | number[], dilations: number | number[] | undefined, pad: Pad, rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, dilations, pad, rounding, true);
    const [kh, kw, c, m] = filterShape;
    const [n, ho, wo] = dy.shape;
    const xp = paddedInputExtent(x, g); // [N, Hn, Wn, C]
    const [, hn, wn] = xp.shape;
    if ((g.sh > 1 || g.sw > 1) && (g.dh > 1 || g.dw > 1)) {
      // tfjs' depthwise op cannot take both a stride and a dilation: sum of per-offset products.
      const dy5 = tf.reshape(dy, [n, ho, wo, c, m]);
      const taps: tf.Tensor[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const xs = tf.stridedSlice(
            xp, [0, i * g.dh, j * g.dw, 0],
            [n, i * g.dh + (ho - 1) * g.sh + 1, j * g.dw + (wo - 1) * g.sw + 1, c], [1, g.sh, g.sw, 1],
          ) as tf.Tensor4D;
          taps.push(tf.sum(tf.mul(tf.reshape(xs, [n, ho, wo, c, 1]), dy5), [0, 1, 2]));
        }
      }
      return tf.reshape(tf.stack(taps), [kh, kw, c, m]);
    }
    // Depthwise conv over channels = (image, channel): input [1, Hn, Wn, N*C], filter = dy
    // [Ho, Wo, N*C, m] dilated by the stride, output stride = the forward dilation.
    const xin = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hn, wn, n * c]) as tf.Tensor4D;
    const f = tf.reshape(tf.transpose(tf.reshape(dy, [n, ho, wo, c, m]), [1, 2, 0, 3, 4]), [ho, wo, n * c, m]) as tf.Tensor4D;
    const r = tf.depthwiseConv2d(xin, f, [g.dh, g.dw], 'valid', 'NHWC', [g.sh, g.sw]); // [1, kh', kw', N*C*m]
    const r5 = tf.slice(tf.reshape(r, [r.shape[1], r.shape[2], n, c, m]), [0, 0, 0, 0, 0], [kh, kw, n, c, m]);
    return tf.sum(r5, 2) as tf.Tensor4D;
  });
}

/**
 * `UnsortedSegmentSum` (the gradient of `gather`): `out[s, ...] = sum over i with ids[i] = s of
 * x[i, ...]`; negative or out-of-range ids are dropped as in TensorFlow. A `scatterND` (which
 * accumulates duplicate indices) of the rows with valid ids.
 */
export function unsortedSegmentSumWasm(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const ids = tf.reshape(tf.cast(segmentIds, 'int32'), [-1]);
    const rows = ids.shape[0];
    const rest = x.shape.slice(segmentIds.shape.length);
    const valid = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
    const safeIds = tf.reshape(tf.clipByValue(ids, 0, numSegments - 1), [rows, 1]);
    const x2 = tf.reshape(x, [rows, ...rest]);
    const keep = tf.reshape(tf.cast(valid, x.dtype), [rows, ...rest.map(() => 1)]);
    return tf.scatterND(safeIds, tf.mul(x2, keep), [numSegments, ...rest]);
  });
}

/**
 * Source index of every output row (or column) of tfjs' nearest-neighbour resize, as its
 * forward kernels compute it.
 */
function nearestSources(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number[] {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const scale = effIn / effOut;
  return Array.from({ length: outSize }, (_, r) => {
    const frac = halfPixelCenters ? scale * (r + 0.5) : scale * r;
    let src = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    if (halfPixelCenters) src = Math.max(0, src);
    return src;
  });
}

/** Sums `t` along `axis` into `inSize` bins given each position's bin. */
function binAxis(t: tf.Tensor4D, axis: 1 | 2, sources: number[], inSize: number): tf.Tensor4D {
  const out = sources.length;
  const f = out / inSize;
  if (Number.isInteger(f) && sources.every((s, r) => s === Math.floor(r / f))) {
    if (f === 1) return t;
    const sh = t.shape.slice() as number[];
    const split = axis === 1 ? [sh[0], inSize, f, sh[2], sh[3]] : [sh[0], sh[1], inSize, f, sh[3]];
    return tf.sum(tf.reshape(t, split), axis + 1) as tf.Tensor4D;
  }
  // General mapping: a product with the [out, in] one-hot matrix of the sources.
  const perm = axis === 1 ? [0, 2, 3, 1] : [0, 1, 3, 2];
  const moved = tf.transpose(t, perm); // axis last
  const ms = moved.shape;
  // wasm's OneHot is wrong for float32 output: build int32 and cast.
  const sel = tf.cast(tf.oneHot(tf.tensor1d(sources, 'int32'), inSize), 'float32');
  const r = tf.reshape(tf.matMul(tf.reshape(moved, [-1, out]), sel), [ms[0], ms[1], ms[2], inSize]);
  return tf.transpose(r, axis === 1 ? [0, 3, 1, 2] : [0, 1, 3, 2]) as tf.Tensor4D;
}

/** Gradient of resizeNearestNeighbor w.r.t. its input (of shape `imagesShape`). */
export function resizeNearestInputGrad(
  dy: tf.Tensor4D, imagesShape: number[], alignCorners: boolean, halfPixelCenters: boolean,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = imagesShape;
    const [, oh, ow] = dy.shape;
    const rows = binAxis(dy, 1, nearestSources(h, oh, alignCorners, halfPixelCenters), h);
    return binAxis(rows, 2, nearestSources(w, ow, alignCorners, halfPixelCenters), w);
  });
}

/**
 * `tile` where every repeated axis has size 1 (how batch-norm and reduction gradients use it):
 * a broadcasting multiply by ones, which wasm runs ~25x faster than its Tile kernel. Returns
 * null for other cases.
 */
export function tileByBroadcast(x: tf.Tensor, reps: number[]): tf.Tensor | null {
  if (x.dtype !== 'float32' || reps.length !== x.rank) return null;
  if (!reps.every((r, k) => r === 1 || x.shape[k] === 1)) return null;
  if (reps.every((r) => r === 1)) return null;
  return tf.tidy(() => tf.mul(x, tf.ones(reps)));
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function kernels(wasmTile: tf.KernelConfig | undefined, wasmSlice: tf.KernelConfig | undefined): tf.KernelConfig[] {
  return [
    {
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as any;
        checkNHWC('Conv2DBackpropFilter', a.dataFormat);
        return conv2dFilterGrad(
          asTensor<tf.Rank.R4>(inputs.x), asTensor<tf.Rank.R4>(inputs.dy), a.filterShape, a.strides, a.pad, a.dimRoundingMode,
        );
      },
    },
    {
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as any;
        checkNHWC('Conv2DBackpropInput', a.dataFormat);
        return conv2dInputGrad(
          asTensor<tf.Rank.R4>(inputs.dy), asTensor<tf.Rank.R4>(inputs.filter), a.inputShape, a.strides, a.pad, a.dimRoundingMode,
        );
      },
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as any;
        return depthwiseFilterGrad(
          asTensor<tf.Rank.R4>(inputs.x), asTensor<tf.Rank.R4>(inputs.dy), a.filterShape, a.strides, a.dilations, a.pad,
          a.dimRoundingMode,
        );
      },
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as any;
        return depthwiseInputGrad(
          asTensor<tf.Rank.R4>(inputs.dy), asTensor<tf.Rank.R4>(inputs.filter), a.inputShape, a.strides, a.dilations, a.pad,
          a.dimRoundingMode,
        );
      },
    },
    {
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) =>
        unsortedSegmentSumWasm(asTensor(inputs.x), asTensor(inputs.segmentIds), (attrs as any).numSegments),
    },
    {
      // wasm has this kernel, but it is slow; its own implementation handles the other cases.
      kernelName: 'Tile',
      backendName: 'wasm',
      // wasm's setup (binding its C++ function) must still run when a wasm module is created.
      setupFunc: wasmTile?.setupFunc,
      kernelFunc: (args) => {
        const fast = tileByBroadcast(asTensor(args.inputs.x), (args.attrs as any).reps);
        if (fast) return fast;
        if (!wasmTile) throw new Error('Tile (wasm training kernels): the wasm backend\'s own Tile kernel was not found');
        return wasmTile.kernelFunc(args);
      },
    },
    {
      // wasm has this kernel, but it returns wrong values (checked against cpu).
      kernelName: 'MaxPoolGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const a = attrs as any;
        if (inputs.dy == null || inputs.input == null) throw new Error('MaxPoolGrad (wasm training kernels): dy and input are required');
        return maxPoolGradOnHeap(backend, inputs.dy, inputs.input, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
      },
    },
    {
      // wasm has this kernel, but it copies NHWC slices one pixel at a time.
      kernelName: 'Slice',
      backendName: 'wasm',
      setupFunc: wasmSlice?.setupFunc,
      kernelFunc: (args) => {
        const x = args.inputs.x;
        if (x == null) throw new Error('Slice (wasm training kernels): x is required');
        if (x.dtype === 'string' || x.dtype === 'complex64') {
          if (!wasmSlice) throw new Error('Slice (wasm training kernels): the wasm backend\'s own Slice kernel was not found');
          return wasmSlice.kernelFunc(args);
        }
        const a = args.attrs as any;
        return sliceOnHeap(args.backend, x, a.begin, a.size);
      },
    },
    {
      // wasm has this kernel, but it computes an index per element (slow on conv filters).
      kernelName: 'Reverse',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const x = inputs.x;
        if (x == null) throw new Error('Reverse (wasm training kernels): x is required');
        if (x.dtype === 'string' || x.dtype === 'complex64') throw new Error(`Reverse (wasm training kernels): dtype ${x.dtype} is not supported`);
        return reverseOnHeap(backend, x, (attrs as any).dims);
      },
    },
    {
      // wasm has this kernel, but it returns wrong values (checked against cpu).
      kernelName: 'ResizeNearestNeighborGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as any;
        return resizeNearestInputGrad(asTensor<tf.Rank.R4>(inputs.dy), asTensor(inputs.images).shape, !!a.alignCorners, !!a.halfPixelCenters);
      },
    },
  ];
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Registers the wasm kernels listed in {@link WASM_TRAINING_KERNELS} so that gradients of conv,
 * depthwise-conv, gather, max-pool and nearest-upsample ops work and are right on the wasm
 * backend (and conv input gradients run through XNNPACK). Idempotent. Replaces six kernels
 * wasm has: `Conv2DBackpropInput` (slow), `Tile` (slow; only the broadcast-like case is
 * replaced, the rest still goes to wasm's kernel), `Slice` (slow on NHWC; strings still go to
 * wasm's kernel), `Reverse` (slow), `MaxPoolGrad` and `ResizeNearestNeighborGrad` (wrong results in
 * tfjs-backend-wasm 4.22).
 * Call it after `@tensorflow/tfjs-backend-wasm` is loaded (e.g. after `setBackend('wasm')`):
 * loading that package afterwards would put its own `Conv2DBackpropInput` back (calling this
 * again restores ours). Harmless when the wasm backend is not used.
 */
export function registerWasmTrainingKernels(): void {
  const own = (name: string, kept: tf.KernelConfig | undefined): tf.KernelConfig | undefined => {
    const k = tf.getKernel(name, 'wasm');
    return k && !(k.kernelFunc as unknown as Record<string, boolean>)[MARK] ? k : kept;
  };
  originalWasmTile = own('Tile', originalWasmTile);
  originalWasmSlice = own('Slice', originalWasmSlice);
  for (const k of kernels(originalWasmTile, originalWasmSlice)) {
    const existing = tf.getKernel(k.kernelName, 'wasm');
    if (existing != null) {
      if ((existing.kernelFunc as unknown as Record<string, boolean>)[MARK]) continue;
      tf.unregisterKernel(k.kernelName, 'wasm');
    }
    (k.kernelFunc as unknown as Record<string, boolean>)[MARK] = true;
    tf.registerKernel(k);
  }
}

/**
 * tfjs' cpu `ResizeNearestNeighborGrad` (4.22) reads `dy` with the input image's batch stride,
 * so the gradient of an upsampling layer is wrong on cpu for batch sizes above 1 (and it
 * ignores `halfPixelCenters`). This replaces it on the cpu backend with the composed kernel
 * used for wasm. Idempotent.
 */
export function registerCpuTrainingFixes(): void {
  const existing = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  if (existing != null && (existing.kernelFunc as unknown as Record<string, boolean>)[MARK]) return;
  if (existing != null) tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  const kernelFunc: tf.KernelFunc = ({ inputs, attrs }) => {
    const a = attrs as { alignCorners?: boolean; halfPixelCenters?: boolean };
    return resizeNearestInputGrad(asTensor<tf.Rank.R4>(inputs.dy), asTensor(inputs.images).shape, !!a.alignCorners, !!a.halfPixelCenters);
  };
  (kernelFunc as unknown as Record<string, boolean>)[MARK] = true;
  tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc });
}

/**
 * The training set-up `train()` needs on the current backend: the wasm kernels
 * ({@link registerWasmTrainingKernels}) on wasm, the upsample-gradient fix on cpu, and on every
 * backend the closed-form BatchNormalization training gradient
 * (src/train/batchNormTrainingGrad.ts). Idempotent.
 */
export function registerTrainingKernelsForBackend(): void {
  installBatchNormTrainingGrad();
  const backend = tf.getBackend();
  if (backend === 'wasm') registerWasmTrainingKernels();
  else if (backend === 'cpu') registerCpuTrainingFixes();
}
