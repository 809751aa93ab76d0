/**
 * Turning what users pass as an "image" into an RGB `[h, w, 3]` tensor: file paths and encoded
 * buffers (Node, decoded by sharp), tensors, ImageData-like objects and browser elements.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputSpec } from '../spec';
import { resizeGeometry } from '../preprocess/geometry';

/** Pixels as `{data, width, height}` (RGBA like ImageData, or RGB). */
export interface ImageDataLike {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * What `detect` accepts: a file path or encoded JPEG/PNG/WebP bytes (Node), an RGB
 * `tf.Tensor3D` of 0..255 values, an ImageData-like object, or (browser) an image/canvas/video.
 */
export type ImageInput =
  | string
  | Uint8Array
  | ArrayBuffer
  | tf.Tensor3D
  | ImageDataLike
  | Parameters<typeof tf.browser.fromPixels>[0];

export interface LoadedImage {
  tensor: tf.Tensor3D;
  /** Whether the tensor was created here (and must be disposed by the caller). */
  owned: boolean;
  /**
   * `[height, width]` of the image as given (upright), the frame boxes are reported in. Differs
   * from the tensor's size when the decoder already shrank it towards `fitTo`.
   */
  originalSize: [number, number];
}

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /**
   * Encoded images (Node): refuse raster images with more pixels than this. Default
   * `DEFAULT_MAX_IMAGE_PIXELS` (a 100-megapixel photo).
   */
  maxPixels?: number;
  /**
   * The network input the image is for. Encoded images (Node) much larger than the network
   * (over {@link EXACT_RESIZE_FACTOR} times its content size on an axis) are then shrunk to the
   * content size inside the decoder, so the full-size pixels never become a tensor.
   */
  fitTo?: InputSpec;
}

/**
 * Encoded images up to this many times the network's content size (per axis) are decoded at
 * full size and resized by `preprocessImage` (half-pixel bilinear, or OpenCV's uint8 resize),
 * exactly as the original implementations do; the parity tests depend on it. Larger ones are
 * shrunk in sharp first (an antialiased linear filter, better than sampling 2x2 pixels of a
 * 10x larger image, but not bit-equal to the originals), which bounds the memory to
 * `(4 x network size)^2` pixels whatever the file's size.
 */
export const EXACT_RESIZE_FACTOR = 4;

/** The size to shrink an upright `[h, w]` image to in the decoder for `input`, or null. */
function decoderResize(input: InputSpec, size: [number, number]): [number, number] | null {
  const [ch, cw] = resizeGeometry(input, size).contentSize;
  return size[0] > EXACT_RESIZE_FACTOR * ch || size[1] > EXACT_RESIZE_FACTOR * cw ? [ch, cw] : null;
}

/**
 * Decode/convert any `ImageInput` into an RGB `[h, w, 3]` tensor. Encoded images are decoded
 * upright (EXIF orientation applied, as browsers do), within `opts.maxPixels`, and shrunk in
 * the decoder when far larger than `opts.fitTo` (see {@link LoadImageOptions}).
 */
export async function loadImage(image: ImageInput, opts: LoadImageOptions = {}): Promise<LoadedImage> {
  if (image instanceof tf.Tensor) {
    if (image.rank !== 3 || image.shape[2] !== 3) {
      throw new Error(`image tensor must be RGB [height, width, 3], got shape [${image.shape.join(', ')}]`);
    }
    return { tensor: image as tf.Tensor3D, owned: false, originalSize: [image.shape[0], image.shape[1]] };
  }
  if (typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer) {
    // Node: decode with sharp (loaded lazily so browsers never see it). Buffers that are raw
    // pixels are not accepted here: wrap them as {data, width, height}.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { decodeImageNode } = require('./decodeImageNode') as typeof import('./decodeImageNode');
    const fitTo = opts.fitTo;
    const { data, width, height, originalSize } = await decodeImageNode(image, {
      maxPixels: opts.maxPixels,
      resizeTo: fitTo ? (size) => decoderResize(fitTo, size) : undefined,
    });
    return { tensor: tf.tensor3d(data, [height, width, 3], 'int32'), owned: true, originalSize };
  }
  if (isImageDataLike(image)) {
    const { data, width, height } = image;
    const px = width * height;
    if (!(width > 0 && height > 0) || (data.length !== px * 4 && data.length !== px * 3)) {
      throw new Error(
        `image data of ${data.length} bytes does not fit ${width}x${height} RGBA (${px * 4}) or RGB (${px * 3})`,
      );
    }
    const rgb = data.length === px * 3 ? new Int32Array(data) : rgbaToRgb(data, px);
    return { tensor: tf.tensor3d(rgb, [height, width, 3], 'int32'), owned: true, originalSize: [height, width] };
  }
  if (image && typeof image === 'object') {
    // Browsers apply EXIF orientation when decoding <img> and createImageBitmap (their default
    // `image-orientation: from-image`), so these pixels are upright like the Node path's.
    const tensor = tf.browser.fromPixels(image as Parameters<typeof tf.browser.fromPixels>[0], 3);
    return { tensor, owned: true, originalSize: [tensor.shape[0], tensor.shape[1]] };
  }
  throw new Error(`unsupported image input of type ${typeof image}`);
}

function isImageDataLike(x: unknown): x is ImageDataLike {
  const o = x as ImageDataLike;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.width === 'number' &&
    typeof o.height === 'number' &&
    (o.data instanceof Uint8Array || o.data instanceof Uint8ClampedArray)
  );
}

function rgbaToRgb(data: Uint8Array | Uint8ClampedArray, px: number): Int32Array {
  const out = new Int32Array(px * 3);
  for (let i = 0; i < px; i++) {
    out[i * 3] = data[i * 4];
    out[i * 3 + 1] = data[i * 4 + 1];
    out[i * 3 + 2] = data[i * 4 + 2];
  }
  return out;
}
