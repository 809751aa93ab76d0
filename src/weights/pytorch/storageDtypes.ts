/**
 * Element types of PyTorch storages and safetensors, and their conversion from raw
 * little-endian bytes to the typed arrays of a `NamedTensor` (float16 and bfloat16 are widened
 * to float32, int8/int16 to int32).
 */
import { NamedTensor, NamedTensorDtype } from '../tensorMap';

/** A raw element type as stored in a file. */
export type RawDtype =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Bytes per element of each raw type. */
export const RAW_ELEMENT_SIZE: Record<RawDtype, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** The `NamedTensor` dtype a raw type is exposed as. */
export const EXPOSED_DTYPE: Record<RawDtype, NamedTensorDtype> = {
  float32: 'float32', float64: 'float64', float16: 'float32', bfloat16: 'float32',
  int64: 'int64', int32: 'int32', int16: 'int32', int8: 'int32', uint8: 'uint8', bool: 'bool',
};

/** `torch.<Name>Storage` -> raw dtype. */
export const TORCH_STORAGE_DTYPES: Record<string, RawDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.<dtype>` objects that may appear in newer pickles -> raw dtype. */
export const TORCH_DTYPE_OBJECTS: Record<string, RawDtype> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};

type OutArray = NamedTensor['data'];

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE half -> float32 value. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Allocate an output array for `n` elements of a raw type. */
export function allocateFor(raw: RawDtype, n: number): OutArray {
  switch (EXPOSED_DTYPE[raw]) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    default: return new Uint8Array(n);
  }
}

/**
 * Decode `count` elements of `raw` type starting at byte `byteOffset` of `bytes` (little
 * endian) into a new typed array of the exposed dtype.
 */
export function decodeElements(bytes: Uint8Array, byteOffset: number, count: number, raw: RawDtype): OutArray {
  const size = RAW_ELEMENT_SIZE[raw];
  const nbytes = count * size;
  if (byteOffset < 0 || byteOffset + nbytes > bytes.length) {
    throw new Error(`storage too short: need bytes [${byteOffset}, ${byteOffset + nbytes}) of ${bytes.length}`);
  }
  const src = bytes.subarray(byteOffset, byteOffset + nbytes);
  const direct = raw === 'float32' || raw === 'float64' || raw === 'int32' || raw === 'int64' || raw === 'uint8' || raw === 'bool';
  if (direct && littleEndianHost) {
    const copy = new Uint8Array(nbytes);
    copy.set(src);
    switch (raw) {
      case 'float32': return new Float32Array(copy.buffer);
      case 'float64': return new Float64Array(copy.buffer);
      case 'int32': return new Int32Array(copy.buffer);
      case 'int64': return new BigInt64Array(copy.buffer);
      default: return copy;
    }
  }
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = allocateFor(raw, count);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (raw) {
      case 'float32': (out as Float32Array)[i] = dv.getFloat32(o, true); break;
      case 'float64': (out as Float64Array)[i] = dv.getFloat64(o, true); break;
      case 'float16': (out as Float32Array)[i] = halfToFloat(dv.getUint16(o, true)); break;
      case 'bfloat16': {
        const tmp = new DataView(new ArrayBuffer(4));
        tmp.setUint32(0, dv.getUint16(o, true) << 16, true);
        (out as Float32Array)[i] = tmp.getFloat32(0, true);
        break;
      }
      case 'int64': (out as BigInt64Array)[i] = dv.getBigInt64(o, true); break;
      case 'int32': (out as Int32Array)[i] = dv.getInt32(o, true); break;
      case 'int16': (out as Int32Array)[i] = dv.getInt16(o, true); break;
      case 'int8': (out as Int32Array)[i] = dv.getInt8(o); break;
      default: (out as Uint8Array)[i] = dv.getUint8(o); break;
    }
  }
  return out;
}

/** Product of a shape (1 for a scalar). */
export function numelOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Gather a strided view (`offset`, `shape`, `stride`, all in elements) of `src` into a new
 * C-order array. Contiguous views are a plain slice.
 */
export function gatherStrided(src: OutArray, offset: number, shape: number[], stride: number[]): OutArray {
  const n = numelOf(shape);
  const rank = shape.length;
  let contiguous = true;
  let expect = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) return src.slice(offset, offset + n) as OutArray;
  const Ctor = src.constructor as { new (len: number): OutArray };
  const out = new Ctor(n);
  const idx = new Array<number>(rank).fill(0);
  let srcPos = offset;
  for (let i = 0; i < n; i++) {
    (out as unknown as { [k: number]: number | bigint })[i] = src[srcPos];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      srcPos += stride[d];
      if (idx[d] < shape[d]) break;
      srcPos -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
