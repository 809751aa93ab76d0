/**
 * Layer roles of RFSong (SSD heads): the heads are the layers producing the loc and conf
 * outputs; the backbone is everything else (SSD's extra layers belong to its base network);
 * the class layers are the conf convs, per anchor a background channel then the classes
 * (softmax, so new classes start at bias 0).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec, SsdHeadSpec } from '../../spec';
import { ClassLayer, FamilyParts } from '../family';

function ssdHead(spec: ModelSpec): SsdHeadSpec {
  const head = spec.heads[0];
  if (head.kind !== 'ssd') throw new Error('unreachable');
  return head;
}

function outputSourceLayer(model: tf.LayersModel, output: number): tf.layers.Layer {
  return (model.outputs[output] as tf.SymbolicTensor).sourceLayer as tf.layers.Layer;
}

function headLayers(model: tf.LayersModel, spec: ModelSpec): Set<string> {
  const head = ssdHead(spec);
  return new Set([...head.locOutputs, ...head.confOutputs].map((o) => outputSourceLayer(model, o).name));
}

function classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  const head = ssdHead(spec);
  return head.confOutputs.map((o, k) => {
    const layer = outputSourceLayer(model, o);
    if (layer.getClassName() !== 'Conv2D') throw new Error(`output ${o} of '${spec.name}' comes from '${layer.name}', not a Conv2D conf head`);
    return { name: layer.name, groups: head.priors.shapes[k].length, leading: 1, reshapes: [], softmax: true };
  });
}

/** RFSong layer roles. */
export const RFSONG_PARTS: FamilyParts = {
  backbone: (model, spec) => {
    const heads = headLayers(model, spec);
    return model.layers.map((l) => l.name).filter((n) => !heads.has(n));
  },
  heads: (model, spec) => {
    const heads = headLayers(model, spec);
    return model.layers.map((l) => l.name).filter((n) => heads.has(n));
  },
  classLayers,
};
