/**
 * Image -> network input, as the spec says: resize (stretch or letterbox, half-pixel bilinear),
 * channel order, scale, mean/std, padding.
 */
import * as tf from '@tensorflow/tfjs';
import { InputSpec } from '../spec';
import { resizeGeometry, ResizeGeometry } from './geometry';
import { resizeLinearU8OpenCV } from './opencvResize';

export { loadImage } from '../image/loadImage';
export type { ImageInput, LoadedImage } from '../image/loadImage';

/** A preprocessed image: `[1, H, W, 3]` float input plus what is needed to map boxes back. */
export interface PreprocessResult {
  tensor: tf.Tensor4D;
  /** Original `[height, width]`. */
  imageSize: [number, number];
  geometry: ResizeGeometry;
}

/**
 * Preprocess an RGB image tensor `[h, w, 3]` (0..255, any numeric dtype) into a `[1, H, W, 3]`
 * network input. The caller owns the result's tensor. `originalSize` (`[height, width]`,
 * default the tensor's) is the frame the geometry and the boxes refer to, when the tensor was
 * already shrunk by the decoder (`LoadedImage.originalSize`); the tensor is then resized from
 * its own size to the content size.
 */
export function preprocessImage(image: tf.Tensor3D, input: InputSpec, originalSize?: [number, number]): PreprocessResult {
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new Error(`expected an RGB image tensor [height, width, 3], got shape [${image.shape.join(', ')}]`);
  }
  const imageSize: [number, number] = originalSize ? [originalSize[0], originalSize[1]] : [image.shape[0], image.shape[1]];
  const g = resizeGeometry(input, imageSize);
  const tensor = tf.tidy(() => {
    const [netH, netW] = input.size;
    const [ch, cw] = g.contentSize;
    let x: tf.Tensor3D = image.dtype === 'float32' ? image : tf.cast(image, 'float32');
    if (ch !== image.shape[0] || cw !== image.shape[1]) {
      x = input.interpolation === 'opencv-linear-u8' ? resizeOpenCV(image, ch, cw) : tf.image.resizeBilinear(x, [ch, cw], false, true);
    }
    x = tf.mul(x, input.scale);
    if (input.channelOrder === 'BGR') x = tf.reverse(x, -1);
    if (input.mean) x = tf.sub(x, input.mean);
    if (input.std) x = tf.div(x, input.std);
    if (ch !== netH || cw !== netW) {
      const [top, left] = g.offset;
      x = tf.pad(x, [[top, netH - ch - top], [left, netW - cw - left], [0, 0]], input.letterbox?.padValue ?? 0);
    }
    return tf.expandDims(x, 0) as tf.Tensor4D;
  });
  return { tensor, imageSize, geometry: g };
}

/** OpenCV-exact uint8 bilinear resize of an image tensor (values clamped to 0..255 and rounded first). */
function resizeOpenCV(image: tf.Tensor3D, h: number, w: number): tf.Tensor3D {
  const [ih, iw] = image.shape;
  const px = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(image), 0, 255), 'int32'));
  const data = px.dataSync();
  px.dispose();
  return tf.tensor3d(resizeLinearU8OpenCV(data, ih, iw, 3, h, w), [h, w, 3], 'float32');
}
