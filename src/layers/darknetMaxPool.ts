/**
 * Darknet's `[maxpool]`: window `size`, `stride`, total padding `padding` (default size-1),
 * of which floor(padding/2) goes before (top/left). Output = floor((n + padding - size)/stride) + 1.
 * Out-of-range taps never win (Darknet uses -FLT_MAX).
 *
 * `darknetMaxPool` uses tfjs's own `maxPooling2d` ('same' or 'valid') when that is exactly the
 * same window set for the known input size, and otherwise the registered `DarknetMaxPool2D`
 * layer, which pads explicitly with -FLT_MAX and pools 'valid'.
 */
import * as tf from '@tensorflow/tfjs';

/** Largest negative float32: Darknet's out-of-range value. */
const NEG_FLT_MAX = -3.4028234663852886e38;

/** Options of a Darknet maxpool. */
export interface DarknetMaxPoolOptions {
  size: number;
  /** Default 1 (Darknet's default). */
  stride?: number;
  /** Total padding per axis; default size-1 (Darknet's default). */
  padding?: number;
  /** Layer name. */
  name?: string;
}

/** Geometry of Darknet's maxpool along one axis of length n. */
export function darknetPoolGeometry(
  n: number,
  size: number,
  stride: number,
  padding: number,
): { out: number; before: number; after: number } {
  const out = Math.floor((n + padding - size) / stride) + 1;
  if (out < 1) throw new Error(`maxpool size ${size} stride ${stride} padding ${padding} does not fit an input of ${n}`);
  const before = Math.floor(padding / 2);
  const after = Math.max(0, (out - 1) * stride + size - n - before);
  return { out, before, after };
}

function checkOptions(size: number, stride: number, padding: number): void {
  for (const [k, v, min] of [['size', size, 1], ['stride', stride, 1], ['padding', padding, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`Darknet maxpool: ${k} must be an integer >= ${min}, got ${v}`);
  }
}

/** Configuration of {@link DarknetMaxPool2D}. */
export interface DarknetMaxPool2DConfig {
  size: number;
  stride: number;
  padding: number;
  name?: string;
  trainable?: boolean;
}

/** Darknet maxpool with explicit -FLT_MAX padding, for NHWC inputs. No weights. */
export class DarknetMaxPool2D extends tf.layers.Layer {
  static className = 'YoloTfjsDarknetMaxPool2D';
  readonly size: number;
  readonly stride: number;
  readonly padding: number;

  constructor(config: DarknetMaxPool2DConfig) {
    super(config);
    checkOptions(config.size, config.stride, config.padding);
    this.size = config.size;
    this.stride = config.stride;
    this.padding = config.padding;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const dim = (n: number | null) => (n == null ? null : darknetPoolGeometry(n, this.size, this.stride, this.padding).out);
    return [s[0], dim(s[1]), dim(s[2]), s[3]];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const gh = darknetPoolGeometry(x.shape[1], this.size, this.stride, this.padding);
      const gw = darknetPoolGeometry(x.shape[2], this.size, this.stride, this.padding);
      const padded =
        gh.before + gh.after + gw.before + gw.after === 0
          ? x
          : tf.pad(x, [[0, 0], [gh.before, gh.after], [gw.before, gw.after], [0, 0]], NEG_FLT_MAX);
      return tf.maxPool(padded, this.size, this.stride, 'valid');
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size, stride: this.stride, padding: this.padding };
  }
}
tf.serialization.registerClass(DarknetMaxPool2D);

/** Which tfjs padding mode reproduces Darknet's window set on an axis of length n, if any. */
function equivalentTfPadding(n: number, size: number, stride: number, padding: number): 'same' | 'valid' | null {
  const dn = darknetPoolGeometry(n, size, stride, padding);
  const sameOut = Math.ceil(n / stride);
  const sameBefore = Math.floor(Math.max((sameOut - 1) * stride + size - n, 0) / 2);
  if (dn.out === sameOut && dn.before === sameBefore) return 'same';
  if (n >= size && dn.out === Math.floor((n - size) / stride) + 1 && dn.before === 0) return 'valid';
  return null;
}

/**
 * Darknet `[maxpool]` on an NHWC symbolic tensor. Picks `tf.layers.maxPooling2d` when exactly
 * equivalent for the static input size (the 2x2/2 pools on even maps, the 2x2/1 pool of tiny
 * YOLOv3, the stride-1 SPP pools), else {@link DarknetMaxPool2D}.
 */
export function darknetMaxPool(x: tf.SymbolicTensor, opts: DarknetMaxPoolOptions): tf.SymbolicTensor {
  const size = opts.size;
  const stride = opts.stride ?? 1;
  const padding = opts.padding ?? size - 1;
  checkOptions(size, stride, padding);
  const [, h, w] = x.shape;
  if (h != null && w != null) {
    const ph = equivalentTfPadding(h, size, stride, padding);
    const pw = equivalentTfPadding(w, size, stride, padding);
    if (ph !== null && ph === pw) {
      return tf.layers
        .maxPooling2d({ poolSize: size, strides: stride, padding: ph, name: opts.name })
        .apply(x) as tf.SymbolicTensor;
    }
  }
  return new DarknetMaxPool2D({ size, stride, padding, name: opts.name }).apply(x) as tf.SymbolicTensor;
}
