/**
 * The RFSong family (RFBNet300 on a VGG-like base with RFB blocks, SSD multibox heads, softmax
 * classes with a background channel); PyTorch weights through its key table.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec, SsdHeadSpec } from '../../spec';
import { ClassLayer, Family } from '../family';
import { rfsong } from './rfsong';
import { rfsongClassCount, rfsongFromStateDict } from './fromStateDict';

const names = (model: tf.LayersModel, keep: (n: string) => boolean): string[] => model.layers.map((l) => l.name).filter(keep);

/** The conf convs `conf.<k>`: per anchor, a background channel then the classes (softmax). */
function classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  const head = spec.heads[0] as SsdHeadSpec;
  return head.priors.shapes.map((shapes, k) => {
    const name = `conf.${k}`;
    if (!model.layers.some((l) => l.name === name)) throw new Error(`model '${model.name}' has no layer '${name}' (RFSong class conv)`);
    return { name, groups: shapes.length, leading: 1, reshapes: [], softmax: true };
  });
}

export const rfsongFamily: Family = {
  name: 'rfsong',
  description: 'RFSong / RFBNet300 (SSD heads), PyTorch weights',
  matchesSpec: (spec) => spec.heads.every((h) => h.kind === 'ssd'),
  parts: {
    backbone: (model) => names(model, (n) => n.startsWith('base.')),
    heads: (model) => names(model, (n) => n.startsWith('loc.') || n.startsWith('conf.')),
    classLayers,
  },
  builders: { rfsong },
  pytorchArchs: ['rfsong'],
  classCount: (_arch, sd) => rfsongClassCount(sd),
  fromStateDict: (_arch, sd, opts) => rfsongFromStateDict(sd, { classNames: opts.classNames, inputSize: opts.inputSize }),
};
