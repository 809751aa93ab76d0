/**
 * Layer roles of YOLO-FastestV2. Layer names are the upstream PyTorch module paths: the
 * ShuffleNetV2 backbone `backbone.*`, the detection heads `fpn.{cls,reg}_head_*` and the output
 * convs `output_*`; the class conv is `output_cls_layers` (softmax classes, shared by the anchors).
 */
import * as tf from '@tensorflow/tfjs';
import { ClassLayer, FamilyParts } from '../family';

const CLASS_LAYER = 'output_cls_layers';

function classLayers(model: tf.LayersModel): ClassLayer[] {
  if (!model.layers.some((l) => l.name === CLASS_LAYER)) throw new Error(`model '${model.name}' has no layer '${CLASS_LAYER}' (YOLO-FastestV2 class conv)`);
  return [{ name: CLASS_LAYER, groups: 1, leading: 0, reshapes: [], softmax: true }];
}

const names = (model: tf.LayersModel, keep: (n: string) => boolean): string[] => model.layers.map((l) => l.name).filter(keep);

/** YOLO-FastestV2 layer roles. */
export const YOLO_FASTESTV2_PARTS: FamilyParts = {
  backbone: (model) => names(model, (n) => n.startsWith('backbone.')),
  heads: (model) => names(model, (n) => n.startsWith('output_') || /^fpn\.(cls|reg)_head_/.test(n)),
  classLayers,
};
