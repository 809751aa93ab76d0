/**
 * Which layers of a detector are its backbone, its prediction heads and its class-dependent
 * output layers, for freezing and for changing the class count. Decided from the spec's head
 * kind and the layer names every builder in `src/models` uses (PyTorch module paths for
 * YOLO-FastestV2 and EfficientDet, Darknet cfg indices for Darknet models).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../spec';
import { scaledYoloBackbone, scaledYoloClassLayers, scaledYoloHeads } from '../models/scaledYolov4/parts';

/** YOLOv5-style Detect heads (Scaled-YOLOv4's YAML models): per anchor x, y, w, h, obj, classes. */
function anchorMajorYolov5(spec: ModelSpec): boolean {
  return spec.heads.every((h) => h.kind === 'yolov5' && h.layout === 'anchor-major');
}

/** A class-dependent output layer and how its output channels are laid out. */
export interface ClassLayer {
  /** Layer name. */
  name: string;
  /** Channel groups (anchors) that each hold `leading` class-independent channels then the classes. */
  groups: number;
  /** Class-independent channels at the start of each group (Darknet: x, y, w, h, obj = 5). */
  leading: number;
  /** Reshape layers whose last target dimension is the class count (EfficientDet). */
  reshapes: string[];
}

type Family = 'darknet' | 'yolov5' | 'anchor-deltas' | 'ssd';

/** The model family (one per head kind). */
export function modelFamily(spec: ModelSpec): Family {
  const kinds = new Set(spec.heads.map((h) => h.kind));
  if (kinds.size !== 1) throw new Error(`spec '${spec.name}' mixes head kinds ${[...kinds].join(', ')}; training supports one kind`);
  return spec.heads[0].kind;
}

function outputSourceLayer(model: tf.LayersModel, output: number): tf.layers.Layer {
  const t = model.outputs[output] as tf.SymbolicTensor;
  return t.sourceLayer as tf.layers.Layer;
}

/** The class-dependent output layers of a detector. */
export function classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  const family = modelFamily(spec);
  if (family === 'darknet') {
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
  if (family === 'yolov5' && anchorMajorYolov5(spec)) return scaledYoloClassLayers(model, spec);
  if (family === 'yolov5') {
    const name = 'output_cls_layers';
    if (!model.layers.some((l) => l.name === name)) throw new Error(`model '${model.name}' has no layer '${name}' (YOLO-FastestV2 class conv)`);
    return [{ name, groups: 1, leading: 0, reshapes: [] }];
  }
  if (family === 'ssd') return ssdClassLayers(model, spec);
  const head = spec.heads[0];
  if (head.kind !== 'anchor-deltas') throw new Error('unreachable');
  const name = 'classifier.header';
  if (!model.layers.some((l) => l.name === name)) throw new Error(`model '${model.name}' has no layer '${name}' (EfficientDet class header)`);
  const reshapes = model.layers.filter((l) => l.name.startsWith('classifier.reshape.')).map((l) => l.name);
  return [{ name, groups: head.scales.length * head.ratios.length, leading: 0, reshapes }];
}

/** SSD: the conf convs, per anchor the background channel (leading) then the classes. */
function ssdClassLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  const head = spec.heads[0];
  if (head.kind !== 'ssd') throw new Error('unreachable');
  return head.confOutputs.map((o, k) => {
    const layer = outputSourceLayer(model, o);
    if (layer.getClassName() !== 'Conv2D') throw new Error(`output ${o} of '${spec.name}' comes from '${layer.name}', not a Conv2D conf head`);
    return { name: layer.name, groups: head.priors.shapes[k].length, leading: 1, reshapes: [] };
  });
}

