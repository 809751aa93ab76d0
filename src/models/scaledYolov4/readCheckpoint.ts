/**
 * A yolov4-large training checkpoint as data. Its train.py pickles the WHOLE model
 * (`{'model': ema.ema, ...}`, a `models.yolo.Model`, float16), not a state dict; the released
 * files are legacy-format pickles that name the activation `mc.build.lib.mish_mish.MishCuda`.
 * The pickle is read through the allow-listed unpickler: the module classes below become inert
 * records (nothing is imported or run) and this file walks them like `state_dict()` does, taking
 * the model dict (`Model.yaml`), every parameter and buffer, each BatchNorm's eps, the class
 * names and the Detect anchors.
 */
import { PyDict, PyObject } from '../../weights/pytorch/pickleValues';
import { LazyTensor } from '../../weights/pytorch/torchPickle';
import { ReadPytorchOptions, readTorchObjectFile, TorchObjectFile } from '../../weights/readPytorchStateDict';
import { NamedTensor, TensorMap } from '../../weights/tensorMap';
import { YAML_MODULES } from './modules';
import { ModelDict } from './planModel';

/** The Mish activation under the names checkpoints use. */
const MISH_CLASSES = new Set(['mish_cuda.MishCuda', 'mc.build.lib.mish_mish.MishCuda', 'models.common.Mish', 'torch.nn.modules.activation.Mish']);

/** torch.nn classes the models contain. */
const TORCH_MODULES = new Set([
  'torch.nn.modules.conv.Conv2d',
  'torch.nn.modules.batchnorm.BatchNorm2d',
  'torch.nn.modules.container.Sequential',
  'torch.nn.modules.container.ModuleList',
  'torch.nn.modules.pooling.MaxPool2d',
  'torch.nn.modules.upsampling.Upsample',
  'torch.nn.modules.linear.Identity',
]);

/** Every module class a supported checkpoint may hold. */
const KNOWN_MODULES = new Set([
  'models.yolo.Model',
  ...Object.values(YAML_MODULES).map((m) => m.className),
  ...TORCH_MODULES,
  ...MISH_CLASSES,
]);

/**
 * Which pickle globals become records: the model's own packages and torch.nn modules (any class
 * there, so that an unsupported one is reported by name below rather than as a bare pickle
 * error), the two Mish builds, and numpy's array reconstruction (`best_fitness`).
 */
function objectClass(module: string, name: string): boolean {
  if (module === 'models.common' || module === 'models.yolo' || module === 'models.experimental') return true;
  if (module.startsWith('torch.nn.modules.')) return true;
  if (MISH_CLASSES.has(`${module}.${name}`)) return true;
  if ((module === 'numpy.core.multiarray' || module === 'numpy._core.multiarray') && name === '_reconstruct') return true;
  return module === 'numpy' && (name === 'ndarray' || name === 'dtype');
}

/** What a checkpoint holds. */
export interface ScaledYoloCheckpoint {
  /** The model dict (`Model.yaml`). */
  dict: ModelDict;
  /** `state_dict()` of the model: parameters and buffers by module path (float32). */
  stateDict: TensorMap;
  /** BatchNorm eps by module path. */
  bnEpsilon: Map<string, number>;
  /** Layer class per index (`models.common.Conv`, ...). */
  layerClasses: string[];
  /** Class names (`Model.names`), when stored. */
  names?: string[];
  /** Detect anchors `[level][anchor] = [w, h]` input pixels (`anchor_grid`), authoritative over the dict (autoanchor may have changed them). */
  anchors?: [number, number][][];
  /** File name the model was built from (`Model.yaml_file`), when stored. */
  yamlFile?: string;
}

/** Python value -> plain JSON-like JS (dicts to objects, tuples/lists to arrays). */
function plain(v: unknown, depth = 0): unknown {
  if (depth > 32) throw new Error('checkpoint: model dict nested too deeply');
  if (v instanceof PyDict) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.map) o[String(k)] = plain(x, depth + 1);
    return o;
  }
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1));
  if (typeof v === 'bigint') return Number(v);
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  throw new Error(`checkpoint: unexpected ${v instanceof PyObject ? v.className : typeof v} inside the model dict`);
}

function dictOf(o: PyObject, attr: string, path: string): PyDict {
  const d = o.attr(attr);
  if (!(d instanceof PyDict)) throw new Error(`checkpoint: module '${path || 'model'}' (${o.className}) has no ${attr} dict`);
  return d;
}

