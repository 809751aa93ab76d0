/**
 * `withClasses(detector, classNames)`: the same detector with a different class list. The
 * class-dependent output layers (the `classLayers` of the detector's family: Darknet's head
 * convs, YOLO-FastestV2's and EfficientDet's class convs) are rebuilt; every other weight is the
 * pretrained one. Inside the rebuilt layers, class-independent channels (Darknet's x, y, w, h,
 * objectness per anchor, and EfficientDet's depthwise filter) keep their weights too, and so do
 * the channels of classes whose name is in the old list. New class channels start from a
 * small random kernel (1% of the initialiser's scale) and a bias at the class prior.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { ModelSpec } from '../spec';
import { ClassLayer, classLayers } from './modelParts';
import { sanitizeLayersTopology } from '../io/sanitizeTopology';
import '../layers'; // custom layers must be registered to rebuild from the topology

/** Options of {@link withClasses}. */
export interface WithClassesOptions {
  /**
   * Copy the weights of classes whose names also exist in the old detector (default true).
   * New classes start from a fresh initialisation.
   */
  keepMatchingClasses?: boolean;
  /**
   * Initial class bias of new classes for sigmoid heads (Darknet, EfficientDet): the logit of
   * this prior probability (RetinaNet's 0.01 trick). Default 0.01. Softmax class layers (YOLO-FastestV2) use 0.
   */
  classPrior?: number;
}

type LayerJson = { class_name: string; config: Record<string, unknown> };

/**
 * A new Detector for `classNames`, built from `detector` with only the class-dependent layers
 * re-initialised (see the file comment). The input detector is left untouched (the caller still
 * owns and disposes it). Asynchronous because the model is rebuilt from its topology.
 */
export async function withClasses(detector: Detector, classNames: string[], opts: WithClassesOptions = {}): Promise<Detector> {
  if (!Array.isArray(classNames) || classNames.length === 0 || classNames.some((c) => typeof c !== 'string')) {
    throw new Error('withClasses: classNames must be a non-empty array of strings');
  }
  const dup = classNames.find((c, i) => classNames.indexOf(c) !== i);
  if (dup !== undefined) throw new Error(`withClasses: class name '${dup}' appears twice`);
  const { model, spec } = detector;
  const oldC = spec.classNames.length;
  const newC = classNames.length;
  const layers = classLayers(model, spec);

  const topology = model.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } };
  const byName = new Map(topology.config.layers.map((l) => [l.config.name as string, l]));
  for (const cl of layers) {
    const j = byName.get(cl.name);
    if (!j) throw new Error(`withClasses: layer '${cl.name}' missing from the topology`);
    const filters = j.config.filters as number;
    if (filters !== cl.groups * (cl.leading + oldC)) {
      throw new Error(`withClasses: layer '${cl.name}' has ${filters} filters, expected ${cl.groups} x (${cl.leading} + ${oldC} classes)`);
    }
    j.config.filters = cl.groups * (cl.leading + newC);
    for (const r of cl.reshapes) {
      const rj = byName.get(r);
      const ts = rj?.config.target_shape as number[] | undefined;
      if (!rj || !ts || ts[ts.length - 1] !== oldC) throw new Error(`withClasses: reshape layer '${r}' does not end in the class count ${oldC}`);
      rj.config.target_shape = [...ts.slice(0, -1), newC];
    }
  }
  // tfjs-layers writes a DepthwiseConv2D's regularizer as its constraint (Darknet's grouped convs)
  sanitizeLayersTopology(topology);
  const newModel = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  try {
    const rebuilt = new Map(layers.map((l) => [l.name, l]));
    const oldIndex = classNames.map((c) => ((opts.keepMatchingClasses ?? true) ? spec.classNames.indexOf(c) : -1));
    for (const layer of newModel.layers) {
      if (layer.weights.length === 0) continue;
      const old = model.getLayer(layer.name);
      const cl = rebuilt.get(layer.name);
      if (!cl) {
        layer.setWeights(old.getWeights());
        continue;
      }
      // softmax classes start at bias 0; sigmoid ones at the logit of the prior
      const prior = cl.softmax ? 0 : logit(opts.classPrior ?? 0.01);
      const values = tf.tidy(() => remapClassLayer(old.getWeights(), layer.getWeights(), cl, oldC, newC, oldIndex, prior));
      layer.setWeights(values);
      tf.dispose(values);
    }
    const newSpec: ModelSpec = { ...JSON.parse(JSON.stringify(spec)), classNames: classNames.slice() };
    return new Detector(newModel, newSpec);
  } catch (e) {
    newModel.dispose();
    throw e;
  }
}

function logit(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`withClasses: classPrior must be in (0, 1), got ${p}`);
  return Math.log(p / (1 - p));
}

/**
 * New weights of a rebuilt class layer: weights whose last axis is the output channels are
 * gathered channel by channel from the old layer (or kept fresh for new classes; a new class's
 * bias is `prior`); weights that do not depend on the class count (a separable conv's
 * depthwise kernel) are copied.
 */
function remapClassLayer(
  oldW: tf.Tensor[],
  freshW: tf.Tensor[],
  cl: ClassLayer,
  oldC: number,
  newC: number,
  oldIndex: number[],
  prior: number,
): tf.Tensor[] {
  const oldCh = cl.groups * (cl.leading + oldC);
  const newCh = cl.groups * (cl.leading + newC);
  // source channel of each new channel, -1 = fresh
  const src: number[] = [];
  const isClass: boolean[] = [];
  for (let g = 0; g < cl.groups; g++) {
    for (let k = 0; k < cl.leading + newC; k++) {
      if (k < cl.leading) {
        src.push(g * (cl.leading + oldC) + k);
        isClass.push(false);
      } else {
        const j = oldIndex[k - cl.leading];
        src.push(j >= 0 ? g * (cl.leading + oldC) + cl.leading + j : -1);
        isClass.push(true);
      }
    }
  }
  return freshW.map((fresh, wi) => {
    const old = oldW[wi];
    const last = fresh.shape[fresh.rank - 1];
    if (last !== newCh || old.shape[old.rank - 1] !== oldCh) {
      if (JSON.stringify(old.shape) !== JSON.stringify(fresh.shape)) {
        throw new Error(`withClasses: cannot map weight ${wi} of '${cl.name}': shapes [${old.shape}] -> [${fresh.shape}]`);
      }
      return tf.clone(old);
    }
    const isBias = fresh.rank === 1;
    const take = src.map((s) => Math.max(s, 0));
    const keep = tf.tensor1d(src.map((s) => (s >= 0 ? 1 : 0)), 'float32');
    const gathered = tf.gather(old, take, fresh.rank - 1);
    // fresh class channels start small (near the prior), not at a full random-init scale
    let base = tf.mul(fresh, 0.01);
    if (isBias) base = tf.tensor1d(isClass.map((c) => (c ? prior : 0)), 'float32');
    return tf.add(tf.mul(gathered, keep), tf.mul(base, tf.sub(1, keep)));
  });
}
