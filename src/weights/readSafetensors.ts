/**
 * Read `.safetensors` files: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`, then the raw
 * little-endian data. Browser-compatible and synchronous.
 */
import { TensorMap } from './tensorMap';
import { decodeElements, EXPOSED_DTYPE, numelOf, RAW_ELEMENT_SIZE, RawDtype } from './pytorch/storageDtypes';

/** safetensors dtype code -> raw element type. */
export const SAFETENSORS_DTYPES: Record<string, RawDtype> = {
  F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

/** True when the bytes plausibly start with a safetensors header. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && 8 + n <= bytes.length && bytes[8] === 0x7b; // '{'
}

/**
 * Read a safetensors buffer into a `TensorMap` (header order). F16/BF16 are widened to
 * float32, I16/I8 to int32, I64 is a BigInt64Array.
 * @throws when the header is malformed, a dtype is unsupported, or data is out of range.
 */
export function readSafetensors(buffer: Uint8Array | ArrayBuffer): TensorMap {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.length < 8) throw new Error(`not a safetensors file: ${bytes.length} bytes, less than the 8-byte header length`);
  const big = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (big > BigInt(bytes.length - 8)) {
    throw new Error(`safetensors header length ${big} exceeds the file (${bytes.length} bytes): truncated or not safetensors`);
  }
  const headerLen = Number(big);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`safetensors header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error('safetensors header is not a JSON object');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const out: TensorMap = new Map();
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  // The spec requires data in offset order; keep the header order for names.
  for (const [name, info] of entries) {
    const { dtype, shape, data_offsets: offs } = (info ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const raw = dtype ? SAFETENSORS_DTYPES[dtype] : undefined;
    if (!raw) throw new Error(`safetensors tensor '${name}': unsupported dtype '${dtype}'`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new Error(`safetensors tensor '${name}': bad shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !(offs[0] <= offs[1])) {
      throw new Error(`safetensors tensor '${name}': bad data_offsets ${JSON.stringify(offs)}`);
    }
    const n = numelOf(shape);
    const expected = n * RAW_ELEMENT_SIZE[raw];
    if (offs[1] - offs[0] !== expected) {
      throw new Error(`safetensors tensor '${name}': ${offs[1] - offs[0]} bytes for shape [${shape}] ${dtype} (expected ${expected})`);
    }
    if (offs[1] > dataLen) {
      throw new Error(`safetensors tensor '${name}' ends at byte ${offs[1]} but the data section has ${dataLen} bytes (truncated?)`);
    }
    out.set(name, {
      shape: shape.slice(),
      dtype: EXPOSED_DTYPE[raw],
      data: decodeElements(bytes, dataStart + offs[0], n, raw),
    });
  }
  return out;
}
