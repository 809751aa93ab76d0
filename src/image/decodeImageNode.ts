/**
 * Node-only image decoding with sharp (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG, ...). Loaded
 * lazily by `loadImage`.
 *
 * Hostile or just huge files are handled before any pixel is decoded, from the header alone:
 * - raster images over a pixel limit (default: a 100-megapixel photo) are refused with an
 *   error giving their size and the limit;
 * - SVG (vector, so its nominal size costs nothing to claim) is rasterised with its longest
 *   side at most {@link SVG_MAX_SIDE} pixels;
 * - when the caller knows the network's input (`resizeTo`), the image is shrunk inside sharp
 *   (libvips streams the decode and, for JPEG/WebP/SVG, decodes at a reduced scale directly),
 *   so the full-size pixels never reach JavaScript.
 * EXIF orientation is applied (as browsers do in `<img>` and `createImageBitmap`, and as every
 * viewer does): the pixels and the reported size are those of the upright image.
 */
import { nodeRequire } from '../util/nodeRequire';

/**
 * Default pixel limit of decoded images: the 11648x8736 of a 100-megapixel camera (Fujifilm
 * GFX100), ~102 million pixels. 16000x16000 (256 million) is refused by default.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 11648 * 8736;

/** Longest side (pixels) an SVG is rasterised at when no smaller size is asked for. */
export const SVG_MAX_SIDE = 4096;

/** Decoded RGB pixels. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  /**
   * `[height, width]` of the upright image before any resize: the frame boxes are reported
   * in. Equal to `[height, width]` unless `resizeTo` shrank it (or an SVG was rasterised at a
   * bounded size).
   */
  originalSize: [number, number];
}

/** Options of {@link decodeImageNode}. */
export interface DecodeImageOptions {
  /** Refuse raster images with more pixels than this (default {@link DEFAULT_MAX_IMAGE_PIXELS}). */
  maxPixels?: number;
  /**
   * Called with the upright `[height, width]`; returns the `[height, width]` to resize to inside
   * sharp (antialiased linear filter), or null to decode at full size.
   */
  resizeTo?: (size: [number, number]) => [number, number] | null;
}

type SharpFactory = (input: Uint8Array, opts?: import('sharp').SharpOptions) => import('sharp').Sharp;

/** Checks a `maxPixels` option; returns it or the default. */
export function resolveMaxPixels(maxPixels: number | undefined): number {
  if (maxPixels === undefined) return DEFAULT_MAX_IMAGE_PIXELS;
  if (typeof maxPixels !== 'number' || !Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new Error(`maxPixels must be a positive integer, got ${JSON.stringify(maxPixels)}`);
  }
  return maxPixels;
}

/**
 * An SVG can embed raster images as `data:` URIs; the SVG renderer decodes them at full size
 * (a 16000x16000 PNG inside a 320x320 SVG costs 2.3 GB and 20 s). Each embedded image is held
 * to the same pixel limit, from its header; nested SVGs and non-base64 embedded images (whose
 * size cannot be read cheaply) are refused.
 */
async function checkSvgEmbeddedImages(bytes: Uint8Array, maxPixels: number, sharp: SharpFactory, what: string): Promise<void> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const uri = /data:([^,"'\s>]*),/gi;
  let m: RegExpExecArray | null;
  while ((m = uri.exec(text)) !== null) {
    const params = m[1].toLowerCase();
    if (!params.startsWith('image/')) continue;
    if (!/;base64$/.test(params)) throw new Error(`${what}: SVG embeds a non-base64 '${params}' data URI; not supported`);
    if (params.startsWith('image/svg')) throw new Error(`${what}: SVG embeds another SVG; not supported`);
    // The payload runs to the attribute's closing quote (a sticky scan: linear in the text).
    const payload = /[^"'<>)]*/y;
    payload.lastIndex = uri.lastIndex;
    const b64 = (payload.exec(text)?.[0] ?? '').replace(/\s+/g, '');
    uri.lastIndex = payload.lastIndex;
    let size: import('sharp').Metadata;
    try {
      size = await sharp(Buffer.from(b64, 'base64'), { limitInputPixels: false }).metadata();
    } catch (e) {
      throw new Error(`${what}: SVG embeds an unreadable '${params}' image: ${(e as Error).message}`);
    }
    const px = (size.width ?? 0) * (size.height ?? 0);
    if (size.format === 'svg') throw new Error(`${what}: SVG embeds another SVG; not supported`);
    if (px > maxPixels) {
      throw new Error(
        `${what}: SVG embeds a ${size.width}x${size.height} image (${megapixels(px)}), over the limit of ${megapixels(maxPixels)}; ` +
          'raise the maxPixels option to decode it',
      );
    }
  }
}

function megapixels(n: number): string {
  return `${(n / 1e6).toFixed(1)} megapixels`;
}

/**
 * Decode a file path or encoded bytes into RGB uint8 pixels, upright (EXIF orientation
 * applied), within the pixel limit, optionally resized (see {@link DecodeImageOptions}).
 */
export async function decodeImageNode(src: string | Uint8Array | ArrayBuffer, opts: DecodeImageOptions = {}): Promise<DecodedImage> {
  const maxPixels = resolveMaxPixels(opts.maxPixels);
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
  const sharp = nodeRequire('sharp') as SharpFactory;
  // ignoreIcc: the original implementations decode with OpenCV, PIL or stb_image, which all
  // return the stored pixel values and ignore an embedded ICC profile (sharp would convert).
  const base: import('sharp').SharpOptions = { failOn: 'error', ignoreIcc: true };

  let meta: import('sharp').Metadata;
  try {
    meta = await sharp(bytes, { ...base, limitInputPixels: false }).metadata();
  } catch (e) {
    throw new Error(`${what} is not a readable image (JPEG/PNG/WebP/...): ${(e as Error).message}`);
  }
  if (!(meta.width && meta.height)) throw new Error(`${what} is not a readable image: no size in its header`);
  // Upright size: orientations 5-8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  const upright: [number, number] = swap ? [meta.width, meta.height] : [meta.height, meta.width];

  const load: import('sharp').SharpOptions = { ...base };
  let originalSize: [number, number] = upright;
  if (meta.format === 'svg') {
    await checkSvgEmbeddedImages(bytes, maxPixels, sharp, what);
    // Vector: render at a density that bounds the longest side, whatever size it claims.
    const scale = Math.min(1, SVG_MAX_SIDE / Math.max(upright[0], upright[1]));
    load.density = (meta.density ?? 72) * scale;
    load.limitInputPixels = false;
  } else {
    const pixels = meta.width * meta.height;
    if (pixels > maxPixels) {
      throw new Error(
        `${what} is ${meta.width}x${meta.height} (${megapixels(pixels)}), over the limit of ${megapixels(maxPixels)}; ` +
          'raise the maxPixels option to decode it',
      );
    }
    load.limitInputPixels = maxPixels;
  }

  const target = opts.resizeTo ? opts.resizeTo(upright) : null;
  try {
    let pipeline = sharp(bytes, load).autoOrient();
    if (target) pipeline = pipeline.resize(target[1], target[0], { fit: 'fill', kernel: 'linear' });
    const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    if (!target) originalSize = [info.height, info.width];
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, originalSize };
  } catch (e) {
    throw new Error(`${what} is not a readable image (JPEG/PNG/WebP/...): ${(e as Error).message}`);
  }
}
