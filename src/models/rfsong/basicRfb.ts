/**
 * `BasicRFB` (models/module.py): the Receptive Field Block. Three branches of a 1x1 reduction,
 * 3x3 convs and a dilated 3x3 (dilations vision+1, vision+2, vision+4, padding = dilation, so
 * the size is kept), concatenated, a linear 1x1 (`ConvLinear`), plus a 1x1 `shortcut`, then
 * ReLU: `relu(ConvLinear(cat) * scale + shortcut(x))`.
 *
 * RFSong builds it with `scale=1.0` (the class default 0.1 is not used), which is a plain add.
 */
import * as tf from '@tensorflow/tfjs';
import { basicConv } from './basicConv';

/** Options of {@link basicRfb} (upstream argument names). */
export interface BasicRfbOptions {
  /** Module path, e.g. `base.conv4_3`. */
  name: string;
  outPlanes: number;
  /** Default 1. */
  stride?: number;
  /** Residual scale; only 1.0 (RFSong's) is built. Default 1. */
  scale?: number;
  /** in_planes / map_reduce = the branches' inner width. Default 8. */
  mapReduce?: number;
  /** Default 1 (dilations 2, 3, 5). */
  vision?: number;
}

/** `BasicRFB(in, outPlanes, stride, scale, mapReduce, vision)` on an NHWC tensor. */
export function basicRfb(o: BasicRfbOptions): (x: tf.SymbolicTensor) => tf.SymbolicTensor {
  const stride = o.stride ?? 1;
  const scale = o.scale ?? 1;
  const vision = o.vision ?? 1;
  const mapReduce = o.mapReduce ?? 8;
  if (scale !== 1) {
    throw new Error(`basicRfb '${o.name}': residual scale ${scale} is not supported (RFSong uses 1.0)`);
  }
  if (stride !== 1) {
    // The dilated convs would need stride 1 before them; upstream puts the stride on the 3x3s.
    throw new Error(`basicRfb '${o.name}': stride ${stride} is not supported (RFSong uses 1)`);
  }
  return (x) => {
    const inPlanes = x.shape[x.shape.length - 1] as number;
    const inter = Math.floor(inPlanes / mapReduce);
    if (inter < 2) throw new Error(`basicRfb '${o.name}': ${inPlanes} input channels / mapReduce ${mapReduce} leaves no branch width`);
    const n = o.name;
    const c = (name: string, filters: number, k: number, extra: { padding?: number; dilation?: number; relu?: boolean } = {}) =>
      basicConv({ name, filters, kernelSize: k, ...extra });
    let b0 = c(`${n}.branch0.0`, inter, 1, { relu: false })(x);
    b0 = c(`${n}.branch0.1`, 2 * inter, 3, { padding: 1 })(b0);
    b0 = c(`${n}.branch0.2`, 2 * inter, 3, { padding: vision + 1, dilation: vision + 1, relu: false })(b0);
    let b1 = c(`${n}.branch1.0`, inter, 1, { relu: false })(x);
    b1 = c(`${n}.branch1.1`, 2 * inter, 3, { padding: 1 })(b1);
    b1 = c(`${n}.branch1.2`, 2 * inter, 3, { padding: vision + 2, dilation: vision + 2, relu: false })(b1);
    let b2 = c(`${n}.branch2.0`, inter, 1, { relu: false })(x);
    b2 = c(`${n}.branch2.1`, Math.floor(inter / 2) * 3, 3, { padding: 1 })(b2);
    b2 = c(`${n}.branch2.2`, 2 * inter, 3, { padding: 1 })(b2);
    b2 = c(`${n}.branch2.3`, 2 * inter, 3, { padding: vision + 4, dilation: vision + 4, relu: false })(b2);
    const cat = tf.layers.concatenate({ axis: -1, name: `${n}.cat` }).apply([b0, b1, b2]) as tf.SymbolicTensor;
    const lin = c(`${n}.ConvLinear`, o.outPlanes, 1, { relu: false })(cat);
    const short = c(`${n}.shortcut`, o.outPlanes, 1, { relu: false })(x);
    const sum = tf.layers.add({ name: `${n}.add` }).apply([lin, short]) as tf.SymbolicTensor;
    return tf.layers.reLU({ name: `${n}.relu` }).apply(sum) as tf.SymbolicTensor;
  };
}
