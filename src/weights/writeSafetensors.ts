/**
 * Write a `TensorMap` as `.safetensors`: 8-byte little-endian header length, JSON header
 * (padded with spaces to a multiple of 8 bytes), then the raw little-endian data.
 */
import { NamedTensorDtype, TensorMap } from './tensorMap';
import { numelOf } from './pytorch/storageDtypes';

const CODE: Record<NamedTensorDtype, string> = {
  float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', uint8: 'U8', bool: 'BOOL',
};

/**
 * Serialise a `TensorMap` as safetensors. `metadata` (string values only, per the format) is
 * stored under `__metadata__`.
 */
export function writeSafetensors(map: TensorMap, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const datas: Uint8Array[] = [];
  for (const [name, t] of map) {
    if (name === '__metadata__') throw new Error("a tensor cannot be named '__metadata__' in safetensors");
    const code = CODE[t.dtype];
    if (!code) throw new Error(`tensor '${name}': dtype '${t.dtype}' cannot be written`);
    if (numelOf(t.shape) !== t.data.length) {
      throw new Error(`tensor '${name}': data has ${t.data.length} elements for shape [${t.shape}]`);
    }
    const d = t.data;
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = { dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    datas.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const padded = Math.ceil(hb.length / 8) * 8;
  if (padded !== hb.length) {
    json += ' '.repeat(padded - hb.length);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const b of datas) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}
