/**
 * Freezing: which layers of a detector to keep fixed during training, from its family's layer
 * roles (the families table) or from layer-name prefixes.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../spec';
import { familyOfSpec } from '../models/families';
import type { ClassLayer } from '../models/family';

export type { ClassLayer } from '../models/family';

/** The class-dependent output layers of a detector (its family's). */
export function classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[] {
  return familyOfSpec(spec).parts.classLayers(model, spec);
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
  else if (freeze === 'backbone') {
    const backbone = new Set(familyOfSpec(spec).parts.backbone(model, spec));
    frozen = (n) => backbone.has(n);
  } else if (freeze === 'headOnly') {
    const heads = new Set(familyOfSpec(spec).parts.heads(model, spec));
    frozen = (n) => !heads.has(n);
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
