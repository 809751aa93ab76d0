/**
 * The convolutional layers of a Darknet-style LayersModel in cfg order. Our Darknet models
 * name every cfg conv `conv_<i>` (i = Darknet layer index, `[net]` excluded), which gives the
 * tfjs layers `conv_<i>_conv` and, with batch_normalize, `conv_<i>_bn`.
 */
import * as tf from '@tensorflow/tfjs';

/** One Darknet `[convolutional]` layer of a model. */
export interface DarknetConvLayer {
  /** Darknet layer index in the cfg. */
  index: number;
  /** The conv2d / depthwiseConv2d layer (`conv_<i>_conv`). */
  conv: tf.layers.Layer;
  /** The batch-norm layer (`conv_<i>_bn`), when the cfg layer has batch_normalize=1. */
  bn?: tf.layers.Layer;
}

const CONV_NAME = /^conv_(\d+)_conv$/;

/** The name prefix of the Darknet conv at cfg index i. */
export function darknetConvName(index: number): string {
  return `conv_${index}`;
}

/**
 * List a model's Darknet conv layers sorted by cfg index (the order of the .weights file).
 * Throws if the model has none.
 */
export function darknetConvLayers(model: tf.LayersModel): DarknetConvLayer[] {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const out: DarknetConvLayer[] = [];
  for (const layer of model.layers) {
    const m = CONV_NAME.exec(layer.name);
    if (!m) continue;
    const index = Number(m[1]);
    out.push({ index, conv: layer, bn: byName.get(`conv_${index}_bn`) });
  }
  if (out.length === 0) throw new Error(`model '${model.name}' has no Darknet conv layers (named conv_<i>_conv)`);
  return out.sort((a, b) => a.index - b.index);
}
