/**
 * Layer roles of a Scaled-YOLOv4 model. YAML models (layers named by PyTorch module path,
 * `model.<row>...`): the backbone is every row before the first SPPCSP (the yolov4-large head
 * starts there), the heads are the Detect convs (the model's outputs), which are also the
 * class-dependent layers (per anchor x, y, w, h, obj, then the classes). cfg-defined Darknets
 * loaded from PyTorch (yolov4-csp) keep our cfg builder's names; their backbone is below.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../../spec';
import { darknetBackbone } from '../darknet/parts';

const ROW = /^model\.(\d+)(\.|$)/;

function rowOf(name: string): number | null {
  const m = ROW.exec(name);
  return m ? Number(m[1]) : null;
}

function outputLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.outputs.map((o) => (o as tf.SymbolicTensor).sourceLayer as tf.layers.Layer);
}

/** Backbone layer names: rows before the first SPPCSP (YAML models), or see {@link cfgDarknetBackbone}. */
export function scaledYoloBackbone(model: tf.LayersModel): string[] {
  if (!model.layers.some((l) => rowOf(l.name) !== null)) return cfgDarknetBackbone(model);
  const spp = model.layers.map((l) => l.name).filter((n) => /^model\.\d+\.cv7\.conv$/.test(n)).map((n) => rowOf(n) as number);
  if (spp.length === 0) throw new Error(`model '${model.name}' has no SPPCSP layer, so no backbone boundary is known`);
  const first = Math.min(...spp);
  return model.layers.filter((l) => {
    const r = rowOf(l.name);
    return r !== null && r < first;
  }).map((l) => l.name);
}

const CFG_INDEX = /^(conv|route|shortcut|maxpool|upsample)_(\d+)(_|$)/;

function cfgIndex(name: string): number | null {
  const m = CFG_INDEX.exec(name);
  return m ? Number(m[2]) : null;
}

function poolStride(layer: tf.layers.Layer): number {
  const c = layer.getConfig() as { strides?: number | number[]; stride?: number };
  const s = c.strides ?? c.stride ?? 1;
  return Array.isArray(s) ? Math.max(...s) : s;
}

/**
 * Backbone of a cfg-defined Darknet (the yolov4-csp branch's `loadPytorch('darknet')` models,
 * layers named by cfg index: `conv_<i>_conv`, `route_<i>`, `maxpool_<i>`): CSPDarknet53 up to
 * its end, i.e. the cfg layers up to the 1x1 transition conv that follows the last
 * concatenating [route] before the SPP (the first stride-1 [maxpool]) -- where the YAML models'
 * backbone ends and their SPPCSP begins. Without an SPP, the Darknet rule: up to the last
 * stride-2 layer.
 */
function cfgDarknetBackbone(model: tf.LayersModel): string[] {
  const pools = model.layers.filter((l) => l.name.startsWith('maxpool_') && poolStride(l) === 1).map((l) => cfgIndex(l.name) as number);
  if (pools.length === 0) return darknetBackbone(model);
  const spp = Math.min(...pools);
  const routes = model.layers
    .filter((l) => l.name.startsWith('route_') && l.getClassName() === 'Concatenate')
    .map((l) => cfgIndex(l.name) as number)
    .filter((i) => i < spp);
  if (routes.length === 0) throw new Error(`model '${model.name}': no concatenating [route] before the SPP at cfg layer ${spp}, so no backbone boundary is known; give freeze as a list of layer-name prefixes`);
  const lastRoute = Math.max(...routes);
  const convs = model.layers.filter((l) => /^conv_\d+_conv$/.test(l.name)).map((l) => cfgIndex(l.name) as number).filter((i) => i > lastRoute);
  const end = convs.length ? Math.min(...convs) : lastRoute;
  return model.layers.filter((l) => {
    const i = cfgIndex(l.name);
    return i !== null && i <= end;
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
