/**
 * Minimal ZIP reading and writing for `torch.save` archives. PyTorch stores every entry
 * uncompressed ("stored", method 0), so no inflate is needed and this works unchanged in a
 * browser. A compressed entry is reported as an error rather than read wrongly.
 */

/** One entry of a zip archive: its name and (uncompressed) bytes, a view into the input. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** CRC-32 the central directory records for the data (absent for entries to be written). */
  crc32?: number;
}

/**
 * The bytes of an entry after checking them against the CRC-32 the archive records: a flipped
 * byte anywhere in the data is an error naming the entry, never a silently different weight.
 */
export function verifiedEntryData(entry: ZipEntry, label = 'zip archive'): Uint8Array {
  if (entry.crc32 !== undefined) {
    const actual = crc32(entry.data);
    if (actual !== entry.crc32) {
      throw new Error(
        `${label}: entry '${entry.name}' is corrupt (CRC-32 ${hex32(actual)}, the archive records ${hex32(entry.crc32)})`,
      );
    }
  }
  return entry.data;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

/** True when the bytes start like a zip archive (`PK\x03\x04`). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * List the entries of a zip archive whose entries are stored uncompressed.
 * @throws on a truncated archive (no end-of-central-directory record, or an entry that runs
 * past the end of the data) and on any compressed entry.
 */
export function readStoredZip(bytes: Uint8Array, label = 'zip archive'): Map<string, ZipEntry> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const truncated = (why: string): Error =>
    new Error(`${label} is truncated or corrupt (${why}; file has ${bytes.length} bytes)`);

  // End of central directory: last 22 bytes + up to 64 KiB comment.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw truncated('end-of-central-directory record not found');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) throw truncated('zip64 locator missing');
    const z64 = num64(dv, loc + 8);
    if (z64 + 56 > bytes.length || dv.getUint32(z64, true) !== SIG_ZIP64_EOCD) throw truncated('zip64 record missing');
    count = num64(dv, z64 + 32);
    cdSize = num64(dv, z64 + 40);
    cdOffset = num64(dv, z64 + 48);
  }
  if (cdOffset + cdSize > bytes.length) throw truncated('central directory runs past the end');

  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  const dec = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== SIG_CENTRAL) throw truncated(`central directory entry ${k} is bad`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > bytes.length) throw truncated(`central directory entry ${k} runs past the end`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information (0x0001) in the central extra field
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = num64(dv, q); q += 8; }
        if (compSize === 0xffffffff) { compSize = num64(dv, q); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = num64(dv, q); q += 8; }
      }
      e += 4 + len;
    }
    if (method !== 0) {
      throw new Error(
        `${label}: entry '${name}' is compressed (method ${method}); only stored (uncompressed) entries ` +
          'are supported, as torch.save writes them. Re-save the file with torch.save.',
      );
    }
    if (compSize !== size) throw truncated(`stored entry '${name}' has a compressed size ${compSize} unlike its size ${size}`);
    if (entries.has(name)) throw new Error(`${label}: entry '${name}' appears twice (corrupt or crafted archive)`);
    if (localOffset + 30 > bytes.length || dv.getUint32(localOffset, true) !== SIG_LOCAL) {
      throw truncated(`local header of '${name}' is missing`);
    }
    const dataStart = localOffset + 30 + dv.getUint16(localOffset + 26, true) + dv.getUint16(localOffset + 28, true);
    if (dataStart + size > bytes.length) throw truncated(`entry '${name}' runs past the end`);
    entries.set(name, { name, data: bytes.subarray(dataStart, dataStart + size), crc32: crc });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function num64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip offset too large');
  return Number(v);
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE) of some bytes, as zip needs. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Write a zip archive with every entry stored uncompressed. Entry data is aligned to
 * `align` bytes (64 as torch.save does) with padding in the local extra field.
 * Archives above 4 GiB (zip64) are not supported.
 */
export function writeStoredZip(entries: ZipEntry[], align = 64): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = enc.encode(entry.name);
    const headerLen = 30 + name.length;
    const pad = (align - ((offset + headerLen + 4) % align)) % align;
    const extraLen = pad + 4;
    const crc = crc32(entry.data);
    const local = new Uint8Array(headerLen + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, 0, true); // flags
    lv.setUint16(8, 0, true); // method: stored
    lv.setUint16(10, 0, true); // time
    lv.setUint16(12, 0x21, true); // date 1980-01-01
    lv.setUint32(14, crc, true);
    lv.setUint32(18, entry.data.length, true);
    lv.setUint32(22, entry.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(name, 30);
    lv.setUint16(headerLen, 0x4246, true); // 'FB' padding field, as PyTorch uses
    lv.setUint16(headerLen + 2, pad, true);

    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, entry.data.length, true);
    cv.setUint32(24, entry.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    central.push(cd);

    parts.push(local, entry.data);
    offset += local.length + entry.data.length;
    if (offset > 0xffffffff) throw new Error('writeStoredZip: archives above 4 GiB are not supported');
  }
  const cdOffset = offset;
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, cdOffset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...parts, ...central, eocd]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