/** SSD: the layers producing the head outputs (loc and conf convs). */
function ssdHeadLayers(model: tf.LayersModel, spec: ModelSpec): Set<string> {
  const head = spec.heads[0];
  if (head.kind !== 'ssd') throw new Error('unreachable');
  return new Set([...head.locOutputs, ...head.confOutputs].map((o) => outputSourceLayer(model, o).name));
}

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
 * Layer-name predicate of the backbone: YOLO-FastestV2 `backbone.*`, EfficientDet
 * `backbone_net.*`; Darknet models: every cfg layer up to the last stride-2 layer (for
 * yolov3-tiny that is layers 0-9, what keras-yolo3's `freeze_body=1` freezes).
 */
export function backbonePredicate(model: tf.LayersModel, spec: ModelSpec): (name: string) => boolean {
  const family = modelFamily(spec);
  if (family === 'yolov5' && anchorMajorYolov5(spec)) {
    const backbone = new Set(scaledYoloBackbone(model));
    return (n) => backbone.has(n);
  }
  if (family === 'yolov5') return (n) => n.startsWith('backbone.');
  if (family === 'anchor-deltas') return (n) => n.startsWith('backbone_net.');
  if (family === 'ssd') {
    // everything but the multibox heads (SSD's extra layers belong to its base network)
    const heads = ssdHeadLayers(model, spec);
    return (n) => !heads.has(n);
  }
  let last = -1;
  for (const l of model.layers) {
    const i = darknetIndex(l.name);
    if (i !== null && strideOf(l) >= 2) last = Math.max(last, i);
  }
  if (last < 0) throw new Error(`model '${model.name}' has no stride-2 Darknet layer; give freeze as a list of layer-name prefixes`);
  return (n) => {
    const i = darknetIndex(n);
    return i !== null && i <= last;
  };
}

/**
 * Layer-name predicate of the prediction heads (what `freeze: 'headOnly'` leaves trainable):
 * EfficientDet `regressor.*` and `classifier.*` (zylo117's head_only), YOLO-FastestV2 the
 * detection heads `fpn.{cls,reg}_head_*` and the `output_*` convs, Darknet the output convs.
 */
export function headPredicate(model: tf.LayersModel, spec: ModelSpec): (name: string) => boolean {
  const family = modelFamily(spec);
  if (family === 'anchor-deltas') return (n) => n.startsWith('regressor.') || n.startsWith('classifier.');
  if (family === 'yolov5' && anchorMajorYolov5(spec)) {
    const heads = new Set(scaledYoloHeads(model));
    return (n) => heads.has(n);
  }
  if (family === 'yolov5') return (n) => n.startsWith('output_') || /^fpn\.(cls|reg)_head_/.test(n);
  if (family === 'ssd') {
    const ssd = ssdHeadLayers(model, spec);
    return (n) => ssd.has(n);
  }
  const heads = new Set(classLayers(model, spec).map((c) => c.name));
  return (n) => heads.has(n);
}

/** What to freeze: the backbone, everything but the heads, or layers whose names start with one of the prefixes. */
export type FreezeSpec = 'backbone' | 'headOnly' | string[];

/**
 * Set `trainable` on the model's layers: frozen ones false, all others true. Returns the names
 * of the frozen layers that have weights. An empty selection is an error (a typo in a prefix).
 */
export function applyFreeze(model: tf.LayersModel, spec: ModelSpec, freeze: FreezeSpec | undefined): string[] {
  let frozen: (name: string) => boolean;
  if (freeze === undefined) frozen = () => false;
  else if (freeze === 'backbone') frozen = backbonePredicate(model, spec);
  else if (freeze === 'headOnly') {
    const head = headPredicate(model, spec);
    frozen = (n) => !head(n);
  } else if (Array.isArray(freeze)) frozen = (n) => freeze.some((p) => n.startsWith(p));
  else throw new Error(`freeze must be 'backbone', 'headOnly' or a list of layer-name prefixes, got ${JSON.stringify(freeze)}`);
  const names: string[] = [];
  for (const l of model.layers) {
    const f = frozen(l.name);
    l.trainable = !f;
    if (f && l.weights.length > 0) names.push(l.name);
  }
  if (freeze !== undefined && names.length === 0) {
    throw new Error(`freeze ${JSON.stringify(freeze)} matches no layer with weights in '${model.name}'`);
  }
  return names;
}