/** Walk the module tree in `state_dict()` order: own parameters, own buffers, then children. */
function walkModules(
  file: TorchObjectFile,
  m: PyObject,
  path: string,
  out: ScaledYoloCheckpoint,
  budget: { modules: number },
): void {
  if (--budget.modules < 0) throw new Error('checkpoint: too many modules (more than 100000)');
  if (!KNOWN_MODULES.has(m.className)) {
    throw new Error(`checkpoint: unsupported module class '${m.className}' at '${path || 'model'}' (not a yolov4-large module)`);
  }
  const nonPersistent = m.attr('_non_persistent_buffers_set');
  const skip = new Set(Array.isArray(nonPersistent) ? nonPersistent.map(String) : []);
  for (const attr of ['_parameters', '_buffers']) {
    for (const [k, v] of dictOf(m, attr, path).map) {
      if (v === null || skip.has(String(k))) continue;
      const key = path ? `${path}.${String(k)}` : String(k);
      if (!(v instanceof LazyTensor)) throw new Error(`checkpoint: '${key}' is not a tensor`);
      if (key.endsWith('num_batches_tracked')) continue;
      out.stateDict.set(key, file.tensor(v, key));
    }
  }
  if (m.className === 'torch.nn.modules.batchnorm.BatchNorm2d') {
    const eps = m.attr('eps');
    if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new Error(`checkpoint: BatchNorm '${path}' has no valid eps`);
    out.bnEpsilon.set(path, eps);
  }
  for (const [k, child] of dictOf(m, '_modules', path).map) {
    if (child === null) continue;
    const p = path ? `${path}.${String(k)}` : String(k);
    if (!(child instanceof PyObject)) throw new Error(`checkpoint: submodule '${p}' is not a module record`);
    walkModules(file, child, p, out, budget);
  }
}

/** Find the pickled `models.yolo.Model` (the checkpoint's `model`, or the root itself). */
function findModel(root: unknown): PyObject {
  if (root instanceof PyObject && root.className === 'models.yolo.Model') return root;
  if (root instanceof PyDict) {
    for (const key of ['model', 'ema']) {
      const m = root.get(key);
      if (m instanceof PyObject && m.className === 'models.yolo.Model') return m;
    }
    const keys = root.keys().map((k) => `'${String(k)}'`).join(', ');
    const sd = root.get('model') instanceof PyDict || [...root.map.values()].some((v) => v instanceof LazyTensor);
    throw new Error(
      sd
        ? `not a yolov4-large checkpoint: it holds a state dict, not the pickled model (a cfg-defined Darknet? use loadPytorch('darknet', bytes, { cfg }))`
        : `not a yolov4-large checkpoint: no pickled models.yolo.Model under 'model' (top-level keys: ${keys})`,
    );
  }
  throw new Error('not a yolov4-large checkpoint: the file holds neither a checkpoint dict nor a models.yolo.Model');
}

function anchorsFromGrid(t: NamedTensor): [number, number][][] | undefined {
  // anchor_grid [nl, 1, na, 1, 1, 2]
  if (t.shape.length !== 6 || t.shape[5] !== 2 || !(t.data instanceof Float32Array)) return undefined;
  const [nl, , na] = t.shape;
  const out: [number, number][][] = [];
  for (let l = 0; l < nl; l++) {
    const level: [number, number][] = [];
    for (let a = 0; a < na; a++) level.push([t.data[(l * na + a) * 2], t.data[(l * na + a) * 2 + 1]]);
    out.push(level);
  }
  return out;
}

/** Read a yolov4-large `.pt` (zip or legacy format) into data. */
export function readScaledYoloCheckpoint(bytes: Uint8Array | ArrayBuffer, read: ReadPytorchOptions = {}): ScaledYoloCheckpoint {
  const file = readTorchObjectFile(bytes, { objectClass }, read);
  const model = findModel(file.root);
  const yaml = model.attr('yaml');
  if (!(yaml instanceof PyDict)) throw new Error('checkpoint: the pickled Model has no yaml model dict');
  const out: ScaledYoloCheckpoint = {
    dict: plain(yaml) as ModelDict,
    stateDict: new Map(),
    bnEpsilon: new Map(),
    layerClasses: [],
  };
  walkModules(file, model, '', out, { modules: 100000 });
  // `state_dict()` keys of Model are `model.<i>...`: the walk started at the Model itself.
  const seq = dictOf(model, '_modules', '').get('model');
  if (!(seq instanceof PyObject)) throw new Error('checkpoint: the Model has no layer Sequential');
  for (const [, layer] of dictOf(seq, '_modules', 'model').map) {
    out.layerClasses.push(layer instanceof PyObject ? layer.className : 'None');
  }
  const names = model.attr('names');
  if (Array.isArray(names) && names.every((n) => typeof n === 'string')) out.names = names as string[];
  const yamlFile = model.attr('yaml_file');
  if (typeof yamlFile === 'string') out.yamlFile = yamlFile;
  const gridKey = [...out.stateDict.keys()].find((k) => /^model\.\d+\.anchor_grid$/.test(k));
  if (gridKey) out.anchors = anchorsFromGrid(out.stateDict.get(gridKey)!);
  return out;
}
