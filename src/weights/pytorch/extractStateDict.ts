/**
 * From an unpickled torch object to a `TensorMap`: find the state dict (the object itself or
 * a dict nested in a checkpoint, e.g. `{model: sd}` / `{state_dict: sd}`), then materialise
 * each lazy tensor from its storage bytes, honouring storage offsets and strides.
 */
import { NamedTensor, TensorMap } from '../tensorMap';
import { PyDict } from './pickleValues';
import { decodeElements, EXPOSED_DTYPE, gatherStrided, numelOf, RAW_ELEMENT_SIZE } from './storageDtypes';
import { LazyTensor, StorageRef } from './torchPickle';

/** Options shared by the PyTorch readers. */
export interface ReadPytorchOptions {
  /**
   * Keep BatchNorm `num_batches_tracked` counters (int64 scalars). Skipped by default: no
   * inference weight needs them.
   */
  keepNumBatchesTracked?: boolean;
  /**
   * Top-level key of the state dict inside a checkpoint dict, when the file holds several
   * dicts of tensors (e.g. `model` and `ema`). Without it, a single candidate is taken.
   */
  key?: string;
}

function isTensorDict(v: unknown): boolean {
  if (!(v instanceof PyDict) || v.map.size === 0) return false;
  for (const x of v.map.values()) if (!(x instanceof LazyTensor)) return false;
  return true;
}

function keyList(d: PyDict): string {
  return d.keys().map((k) => `'${String(k)}'`).join(', ');
}

/** Pick the state dict inside the unpickled root object. */
export function findStateDict(root: unknown, opts: ReadPytorchOptions = {}): PyDict {
  if (!(root instanceof PyDict)) {
    const what = root instanceof LazyTensor ? 'a single tensor' : Array.isArray(root) ? 'a list/tuple' : typeof root;
    throw new Error(`.pth holds ${what}, not a state dict (a dict of tensors)`);
  }
  if (opts.key !== undefined) {
    const v = root.get(opts.key);
    if (v === undefined) throw new Error(`.pth has no top-level key '${opts.key}'; top-level keys: ${keyList(root)}`);
    if (!isTensorDict(v)) throw new Error(`.pth entry '${opts.key}' is not a dict of tensors`);
    return v as PyDict;
  }
  if (isTensorDict(root)) return root;
  const candidates = root.keys().filter((k) => isTensorDict(root.get(k)));
  if (candidates.length === 1) return root.get(candidates[0]) as PyDict;
  if (candidates.length === 0) {
    throw new Error(`.pth holds no state dict (no dict of tensors at the top level or one level down); top-level keys: ${keyList(root)}`);
  }
  throw new Error(
    `.pth holds several state dicts (${candidates.map((k) => `'${String(k)}'`).join(', ')}); ` +
      `pass {key} to choose one; top-level keys: ${keyList(root)}`,
  );
}

/**
 * Materialise a state dict's tensors. `storageBytes(ref)` returns the raw bytes of a root
 * storage (all of it).
 */
export function materialiseStateDict(
  sd: PyDict,
  storageBytes: (ref: StorageRef) => Uint8Array,
  opts: ReadPytorchOptions = {},
): TensorMap {
  const out: TensorMap = new Map();
  for (const [k, v] of sd.map) {
    const name = String(k);
    if (!opts.keepNumBatchesTracked && name.endsWith('num_batches_tracked')) continue;
    out.set(name, materialiseTensor(name, v as LazyTensor, storageBytes));
  }
  return out;
}

/** Materialise one lazy tensor from its storage bytes (offset, strides, dtype widening). */
export function materialiseTensor(name: string, t: LazyTensor, storageBytes: (ref: StorageRef) => Uint8Array): NamedTensor {
  const { storage, shape, stride } = t;
  const size = RAW_ELEMENT_SIZE[storage.dtype];
  if (shape.length !== stride.length) throw new Error(`tensor '${name}': size and stride ranks differ`);
  if (shape.some((d) => d < 0) || stride.some((s) => s < 0)) throw new Error(`tensor '${name}': negative size or stride`);
  const n = numelOf(shape);
  const dtype = EXPOSED_DTYPE[storage.dtype];
  if (n === 0) return { shape, dtype, data: decodeElements(new Uint8Array(0), 0, 0, storage.dtype) };
  const bytes = storageBytes(storage);
  const base = storage.view ? storage.view.offset : 0;
  const limit = storage.view ? storage.view.size : storage.numel;
  if (bytes.length < storage.numel * size) {
    throw new Error(
      `tensor '${name}': storage '${storage.key}' has ${bytes.length} bytes, expected ${storage.numel * size} ` +
        `(${storage.numel} x ${storage.dtype}); file truncated?`,
    );
  }
  let last = t.offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (last >= limit || t.offset < 0) {
    throw new Error(`tensor '${name}' (offset ${t.offset}, shape [${shape}], stride [${stride}]) runs past its storage of ${limit} elements`);
  }
  const span = decodeElements(bytes, (base + t.offset) * size, last - t.offset + 1, storage.dtype);
  return { shape: shape.slice(), dtype, data: gatherStrided(span, 0, shape, stride) };
}
