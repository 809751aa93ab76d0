/**
 * A minimal protocol-buffers encoder (no dependency): varints, fixed32 floats and
 * length-delimited fields, enough to write ONNX's ModelProto. A message is built with
 * `ProtoWriter` and finished with `bytes()`; nested messages are written as bytes fields.
 */

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

const TEXT = new TextEncoder();

/** Accumulates the fields of one message. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;
  private scratch: number[] = [];

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private flushScratch(): void {
    if (this.scratch.length) {
      this.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    if (typeof v === 'number' && (!Number.isInteger(v) || !Number.isSafeInteger(v))) {
      throw new Error(`protobuf: varint value ${v} is not a safe integer`);
    }
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      this.scratch.push(byte);
    } while (x !== 0n);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** int32 / int64 / enum / bool field (negative values as 64-bit two's complement). */
  int(field: number, v: number | bigint): this {
    this.tag(field, VARINT);
    this.varint(v);
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, v: number): this {
    this.tag(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  /** bytes / embedded-message field. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(data.length);
    this.flushScratch();
    this.push(data);
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, TEXT.encode(s));
  }

  /** Embedded message field. */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  /** The encoded message. */
  finish(): Uint8Array {
    this.flushScratch();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
