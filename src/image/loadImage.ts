/**
 * Turning what users pass as an "image" into an RGB `[h, w, 3]` tensor: file paths and encoded
 * buffers (Node, decoded by sharp), tensors, ImageData-like objects and browser elements.
 */
import * as tf from '@tensorflow/tfjs';

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
}

/** Decode/convert any `ImageInput` into an RGB `[h, w, 3]` tensor. */
export async function loadImage(image: ImageInput): Promise<LoadedImage> {
  if (image instanceof tf.Tensor) {
    if (image.rank !== 3 || image.shape[2] !== 3) {
      throw new Error(`image tensor must be RGB [height, width, 3], got shape [${image.shape.join(', ')}]`);
    }
    return { tensor: image as tf.Tensor3D, owned: false };
  }
  if (typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer) {
    // Node: decode with sharp (loaded lazily so browsers never see it). Buffers that are raw
    // pixels are not accepted here: wrap them as {data, width, height}.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { decodeImageNode } = require('./decodeImageNode') as typeof import('./decodeImageNode');
    const { data, width, height } = await decodeImageNode(image);
    return { tensor: tf.tensor3d(data, [height, width, 3], 'int32'), owned: true };
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
    return { tensor: tf.tensor3d(rgb, [height, width, 3], 'int32'), owned: true };
  }
  if (image && typeof image === 'object') {
    return { tensor: tf.browser.fromPixels(image as Parameters<typeof tf.browser.fromPixels>[0], 3), owned: true };
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
