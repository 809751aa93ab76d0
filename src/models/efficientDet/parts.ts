/**
 * Layer roles of EfficientDet. Layer names are zylo117's module paths: the EfficientNet backbone
 * `backbone_net.*`, the heads `regressor.*` and `classifier.*` (what zylo117's `head_only`
 * trains); the class layer is `classifier.header` (a separable conv, 9 anchors x classes) whose
 * output is reshaped by `classifier.reshape.*` to the class count.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../../spec';
import { ClassLayer, FamilyParts } from '../family';

const CLASS_LAYER = 'classifier.header';

function classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  const head = spec.heads[0];
  if (head.kind !== 'anchor-deltas') throw new Error('unreachable');
  if (!model.layers.some((l) => l.name === CLASS_LAYER)) throw new Error(`model '${model.name}' has no layer '${CLASS_LAYER}' (EfficientDet class header)`);
  const reshapes = model.layers.filter((l) => l.name.startsWith('classifier.reshape.')).map((l) => l.name);
  return [{ name: CLASS_LAYER, groups: head.scales.length * head.ratios.length, leading: 0, reshapes }];
}

const names = (model: tf.LayersModel, keep: (n: string) => boolean): string[] => model.layers.map((l) => l.name).filter(keep);

/** EfficientDet layer roles. */
export const EFFICIENTDET_PARTS: FamilyParts = {
  backbone: (model) => names(model, (n) => n.startsWith('backbone_net.')),
  heads: (model) => names(model, (n) => n.startsWith('regressor.') || n.startsWith('classifier.')),
  classLayers,
};
