/**
 * Move weights between two LayersModels of the same architecture whose layers share names,
 * e.g. `tinyYoloV3()` and `loadDarknet(yolov3-tiny.cfg, ...)` (both name layers after the
 * Darknet cfg index).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Copy every weight of `source` into the same-named layer of `target`. Both models must have
 * exactly the same set of layers with weights, with identical weight shapes; otherwise an error
 * names the first offending layer (and nothing is half-copied: all checks run first).
 */
export function copyLayerWeights(source: tf.LayersModel, target: tf.LayersModel): void {
  const weighted = (m: tf.LayersModel) => m.layers.filter((l) => l.weights.length > 0);
  const src = weighted(source);
  const dst = new Map(weighted(target).map((l) => [l.name, l]));
  for (const l of src) {
    const t = dst.get(l.name);
    if (!t) throw new Error(`copyLayerWeights: layer '${l.name}' of '${source.name}' has no weighted counterpart in '${target.name}'`);
    const a = l.weights.map((w) => w.shape);
    const b = t.weights.map((w) => w.shape);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Error(`copyLayerWeights: layer '${l.name}' weight shapes differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    dst.delete(l.name);
  }
  if (dst.size > 0) {
    throw new Error(`copyLayerWeights: layer '${[...dst.keys()][0]}' of '${target.name}' has no counterpart in '${source.name}'`);
  }
  for (const l of src) {
    const values = l.getWeights();
    target.getLayer(l.name).setWeights(values);
  }
}
