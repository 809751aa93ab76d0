/**
 * Generic assignment of a named-tensor map (a PyTorch state dict, a safetensors file, ...) to a
 * tfjs LayersModel through a DECLARATIVE key table: each row says which key goes to which
 * layer weight and how its layout is transposed. Every shape is checked; a missing, extra or
 * mis-shaped key is an error naming it. `exportStateDict` is the exact inverse.
 */
import * as tf from '@tensorflow/tfjs';
import { NamedTensor, TensorMap } from './tensorMap';

/**
 * Layout conversion from the source (PyTorch) layout to the tfjs one.
 * - `conv2d`: `[O, I, kh, kw]` -> `[kh, kw, I, O]`
 * - `depthwise`: `[C, 1, kh, kw]` -> `[kh, kw, C, 1]`
 * - `linear`: `[O, I]` -> `[I, O]`
 * - `identity`: unchanged (biases, BN gamma/beta/running stats)
 */
export type WeightTransform = 'conv2d' | 'depthwise' | 'linear' | 'identity';

/** One row of a key table. */
export interface KeyTableEntry {
  /** Source key, e.g. `backbone.first_conv.0.weight`. */
  key: string;
  /** tfjs layer name. */
  layer: string;
  /** tfjs weight name inside the layer: `kernel`, `depthwise_kernel`, `bias`, `gamma`, `beta`, `moving_mean`, `moving_variance`. */
  weight: string;
  transform: WeightTransform;
}

/** Options of {@link assignStateDict}. */
export interface AssignStateDictOptions {
  /**
   * Source keys that are neither assigned nor reported as extra. Default: keys ending in
   * `num_batches_tracked` (PyTorch BN counters).
   */
  ignore?: (key: string) => boolean;
}

const DEFAULT_IGNORE = (key: string): boolean => key.endsWith('num_batches_tracked');

/** Source-layout shape that `transform` maps to the tfjs shape `tfShape`. */
function sourceShapeFor(transform: WeightTransform, tfShape: number[]): number[] {
  switch (transform) {
    case 'conv2d': {
      const [kh, kw, i, o] = tfShape;
      return [o, i, kh, kw];
    }
    case 'depthwise': {
      const [kh, kw, c, m] = tfShape;
      if (m !== 1) throw new Error(`depthwise transform supports depth multiplier 1 only, got kernel ${fmt(tfShape)}`);
      return [c, 1, kh, kw];
    }
    case 'linear':
      return [tfShape[1], tfShape[0]];
    case 'identity':
      return tfShape.slice();
    default:
      throw new Error(`unknown weight transform '${transform as string}'`);
  }
}

/** Permutation taking the source layout to the tfjs layout (for tf.transpose), or null. */
function permFor(transform: WeightTransform): number[] | null {
  switch (transform) {
    case 'conv2d':
      return [2, 3, 1, 0]; // [O, I, kh, kw] -> [kh, kw, I, O]
    case 'depthwise':
      return [2, 3, 0, 1]; // [C, 1, kh, kw] -> [kh, kw, C, 1]
    case 'linear':
      return [1, 0];
    default:
      return null;
  }
}

/** Inverse of a permutation. */
function invert(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** All weights of a model, by `layerName/weightName`. */
function modelWeights(model: tf.LayersModel): Map<string, tf.LayerVariable> {
  const out = new Map<string, tf.LayerVariable>();
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      out.set(`${layer.name}/${short}`, w);
    }
  }
  return out;
}

/** Checks that no two rows share a key or a target. */
function checkTable(table: readonly KeyTableEntry[]): void {
  const keys = new Set<string>();
  const targets = new Set<string>();
  for (const e of table) {
    if (keys.has(e.key)) throw new Error(`key table: key '${e.key}' appears twice`);
    const t = `${e.layer}/${e.weight}`;
    if (targets.has(t)) throw new Error(`key table: weight '${t}' is the target of two keys`);
    keys.add(e.key);
    targets.add(t);
  }
}

function toFloat32(key: string, t: NamedTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new Error(`state dict key '${key}': expected a floating-point tensor, got ${t.dtype}`);
}

/**
 * Assigns `stateDict` to `model`'s weights following `table`. Throws (before changing any
 * weight) when a table key is missing from the state dict, a state-dict key is not in the table
 * (and not ignored), a table row names a layer weight that does not exist, a model weight is
 * not covered by the table, or a shape differs; the message names the key(s) and both shapes.
 */
