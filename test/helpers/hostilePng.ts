/**
 * PNG files for hostile-image tests, built in milliseconds: one whose header claims any size
 * (never decodable), and a complete all-white 1-bit PNG that still decodes to w*h pixels.
 */
import * as zlib from 'zlib';
import { crc32 } from '../../src/weights/pytorch/storedZip';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as (input?: Uint8Array | import('sharp').SharpOptions) => import('sharp').Sharp;

/** A PNG header claiming `w` x `h` RGB pixels followed by one tiny (incomplete) IDAT. */
export async function pngClaiming(w: number, h: number): Promise<Uint8Array> {
  const b = Buffer.from(await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer());
  // IHDR data starts at byte 16: width, height (big endian); its CRC covers type + data.
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b.writeUInt32BE(crc32(b.subarray(12, 29)), 29);
  return b;
}

/** A complete, valid all-white PNG of `w` x `h` pixels, 1-bit greyscale (a tiny file). */
export function whitePng(w: number, h: number): Buffer {
  const rowBytes = Math.ceil(w / 8);
  const raw = Buffer.alloc(h * (rowBytes + 1), 0xff);
  for (let y = 0; y < h; y++) raw[y * (rowBytes + 1)] = 0; // filter type 0 (None)
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'ascii');
    b.set(data, 8);
    b.writeUInt32BE(crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 1; // bit depth; colour type 0 (greyscale)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
