/**
 * Layer roles of a Scaled-YOLOv4 YAML model (layers are named by PyTorch module path,
 * `model.<row>...`): the backbone is every row before the first SPPCSP (the yolov4-large head
 * starts there), the heads are the Detect convs (the model's outputs), which are also the
 * class-dependent layers (per anchor x, y, w, h, obj, then the classes).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../../spec';

const ROW = /^model\.(\d+)(\.|$)/;

function rowOf(name: string): number | null {
  const m = ROW.exec(name);
  return m ? Number(m[1]) : null;
}

function outputLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.outputs.map((o) => (o as tf.SymbolicTensor).sourceLayer as tf.layers.Layer);
}

/** Backbone layer names: rows before the first SPPCSP. */
export function scaledYoloBackbone(model: tf.LayersModel): string[] {
  const spp = model.layers.map((l) => l.name).filter((n) => /^model\.\d+\.cv7\.conv$/.test(n)).map((n) => rowOf(n) as number);
  if (spp.length === 0) throw new Error(`model '${model.name}' has no SPPCSP layer, so no backbone boundary is known`);
  const first = Math.min(...spp);
  return model.layers.filter((l) => {
    const r = rowOf(l.name);
    return r !== null && r < first;
  }).map((l) => l.name);
}

/** The Detect convs. */
export function scaledYoloHeads(model: tf.LayersModel): string[] {
  return outputLayers(model).map((l) => l.name);
}

/** The class-dependent layers (the Detect convs), `na` groups of 5 + classes channels. */
export function scaledYoloClassLayers(model: tf.LayersModel, spec: ModelSpec): { name: string; groups: number; leading: number; reshapes: string[] }[] {
  return outputLayers(model).map((layer, l) => {
    if (layer.getClassName() !== 'Conv2D') throw new Error(`output ${l} of '${spec.name}' comes from '${layer.name}' (${layer.getClassName()}), not a Conv2D`);
    const head = spec.heads[l];
    if (!head || head.kind !== 'yolov5') throw new Error(`spec '${spec.name}' has no yolov5 head for output ${l}`);
    return { name: layer.name, groups: head.anchors.length, leading: 5, reshapes: [] };
  });
}