export function assignStateDict(
  model: tf.LayersModel,
  stateDict: TensorMap,
  table: readonly KeyTableEntry[],
  opts: AssignStateDictOptions = {},
): void {
  const ignore = opts.ignore ?? DEFAULT_IGNORE;
  checkTable(table);
  const weights = modelWeights(model);
  const problems: string[] = [];
  const tableKeys = new Set(table.map((e) => e.key));
  const covered = new Set(table.map((e) => `${e.layer}/${e.weight}`));

  const missing = table.filter((e) => !stateDict.has(e.key)).map((e) => e.key);
  if (missing.length) problems.push(`missing key${missing.length > 1 ? 's' : ''} in the state dict: ${list(missing)}`);
  const extra = [...stateDict.keys()].filter((k) => !tableKeys.has(k) && !ignore(k));
  if (extra.length) problems.push(`unexpected key${extra.length > 1 ? 's' : ''} in the state dict: ${list(extra)}`);
  const noTarget = table.filter((e) => !weights.has(`${e.layer}/${e.weight}`)).map((e) => `${e.key} -> ${e.layer}/${e.weight}`);
  if (noTarget.length) problems.push(`key table names model weights that do not exist: ${list(noTarget)}`);
  const uncovered = [...weights.keys()].filter((w) => !covered.has(w));
  if (uncovered.length) problems.push(`model weights not covered by the key table: ${list(uncovered)}`);

  const plan: { entry: KeyTableEntry; variable: tf.LayerVariable; source: NamedTensor }[] = [];
  for (const entry of table) {
    const source = stateDict.get(entry.key);
    const variable = weights.get(`${entry.layer}/${entry.weight}`);
    if (!source || !variable) continue;
    const expected = sourceShapeFor(entry.transform, variable.shape as number[]);
    if (source.shape.length !== expected.length || source.shape.some((d, i) => d !== expected[i])) {
      problems.push(
        `shape mismatch for '${entry.key}': the state dict has ${fmt(source.shape)}, ` +
          `the model's ${entry.layer}/${entry.weight} ${fmt(variable.shape as number[])} needs ${fmt(expected)}`,
      );
      continue;
    }
    if (source.dtype !== 'float32' && source.dtype !== 'float64') {
      problems.push(`'${entry.key}' has dtype ${source.dtype}, expected a float tensor`);
      continue;
    }
    plan.push({ entry, variable, source });
  }
  if (problems.length) throw new Error(`cannot load state dict: ${problems.join('; ')}`);

  for (const { entry, variable, source } of plan) {
    tf.tidy(() => {
      const t = tf.tensor(toFloat32(entry.key, source), source.shape, 'float32');
      const perm = permFor(entry.transform);
      variable.write(perm ? tf.transpose(t, perm) : t);
    });
  }
}

/** Options of {@link exportStateDict}. */
export interface ExportStateDictOptions {
  /** Entries appended after the table's (e.g. BN `num_batches_tracked` counters). */
  extra?: TensorMap;
}

/**
 * The inverse of {@link assignStateDict}: reads `model`'s weights into a state dict in the
 * source layout, keyed and ordered as `table`. Throws naming a table row whose weight is
 * absent from the model.
 */
export function exportStateDict(
  model: tf.LayersModel,
  table: readonly KeyTableEntry[],
  opts: ExportStateDictOptions = {},
): TensorMap {
  checkTable(table);
  const weights = modelWeights(model);
  const out: TensorMap = new Map();
  for (const entry of table) {
    const variable = weights.get(`${entry.layer}/${entry.weight}`);
    if (!variable) throw new Error(`exportStateDict: model has no weight ${entry.layer}/${entry.weight} (key '${entry.key}')`);
    const perm = permFor(entry.transform);
    const shape = sourceShapeFor(entry.transform, variable.shape as number[]);
    const data = tf.tidy(() => {
      const v = variable.read();
      return perm ? tf.transpose(v, invert(perm)) : v.clone();
    });
    const values = data.dataSync() as Float32Array;
    data.dispose();
    out.set(entry.key, { shape, dtype: 'float32', data: Float32Array.from(values) });
  }
  if (opts.extra) for (const [k, v] of opts.extra) out.set(k, v);
  return out;
}

function list(items: string[], max = 12): string {
  const shown = items.slice(0, max).map((s) => `'${s}'`).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
