/**
 * The on-disk layout of a saved Detector: a tfjs layers-model folder plus our spec.
 *
 * ```
 * <dir>/model.json    tfjs LayersModel topology + weights manifest (format 'layers-model')
 * <dir>/weights.bin   all weights, one shard, little-endian as tfjs writes them
 * <dir>/spec.json     the ModelSpec (input, heads, classes, NMS)
 * ```
 * `tf.loadLayersModel('file://.../model.json')` (tfjs-node) or `http(s)://` reads the same
 * folder once our custom layers are registered (import `src/layers`).
 */
import { ModelSpec } from '../spec';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const SPEC_JSON = 'spec.json';

/** Check that a parsed spec.json has the fields every consumer relies on. */
export function validateSpec(spec: unknown, where: string): ModelSpec {
  const s = spec as Partial<ModelSpec> | null;
  const missing: string[] = [];
  if (!s || typeof s !== 'object') throw new Error(`${where}: spec is not a JSON object`);
  if (typeof s.name !== 'string') missing.push('name');
  if (!s.input || !Array.isArray(s.input.size)) missing.push('input.size');
  if (!Array.isArray(s.classNames)) missing.push('classNames');
  if (!Array.isArray(s.heads)) missing.push('heads');
  if (!s.nms) missing.push('nms');
  if (missing.length) throw new Error(`${where}: spec is missing ${missing.join(', ')}`);
  return s as ModelSpec;
}
