/**
 * zylo117's `MaxPool2dStaticSamePadding`: the TF 'SAME' padding geometry, but the padded cells
 * are ZEROS (`F.pad`) that take part in the max, followed by a 'valid' max-pool. This differs
 * from TF's 'same' max-pool (which never selects padding) wherever a border window holds only
 * negative values, so it is built as explicit zero padding + 'valid' pooling.
 */
import * as tf from '@tensorflow/tfjs';
import { tfSamePadding } from './tfSamePadding';

/** Options of {@link staticSameMaxPool}. */
export interface StaticSameMaxPoolOptions {
  /** Window size (default 3). */
  poolSize?: number;
  /** Stride (default 2). */
  strides?: number;
  /** Name of the pooling layer; the padding layer is `${name}.pad`. */
  name: string;
}

/**
 * Zero-pad (TF 'SAME' geometry, extra pixel right/bottom) then max-pool 'valid', on an NHWC
 * symbolic tensor whose height and width are known.
 */
export function staticSameMaxPool(x: tf.SymbolicTensor, opts: StaticSameMaxPoolOptions): tf.SymbolicTensor {
  const k = opts.poolSize ?? 3;
  const s = opts.strides ?? 2;
  const [, h, w] = x.shape;
  if (h == null || w == null) {
    throw new Error(`staticSameMaxPool '${opts.name}': input height and width must be known, got [${x.shape.join(', ')}]`);
  }
  const ph = tfSamePadding(h, k, s);
  const pw = tfSamePadding(w, k, s);
  let y = x;
  if (ph[0] + ph[1] + pw[0] + pw[1] > 0) {
    y = tf.layers.zeroPadding2d({ padding: [ph, pw], name: `${opts.name}.pad` }).apply(y) as tf.SymbolicTensor;
  }
  return tf.layers.maxPooling2d({ poolSize: k, strides: s, padding: 'valid', name: opts.name }).apply(y) as tf.SymbolicTensor;
}
