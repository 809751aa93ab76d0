/**
 * The inverse of `setDarknetWeights`: read the current weights of a model built by
 * `buildDarknetModel` (e.g. after training) back into Darknet-named tensors
 * (`layer<i>/<part>`, tfjs kernel layout), ready for `writeDarknetWeights` or pruning.
 */
import * as tf from '@tensorflow/tfjs';
import { DarknetCfg } from '../../weights/parseDarknetCfg';
import { darknetConvWeightsLayout, darknetTensorName, DarknetConvPart } from '../../weights/readDarknetWeights';
import { TensorMap } from '../../weights/tensorMap';
import { darknetConvName } from './darknetConvLayers';

function f32(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

/**
 * Darknet tensors of `model` for `cfg`. Throws, naming the layer, when the model was not built
 * from this cfg (a layer is missing or has another shape).
 */
export function getDarknetWeights(model: tf.LayersModel, cfg: DarknetCfg): TensorMap {
  const out: TensorMap = new Map();
  const layerOf = (name: string): tf.layers.Layer => {
    try {
      return model.getLayer(name);
    } catch {
      throw new Error(`getDarknetWeights: the model has no layer '${name}'; was it built from this cfg?`);
    }
  };
  for (const info of darknetConvWeightsLayout(cfg)) {
    const l = info.layer;
    const name = darknetConvName(l.index);
    const put = (part: DarknetConvPart, shape: number[], data: Float32Array) => {
      if (data.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new Error(`getDarknetWeights: ${name} ${part} has ${data.length} values but the cfg needs [${shape}]`);
      }
      out.set(darknetTensorName(l.index, part), { shape, dtype: 'float32', data });
    };
    // General grouped convs are split into per-group layers; concatenate them on the filter axis.
    const grouped = !info.depthwise && l.groups > 1;
    const convWeights: tf.Tensor[][] = grouped
      ? Array.from({ length: l.groups }, (_, g) => layerOf(`${name}_conv_g${g}`).getWeights())
      : [layerOf(`${name}_conv`).getWeights()];
    const kernel = convWeights.length === 1 ? f32(convWeights[0][0]) : f32(tf.tidy(() => tf.concat(convWeights.map((w) => w[0]), 3)));
    if (grouped && convWeights[0][0].shape[3] !== l.filters / l.groups) {
      throw new Error(`getDarknetWeights: ${name} kernel shape [${convWeights[0][0].shape}] does not match the cfg`);
    }
    if (!grouped && convWeights[0][0].shape.some((d, k) => d !== info.kernelShape[k])) {
      throw new Error(`getDarknetWeights: ${name} kernel shape [${convWeights[0][0].shape}] does not match the cfg's [${info.kernelShape}]`);
    }
    if (l.batchNormalize) {
      const [gamma, beta, mean, variance] = layerOf(`${name}_bn`).getWeights();
      put('biases', [l.filters], f32(beta));
      put('scales', [l.filters], f32(gamma));
      put('rolling_mean', [l.filters], f32(mean));
      put('rolling_variance', [l.filters], f32(variance));
    } else {
      const bias = convWeights.length === 1 ? f32(convWeights[0][1]) : f32(tf.tidy(() => tf.concat(convWeights.map((w) => w[1]), 0)));
      put('biases', [l.filters], bias);
    }
    put('weights', info.kernelShape, kernel);
  }
  return out;
}
