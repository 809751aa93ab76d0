/**
 * Read `.safetensors` files: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`, then the raw
 * little-endian data. Browser-compatible and synchronous.
 */
import { TensorMap } from './tensorMap';
import { decodeElements, EXPOSED_DTYPE, RAW_ELEMENT_SIZE, RawDtype } from './pytorch/storageDtypes';
import { assertFiniteWeights } from './checkFinite';

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

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Load weights holding NaN or +-Infinity (refused by default, naming the tensor). */
  allowNonFinite?: boolean;
}

/** Largest header accepted, as the reference implementation (safetensors' MAX_HEADER_SIZE). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  name: string;
  raw: RawDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Read a safetensors buffer into a `TensorMap` (header order). F16/BF16 are widened to
 * float32, I16/I8 to int32, I64 is a BigInt64Array.
 *
 * The header is validated as the format defines it: at most 100 MB of JSON starting with '{';
 * every `data_offsets` a pair of integers `[begin, end]` with `end - begin` equal to the bytes
 * of `shape` x `dtype`; the tensors, sorted by offset, cover the data section exactly, without
 * overlap or holes (so no tensor reads header bytes or another tensor's bytes); `__metadata__`
 * maps strings to strings. NaN / Infinity values are an error unless `opts.allowNonFinite`.
 * @throws when the header is malformed, a dtype is unsupported, or data is out of range.
 */
export function readSafetensors(buffer: Uint8Array | ArrayBuffer, opts: ReadSafetensorsOptions = {}): TensorMap {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.length < 8) throw new Error(`not a safetensors file: ${bytes.length} bytes, less than the 8-byte header length`);
  const big = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (big > BigInt(bytes.length - 8)) {
    throw new Error(`safetensors header length ${big} exceeds the file (${bytes.length} bytes): truncated or not safetensors`);
  }
  if (big > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new Error(`safetensors header length ${big} is above the format's limit of ${SAFETENSORS_MAX_HEADER_BYTES} bytes`);
  }
  const headerLen = Number(big);
  if (headerLen < 2 || bytes[8] !== 0x7b) throw new Error("safetensors header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`safetensors header is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error('safetensors header is not a JSON object');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      checkMetadata(info);
      continue;
    }
    entries.push(checkEntry(name, info, dataLen));
  }
  // Sorted by offset, the tensors must tile the data section: no overlap, no hole.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) {
      throw new Error(
        e.begin < at
          ? `safetensors tensor '${e.name}' (bytes [${e.begin}, ${e.end})) overlaps the tensor before it, which ends at ${at}`
          : `safetensors data has a hole: bytes [${at}, ${e.begin}) before tensor '${e.name}' belong to no tensor`,
      );
    }
    at = e.end;
  }
  if (at !== dataLen) {
    throw new Error(`safetensors tensors cover ${at} bytes of data but the data section has ${dataLen}: trailing bytes belong to no tensor`);
  }
  const out: TensorMap = new Map();
  for (const e of entries) {
    out.set(e.name, {
      shape: e.shape.slice(),
      dtype: EXPOSED_DTYPE[e.raw],
      data: decodeElements(bytes, dataStart + e.begin, (e.end - e.begin) / RAW_ELEMENT_SIZE[e.raw], e.raw),
    });
  }
  return assertFiniteWeights(out, 'safetensors', opts.allowNonFinite);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

function checkEntry(name: string, info: unknown, dataLen: number): HeaderEntry {
  const label = `safetensors tensor '${name.length > 80 ? `${name.slice(0, 80)}...` : name}'`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new Error(`${label}: entry is not an object`);
  const { dtype, shape, data_offsets: offs } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const raw = typeof dtype === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, dtype) ? SAFETENSORS_DTYPES[dtype] : undefined;
  if (!raw) throw new Error(`${label}: unsupported dtype ${typeof dtype === 'string' ? `'${dtype.slice(0, 20)}'` : show(dtype)}`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`${label}: bad shape ${show(shape)} (a list of non-negative integers)`);
  }
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new Error(`${label}: bad data_offsets ${show(offs)} (two non-negative integers [begin, end])`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw new Error(`${label}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) {
    throw new Error(`${label} ends at byte ${end} but the data section has ${dataLen} bytes (truncated?)`);
  }
  let n = 1;
  for (const d of shape as number[]) n *= d;
  const expected = n * RAW_ELEMENT_SIZE[raw];
  if (end - begin !== expected) {
    throw new Error(`${label}: ${end - begin} bytes for shape [${shape}] ${dtype} (expected ${expected})`);
  }
  return { name, raw, shape: shape as number[], begin, end };
}

function checkMetadata(info: unknown): void {
  if (typeof info !== 'object' || info === null || Array.isArray(info) || Object.values(info).some((v) => typeof v !== 'string')) {
    throw new Error(`safetensors __metadata__ must map strings to strings, got ${show(info)}`);
  }
}
