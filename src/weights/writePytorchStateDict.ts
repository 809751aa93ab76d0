/**
 * Write a `TensorMap` as a PyTorch state dict in the zip format of `torch.save` (PyTorch >= 1.6):
 * `<archive>/data.pkl` (a minimal protocol-2 pickle of an OrderedDict of
 * `_rebuild_tensor_v2` calls), `<archive>/byteorder`, `<archive>/data/<i>` (raw little-endian
 * storages, one per tensor) and `<archive>/version`. `torch.load` reads the result, and so
 * does `readPytorchStateDict`.
 */
import { NamedTensor, NamedTensorDtype, TensorMap } from './tensorMap';
import { writeStoredZip, ZipEntry } from './pytorch/storedZip';
import { numelOf } from './pytorch/storageDtypes';

const STORAGE_TYPE: Record<NamedTensorDtype, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  int32: 'IntStorage',
  int64: 'LongStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** Options for `writePytorchStateDict`. */
export interface WritePytorchOptions {
  /** Folder name inside the zip (torch uses the file's stem). Default `archive`. */
  archiveName?: string;
}

/** A tiny pickle byte writer (protocol 2 subset). */
class PickleWriter {
  private chunks: number[] = [];
  private enc = new TextEncoder();

  op(code: number): this {
    this.chunks.push(code);
    return this;
  }

  global(module: string, name: string): this {
    this.op(0x63);
    for (const b of this.enc.encode(`${module}\n${name}\n`)) this.chunks.push(b);
    return this;
  }

  str(s: string): this {
    const b = this.enc.encode(s);
    this.op(0x58); // BINUNICODE
    this.u32(b.length);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  int(v: number): this {
    if (!Number.isInteger(v)) throw new Error(`pickle writer: ${v} is not an integer`);
    if (v >= 0 && v < 256) return this.op(0x4b).byte(v);
    if (v >= -0x80000000 && v <= 0x7fffffff) {
      this.op(0x4a);
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, v, true);
      for (const x of b) this.chunks.push(x);
      return this;
    }
    // LONG1 with 8 bytes
    this.op(0x8a).byte(8);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  tuple(values: number[]): this {
    this.op(0x28); // MARK
    for (const v of values) this.int(v);
    return this.op(0x74); // TUPLE
  }

  byte(v: number): this {
    this.chunks.push(v & 0xff);
    return this;
  }

  u32(v: number): this {
    this.chunks.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function tensorBytes(t: NamedTensor): Uint8Array {
  const d = t.data;
  if (numelOf(t.shape) !== d.length) {
    throw new Error(`tensor data has ${d.length} elements for shape [${t.shape}]`);
  }
  // typed arrays are little-endian on every platform tfjs runs on; copy to a tight buffer
  return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
}

/**
 * Serialise a `TensorMap` as a `torch.save` zip archive (one contiguous storage per tensor,
 * location `cpu`). Round trip: `readPytorchStateDict(writePytorchStateDict(m))` equals `m`.
 */
export function writePytorchStateDict(map: TensorMap, opts: WritePytorchOptions = {}): Uint8Array {
  const archive = opts.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(archive)) throw new Error(`archiveName '${archive}' must be a simple folder name`);
  const p = new PickleWriter();
  p.op(0x80).byte(2); // PROTO 2
  p.global('collections', 'OrderedDict').op(0x29).op(0x52); // OrderedDict()
  const storages: ZipEntry[] = [];
  if (map.size > 0) p.op(0x28); // MARK
  let i = 0;
  for (const [name, t] of map) {
    const type = STORAGE_TYPE[t.dtype];
    if (!type) throw new Error(`tensor '${name}': dtype '${t.dtype}' cannot be written`);
    let data: Uint8Array;
    try {
      data = tensorBytes(t);
    } catch (e) {
      throw new Error(`tensor '${name}': ${(e as Error).message}`);
    }
    const key = String(i++);
    const numel = numelOf(t.shape);
    const stride: number[] = new Array(t.shape.length);
    let s = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      stride[d] = s;
      s *= t.shape[d];
    }
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28); // MARK (args)
    p.op(0x28).str('storage').global('torch', type).str(key).str('cpu').int(numel).op(0x74); // pid tuple
    p.op(0x51); // BINPERSID
    p.int(0).tuple(t.shape).tuple(stride).op(0x89); // offset, size, stride, requires_grad=False
    p.global('collections', 'OrderedDict').op(0x29).op(0x52); // backward_hooks
    p.op(0x74).op(0x52); // TUPLE, REDUCE
    storages.push({ name: `${archive}/data/${key}`, data });
  }
  if (map.size > 0) p.op(0x75); // SETITEMS
  p.op(0x2e); // STOP
  const enc = new TextEncoder();
  return writeStoredZip([
    { name: `${archive}/data.pkl`, data: p.bytes() },
    { name: `${archive}/byteorder`, data: enc.encode('little') },
    ...storages,
    { name: `${archive}/version`, data: enc.encode('3\n') },
  ]);
}
