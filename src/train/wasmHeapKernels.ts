/**
 * Three wasm kernels written as plain loops over the wasm heap, for the training path:
 *
 * - `MaxPoolGrad`: each pooling window passes its gradient to the FIRST maximal input of the
 *   window in row-major order, padding excluded (the semantics of tfjs' cpu kernel). One pass
 *   over the windows with a running max per channel; the earlier version composed of tfjs ops
 *   (one equal / logical-and / logical-or / pad per window tap) took ~0.4 s for the 3x3/2 stem
 *   pool of YOLO-FastestV2 at batch 8 x 352 px, this takes a few ms.
 * - `Slice`: tfjs-backend-wasm (4.22) copies a rank-4 slice with one `subarray` + `set` per
 *   innermost row, i.e. per pixel of an NHWC tensor (a 3-channel crop of a 354x354 batch-8
 *   image is a million tiny copies). Here the trailing axes the slice covers whole are merged
 *   into one contiguous run, long runs are block-copied and short runs (a channel split of a
 *   ShuffleNet block) copied element by element. Any rank; strings go to wasm's own kernel.
 * - `Reverse`: the conv input gradient flips every filter (`reverse` of the two spatial axes);
 *   wasm's kernel computes an index per element (~0.1 s for a 3x3x512x1024 filter of tiny
 *   YOLOv3 on this VM, 9% of its training step); here the axes after the last reversed one are
 *   block-copied.
 *
 * Inputs are read through views of the wasm heap taken AFTER the output is allocated (an
 * allocation may grow the heap and detach earlier views), so nothing is copied to JavaScript.
 */
import * as tf from '@tensorflow/tfjs';

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** What these kernels use of tfjs-backend-wasm's `BackendWasm`. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): HeapArray;
}

function heapBackend(backend: unknown): WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new Error('wasm heap kernels: the backend is not tfjs-backend-wasm');
  }
  return b as WasmHeapBackend;
}

/**
 * `MaxPoolGrad` on the heap: `dx` for input `x` of a max pool with this geometry, from `dy`.
 */
export function maxPoolGradOnHeap(
  backend: unknown, dy: tf.TensorInfo, x: tf.TensorInfo,
  filterSize: number | [number, number], strides: number | [number, number],
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding, rounding?: 'floor' | 'round' | 'ceil',
): tf.TensorInfo {
  const b = heapBackend(backend);
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, rounding);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  if (dy.shape.join(',') !== [n, ho, wo, c].join(',')) {
    throw new Error(`MaxPoolGrad: dy has shape [${dy.shape}], the pool's output is [${[n, ho, wo, c]}]`);
  }
  const out = b.makeOutput(x.shape, 'float32');
  const dx = b.typedArrayFromHeap(out) as Float32Array;
  const xv = b.typedArrayFromHeap(x) as Float32Array;
  const dyv = b.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let bi = 0; bi < n; bi++) {
    for (let oh = 0; oh < ho; oh++) {
      const r0 = oh * sh - top;
      const rLo = Math.max(0, r0);
      const rHi = Math.min(h, r0 + kh);
      for (let ow = 0; ow < wo; ow++) {
        const c0 = ow * sw - left;
        const cLo = Math.max(0, c0);
        const cHi = Math.min(w, c0 + kw);
        best.fill(-Infinity);
        at.fill(-1);
        for (let r = rLo; r < rHi; r++) {
          for (let col = cLo; col < cHi; col++) {
            const base = ((bi * h + r) * w + col) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch];
              // strictly greater: the first maximum in window order keeps the gradient
              if (v > best[ch]) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((bi * ho + oh) * wo + ow) * c;
        for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dx[at[ch]] += dyv[dyBase + ch];
      }
    }
  }
  return out;
}

/** Below this many elements a run is copied element by element (cheaper than subarray + set). */
const BLOCK_COPY_MIN = 64;

/** `Slice` on the heap (see the file header); `begin`/`size` as tfjs' Slice kernel attributes. */
export function sliceOnHeap(backend: unknown, x: tf.TensorInfo, begin: number | number[], size: number | number[]): tf.TensorInfo {
  const b = heapBackend(backend);
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const out = b.makeOutput(size_, x.dtype);
  const total = size_.reduce((a, v) => a * v, 1);
  if (total === 0) return out;
  const ov = b.typedArrayFromHeap(out);
  const xv = b.typedArrayFromHeap(x);
  const shape = x.shape;
  const rank = shape.length;
  if (rank === 0) {
    ov[0] = xv[0];
    return out;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  // Axes a+1.. are taken whole, so (size[a] x the rest) is one contiguous run of the input.
  let a = rank - 1;
  while (a > 0 && begin_[a] === 0 && size_[a] === shape[a]) a--;
  let run = 1;
  for (let i = a; i < rank; i++) run *= size_[i];
  const outer = total / run;
  const idx = new Array<number>(a).fill(0);
  let src = begin_[a] * strides[a];
  for (let i = 0; i < a; i++) src += begin_[i] * strides[i];
  let dst = 0;
  for (let k = 0; k < outer; k++) {
    if (run >= BLOCK_COPY_MIN) ov.set(xv.subarray(src, src + run), dst);
    else for (let e = 0; e < run; e++) ov[dst + e] = xv[src + e];
    dst += run;
    // odometer over the outer axes 0..a-1
    for (let i = a - 1; i >= 0; i--) {
      src += strides[i];
      if (++idx[i] < size_[i]) break;
      src -= strides[i] * size_[i];
      idx[i] = 0;
    }
  }
  return out;
}

/** `Reverse` on the heap: `x` reversed along `dims` (tfjs' Reverse kernel attribute). */
export function reverseOnHeap(backend: unknown, x: tf.TensorInfo, dims: number | number[]): tf.TensorInfo {
  const b = heapBackend(backend);
  const shape = x.shape;
  const rank = shape.length;
  const axes = tf.util.parseAxisParam(dims, shape);
  const out = b.makeOutput(shape.slice(), x.dtype);
  const total = shape.reduce((a, v) => a * v, 1);
  if (total === 0) return out;
  const ov = b.typedArrayFromHeap(out);
  const xv = b.typedArrayFromHeap(x);
  if (rank === 0 || axes.length === 0) {
    ov.set(xv.subarray(0, total));
    return out;
  }
  const last = Math.max(...axes);
  const flip = shape.map((_, i) => axes.includes(i));
  let run = 1;
  for (let i = last + 1; i < rank; i++) run *= shape[i];
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  // odometer over axes 0..last of the OUTPUT; the source offset moves backwards on flipped axes
  const idx = new Array<number>(last + 1).fill(0);
  let src = 0;
  for (let i = 0; i <= last; i++) if (flip[i]) src += (shape[i] - 1) * strides[i];
  const outer = total / run;
  let dst = 0;
  for (let k = 0; k < outer; k++) {
    if (run >= BLOCK_COPY_MIN) ov.set(xv.subarray(src, src + run), dst);
    else for (let e = 0; e < run; e++) ov[dst + e] = xv[src + e];
    dst += run;
    for (let i = last; i >= 0; i--) {
      const step = flip[i] ? -strides[i] : strides[i];
      src += step;
      if (++idx[i] < shape[i]) break;
      src -= step * shape[i];
      idx[i] = 0;
    }
  }
  return out;
}
