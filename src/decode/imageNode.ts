/**
 * Node-only image decoding with sharp (JPEG, PNG, WebP, ...). Loaded lazily by `loadImage`.
 */
import { nodeRequire } from '../backend/nodeRequire';

/** Decoded RGB pixels. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decode a file path or encoded bytes into RGB uint8 pixels (no EXIF rotation, like Darknet). */
export async function decodeImageNode(src: string | Uint8Array | ArrayBuffer): Promise<DecodedImage> {
  const fs = nodeRequire('fs') as typeof import('fs');
  let bytes: Uint8Array;
  const what = typeof src === 'string' ? `'${src}'` : 'image buffer';
  if (typeof src === 'string') {
    if (!fs.existsSync(src)) throw new Error(`image file not found: ${src}`);
    if (fs.statSync(src).isDirectory()) throw new Error(`expected an image file, got a directory: ${src}`);
    bytes = fs.readFileSync(src);
  } else {
    bytes = src instanceof Uint8Array ? src : new Uint8Array(src);
  }
  if (bytes.length === 0) throw new Error(`${what} is empty`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sharp = nodeRequire('sharp') as (input: Uint8Array, opts?: { failOn?: string; ignoreIcc?: boolean }) => import('sharp').Sharp;
  try {
    // ignoreIcc: the original implementations decode with OpenCV, PIL or stb_image, which all
    // return the stored pixel values and ignore an embedded ICC profile (sharp would convert).
    const { data, info } = await sharp(bytes, { failOn: 'error', ignoreIcc: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`${what} is not a readable image (JPEG/PNG/WebP/...): ${(e as Error).message}`);
  }
}
