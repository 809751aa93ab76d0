/**
 * A tiny pickle assembler for tests: hand-made (often hostile) pickles, opcode by opcode, and
 * the torch state-dict idioms (`_rebuild_tensor_v2`, storage persistent ids) on top of it.
 * Only what the hostile-input and fuzz tests need; it writes bytes, it never runs anything.
 */
import { writeStoredZip } from '../../../src/weights/pytorch/storedZip';

export class PickleWriter {
  private readonly parts: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }

  raw(...b: number[]): this {
    for (const x of b) this.parts.push(x & 0xff);
    return this;
  }

  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }

  proto(v = 2): this { return this.raw(0x80, v); }
  stop(): this { return this.raw(0x2e); }
  mark(): this { return this.raw(0x28); }
  pop(): this { return this.raw(0x30); }
  none(): this { return this.raw(0x4e); }
  bool(v: boolean): this { return this.raw(v ? 0x88 : 0x89); }
  emptyDict(): this { return this.raw(0x7d); }
  emptyList(): this { return this.raw(0x5d); }
  emptyTuple(): this { return this.raw(0x29); }
  list(): this { return this.raw(0x6c); }
  tuple(): this { return this.raw(0x74); }
  tuple1(): this { return this.raw(0x85); }
  tuple2(): this { return this.raw(0x86); }
  append(): this { return this.raw(0x61); }
  appends(): this { return this.raw(0x65); }
  setitem(): this { return this.raw(0x73); }
  setitems(): this { return this.raw(0x75); }
  reduce(): this { return this.raw(0x52); }
  build(): this { return this.raw(0x62); }
  binpersid(): this { return this.raw(0x51); }
  dup(): this { return this.raw(0x32); }

  /** BININT1 / BININT2 / BININT as the value needs. */
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    return this.raw(0x4a, ...this.u32(n | 0));
  }

  /** LONG4 with `n` payload bytes (all 0x7f: a huge positive integer). */
  long4(n: number): this {
    this.raw(0x8b, ...this.u32(n));
    for (let i = 0; i < n; i++) this.parts.push(0x7f);
    return this;
  }

  /** Text LONG opcode with `digits` decimal digits. */
  longText(digits: number): this {
    this.raw(0x4c);
    for (let i = 0; i < digits; i++) this.parts.push(0x39);
    return this.raw(0x4c, 0x0a);
  }

  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) return this.raw(0x8c, b.length, ...b);
    return this.raw(0x58, ...this.u32(b.length), ...b);
  }

  global(module: string, name: string): this {
    return this.raw(0x63, ...Buffer.from(`${module}\n${name}\n`, 'utf8'));
  }

  /** LONG_BINPUT / LONG_BINGET (any index). */
  put(i: number): this { return this.raw(0x72, ...this.u32(i)); }
  get(i: number): this { return this.raw(0x6a, ...this.u32(i)); }

  /** Push `(n0, n1, ...)` as a tuple of ints. */
  intTuple(ns: number[]): this {
    this.mark();
    for (const n of ns) this.int(n);
    return this.tuple();
  }

  /** Push the persistent-id storage reference torch writes: ('storage', FloatStorage, key, 'cpu', numel). */
  storage(key: string, numel: number, type = 'FloatStorage'): this {
    this.mark().str('storage').global('torch', type).str(key).str('cpu').int(numel).tuple();
    return this.binpersid();
  }

  /**
   * Push a tensor as torch writes it: `_rebuild_tensor_v2(storage, offset, size, stride,
   * False, OrderedDict())`. `offset` may be a callback that pushes any value.
   */
  tensor(key: string, numel: number, size: number[], stride: number[], offset: number | ((w: this) => void) = 0): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.storage(key, numel);
    if (typeof offset === 'number') this.int(offset);
    else offset(this);
    this.intTuple(size).intTuple(stride).bool(false);
    this.global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }
}

/** A zip `.pth` as torch.save writes it: `archive/data.pkl`, `archive/data/<key>` entries. */
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  const entries = [{ name: 'archive/data.pkl', data: pkl }];
  for (const [k, v] of Object.entries(storages)) entries.push({ name: `archive/data/${k}`, data: v });
  entries.push({ name: 'archive/version', data: Buffer.from('3\n') });
  return writeStoredZip(entries);
}

/** Float32 little-endian bytes of some values. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
