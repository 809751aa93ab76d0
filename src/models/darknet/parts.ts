/**
 * Layer roles of Darknet models (any cfg, tiny YOLOv3, YOLOv4-tiny). Layer names carry the cfg
 * index (`conv2d_12`, `conv2d_12_bn`, ...), so the backbone is every cfg layer up to the last
 * stride-2 layer (for yolov3-tiny layers 0-9, what keras-yolo3's `freeze_body=1` freezes) and the
 * heads are the convs feeding the outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../../spec';
import { ClassLayer, FamilyParts } from '../family';

const DARKNET_INDEX = /^[a-z_]+?_(\d+)(?:_[a-z]+)?$/;

function darknetIndex(name: string): number | null {
  const m = DARKNET_INDEX.exec(name);
  return m ? Number(m[1]) : null;
}

function strideOf(layer: tf.layers.Layer): number {
  const c = layer.getConfig() as { strides?: number | number[] };
  const s = c.strides;
  if (s === undefined) return 1;
  return Array.isArray(s) ? Math.max(...s) : s;
}

/**
 * The layer computing an output, looking through a weightless Activation (new_coords=1 heads end
 * in a logistic conv: `conv_<i>_conv` -> `conv_<i>_act`), which passes a channel-count change on.
 */
function outputSourceLayer(model: tf.LayersModel, output: number): tf.layers.Layer {
  const t = model.outputs[output] as tf.SymbolicTensor;
  let layer = t.sourceLayer as tf.layers.Layer;
  while (layer.getClassName() === 'Activation' && layer.inboundNodes.length === 1 && layer.inboundNodes[0].inboundLayers.length === 1) {
    layer = layer.inboundNodes[0].inboundLayers[0] as tf.layers.Layer;
  }
  return layer;
}

/** The output convs: one per head, `groups` = its anchors, 5 leading channels (x, y, w, h, obj). */
function classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  return spec.heads.map((h) => {
    if (h.kind !== 'darknet') throw new Error('unreachable');
    const layer = outputSourceLayer(model, h.output);
    const cls = layer.getClassName();
    if (cls !== 'Conv2D') {
      throw new Error(`output ${h.output} of '${spec.name}' comes from layer '${layer.name}' (${cls}), not a Conv2D head; cannot change its classes`);
    }
    return { name: layer.name, groups: h.anchors.length, leading: 5, reshapes: [] };
  });
}

/** Backbone of a Darknet cfg model: every cfg layer up to the last stride-2 layer. */
export function darknetBackbone(model: tf.LayersModel): string[] {
  let last = -1;
  for (const l of model.layers) {
    const i = darknetIndex(l.name);
    if (i !== null && strideOf(l) >= 2) last = Math.max(last, i);
  }
  if (last < 0) throw new Error(`model '${model.name}' has no stride-2 Darknet layer; give freeze as a list of layer-name prefixes`);
  return model.layers.map((l) => l.name).filter((n) => {
    const i = darknetIndex(n);
    return i !== null && i <= last;
  });
}

/** Darknet layer roles. */
export const DARKNET_PARTS: FamilyParts = {
  backbone: (model) => darknetBackbone(model),
  heads: (model, spec) => classLayers(model, spec).map((c) => c.name),
  classLayers,
};
