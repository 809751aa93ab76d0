/**
 * Image width/height from the file header (JPEG, PNG, GIF, BMP) without decoding the pixels.
 * Pure (works on bytes); `readImageSize` is the Node-only file wrapper.
 */
import { nodeRequire } from '../../util/nodeRequire';

export interface ImageSize {
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'gif' | 'bmp';
}

const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number): number => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const le16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
const le32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) | 0;

/** Thrown by `parseImageSize` when the bytes end before the size is known. */
export class TruncatedImageHeaderError extends Error {}

/**
 * The EXIF orientation (1-8) in an APP1 segment's data `[start, end)`, or 1 when the segment is
 * not EXIF or has no orientation tag. Bounds-checked: a corrupt segment is read as "no tag".
 */
function exifOrientation(b: Uint8Array, start: number, end: number): number {
  // "Exif\0\0", then a TIFF header: byte order, 42, offset of IFD0.
  if (end - start < 14 || b[start] !== 0x45 || b[start + 1] !== 0x78 || b[start + 2] !== 0x69 || b[start + 3] !== 0x66) return 1;
  const t = start + 6;
  const little = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!little && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return 1;
  const u16 = (o: number) => (little ? le16(b, o) : be16(b, o));
  const u32 = (o: number) => (little ? le32(b, o) >>> 0 : be32(b, o));
  const ifd = t + u32(t + 4);
  if (ifd + 2 > end) return 1;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > end) return 1;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

function jpegSize(b: Uint8Array): ImageSize {
  let o = 2;
  let orientation = 1;
  while (true) {
    if (o + 1 >= b.length) throw new TruncatedImageHeaderError('JPEG: data ends before the frame header (SOF)');
    if (b[o] !== 0xff) throw new Error(`JPEG: expected a marker at byte ${o}, found 0x${b[o].toString(16)}`);
    let marker = b[o + 1];
    // fill bytes 0xFF before a marker
    while (marker === 0xff) {
      o++;
      if (o + 1 >= b.length) throw new TruncatedImageHeaderError('JPEG: data ends in marker padding');
      marker = b[o + 1];
    }
    o += 2;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) throw new Error('JPEG: reached image data (SOS/EOI) without a frame header (SOF)');
    if (o + 2 > b.length) throw new TruncatedImageHeaderError('JPEG: data ends in a segment length');
    const len = be16(b, o);
    if (len < 2) throw new Error(`JPEG: bad segment length ${len} at byte ${o}`);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (o + 7 > b.length) throw new TruncatedImageHeaderError('JPEG: data ends in the frame header');
      const height = be16(b, o + 3);
      const width = be16(b, o + 5);
      if (width === 0 || height === 0) throw new Error(`JPEG: frame header gives a ${width}x${height} image`);
      // Orientations 5-8 turn the image a quarter: the upright size (what loadImage decodes).
      return orientation >= 5 ? { width: height, height: width, format: 'jpeg' } : { width, height, format: 'jpeg' };
    }
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(b, o + 2, Math.min(b.length, o + len));
    o += len;
  }
}

/**
 * Reads the pixel size from the first bytes of a JPEG, PNG, GIF or BMP file.
 * Throws `TruncatedImageHeaderError` when more bytes are needed (JPEG metadata can be long),
 * and a plain Error naming the problem for an unknown or corrupt format.
 * A JPEG's EXIF orientation is applied: the size is that of the upright image, the frame
 * `loadImage` decodes (and labels of phone photos refer to, as in ultralytics).
 */
export function parseImageSize(bytes: Uint8Array): ImageSize {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegSize(b);
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) {
    if (b.length < 24) throw new TruncatedImageHeaderError('PNG: data ends before the IHDR chunk');
    const type = String.fromCharCode(b[12], b[13], b[14], b[15]);
    if (type !== 'IHDR') throw new Error(`PNG: first chunk is "${type}", expected "IHDR"`);
    return { width: be32(b, 16), height: be32(b, 20), format: 'png' };
  }
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) {
    if (b.length < 10) throw new TruncatedImageHeaderError('GIF: data ends before the screen size');
    return { width: le16(b, 6), height: le16(b, 8), format: 'gif' };
  }
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) {
    if (b.length < 26) throw new TruncatedImageHeaderError('BMP: data ends before the info header');
    const headerSize = le32(b, 14);
    if (headerSize === 12) return { width: le16(b, 18), height: le16(b, 20), format: 'bmp' };
    return { width: Math.abs(le32(b, 18)), height: Math.abs(le32(b, 22)), format: 'bmp' };
  }
  if (b.length < 8) throw new TruncatedImageHeaderError('image header: too few bytes to recognise the format');
  throw new Error('not a JPEG, PNG, GIF or BMP file (unknown header bytes)');
}

/**
 * Node-only: the pixel size of an image file from its header (reads 64 KiB, then the whole
 * file if the JPEG metadata is longer). Throws an error naming the file when it cannot.
 */
export async function readImageSize(file: string): Promise<ImageSize> {
  const fs = (nodeRequire('fs') as typeof import('fs'));
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(65536);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    try {
      return parseImageSize(new Uint8Array(head.buffer, head.byteOffset, n));
    } catch (e) {
      if (!(e instanceof TruncatedImageHeaderError) || n < head.length) throw e;
    }
    const all = fs.readFileSync(file);
    return parseImageSize(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
  } catch (e) {
    throw new Error(`${file}: cannot read the image size: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
