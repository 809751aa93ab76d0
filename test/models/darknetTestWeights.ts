/**
 * Test-only: load a Darknet .weights file into a model whose convs are named `conv_<i>`
 * (cfg order). A deliberately small independent reader, used to cross-check the models and
 * the library's own reader.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { darknetConvLayers } from '../../src/models/darknetConvLayers';

/** OIHW (o, i, k, k) -> HWIO. */
function oihwToHwio(src: Float32Array, o: number, i: number, k: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++) out[((y * k + x) * i + b) * o + a] = src[((a * i + b) * k + y) * k + x];
  return out;
}

/** Assign a Darknet .weights file to `model`; throws if the float count does not match exactly. */
export function loadDarknetWeightsForTest(model: tf.LayersModel, file: string): void {
  const buf = fs.readFileSync(file);
  const major = buf.readInt32LE(0);
  const minor = buf.readInt32LE(4);
  const headerBytes = major * 10 + minor >= 2 && major < 1000 && minor < 1000 ? 20 : 16;
  const floats = new Float32Array(buf.buffer.slice(buf.byteOffset + headerBytes, buf.byteOffset + buf.byteLength));
  let pos = 0;
  const take = (n: number): Float32Array => {
    if (pos + n > floats.length) throw new Error(`weights file too short at float ${pos} (+${n})`);
    const a = floats.slice(pos, pos + n);
    pos += n;
    return a;
  };
  for (const { conv, bn } of darknetConvLayers(model)) {
    const kShape = conv.getWeights()[0].shape; // [k, k, in, out] or depthwise [k, k, C, 1]
    const depthwise = conv.getClassName() === 'DepthwiseConv2D';
    const [k, , cin, cm] = kShape;
    const n = depthwise ? cin : cm;
    const biases = take(n);
    let bnVals: Float32Array[] = [];
    if (bn) bnVals = [take(n), take(n), take(n)];
    const w = take(n * (depthwise ? 1 : cin) * k * k);
    const kernel = depthwise
      ? tf.tensor4d(oihwToHwio(w, n, 1, k), [k, k, 1, n]).reshape([k, k, n, 1])
      : tf.tensor4d(oihwToHwio(w, n, cin, k), [k, k, cin, n]);
    conv.setWeights(bn ? [kernel] : [kernel, tf.tensor1d(biases)]);
    tf.dispose(kernel);
    if (bn) {
      const [scales, mean, variance] = bnVals;
      const t = [tf.tensor1d(scales), tf.tensor1d(biases), tf.tensor1d(mean), tf.tensor1d(variance)];
      bn.setWeights(t);
      tf.dispose(t);
    }
  }
  if (pos !== floats.length) throw new Error(`weights file has ${floats.length - pos} floats left over`);
}
