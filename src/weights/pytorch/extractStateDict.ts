/**
 * From an unpickled torch object to a `TensorMap`: find the state dict (the object itself or
 * a dict nested in a checkpoint, e.g. `{model: sd}` / `{state_dict: sd}`), then materialise
 * each lazy tensor from its storage bytes, honouring storage offsets and strides.
 *
 * Materialisation is where a few bytes of pickle can ask for gigabytes (a stride-0 view of one
 * element with a 2^32-element shape; one memo-shared tensor under thousands of names), so it
 * is budgeted: a tensor holds at most as many elements as its storage, and all tensors together
 * at most `maxOutputBytes`, unless the caller raises these limits.
 */
import { NamedTensor, NamedTensorDtype, TensorMap } from '../tensorMap';
import { describePickled, PyDict } from './pickleValues';
import { UnpickleLimits } from './safeUnpickler';
import { allocateFor, decodeElements, EXPOSED_DTYPE, gatherStrided, RAW_ELEMENT_SIZE } from './storageDtypes';
import { LazyTensor, StorageRef } from './torchPickle';

/** Bytes per element of each exposed dtype (what materialising costs). */
const EXPOSED_ELEMENT_SIZE: Record<NamedTensorDtype, number> = {
  float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, bool: 1,
};

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
  /**
   * Allow a tensor with more elements than its storage holds (a stride-0 / broadcast view,
   * e.g. `torch.ones(1).expand(1000)`). Refused by default: such a view of one element can
   * claim gigabytes. The total still counts against `maxOutputBytes`.
   */
  allowExpandedViews?: boolean;
  /**
   * Most bytes all materialised tensors may take together. Default: 8 x the file size + 64 MiB
   * (float16 widening doubles the bytes, int8 quadruples them, tied weights repeat them).
   */
  maxOutputBytes?: number;
  /** Load weights holding NaN or +-Infinity (refused by default, naming the tensor). */
  allowNonFinite?: boolean;
  /** Skip the zip CRC-32 check of each entry read (on by default: corruption is an error). */
  skipChecksums?: boolean;
  /** Budgets of the pickle reader (nesting depth, integer size, work per byte). */
  pickleLimits?: UnpickleLimits;
}

/** The default output budget for an input of `inputBytes`. */
export function defaultMaxOutputBytes(inputBytes: number): number {
  return 8 * inputBytes + 64 * 1024 * 1024;
}

/** A dict all of whose values are tensors; results are cached per dict (memo-shared dicts). */
function tensorDictTest(): (v: unknown) => boolean {
  const seen = new Map<PyDict, boolean>();
  return (v) => {
    if (!(v instanceof PyDict) || v.map.size === 0) return false;
    let r = seen.get(v);
    if (r === undefined) {
      r = true;
      for (const x of v.map.values()) {
        if (!(x instanceof LazyTensor)) {
          r = false;
          break;
        }
      }
      seen.set(v, r);
    }
    return r;
  };
}

/** At most 20 keys, each described in bounded length. */
function keyList(d: PyDict): string {
  const keys: string[] = [];
  for (const k of d.map.keys()) {
    if (keys.length === 20) {
      keys.push(`... (${d.map.size} keys)`);
      break;
    }
    keys.push(typeof k === 'string' ? `'${k.length > 60 ? `${k.slice(0, 60)}...` : k}'` : describePickled(k, 0));
  }
  return keys.join(', ');
}

/** Pick the state dict inside the unpickled root object. */
export function findStateDict(root: unknown, opts: ReadPytorchOptions = {}): PyDict {
  if (!(root instanceof PyDict)) {
    const what = root instanceof LazyTensor ? 'a single tensor' : Array.isArray(root) ? 'a list/tuple' : typeof root;
    throw new Error(`.pth holds ${what}, not a state dict (a dict of tensors)`);
  }
  const isTensorDict = tensorDictTest();
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
    `.pth holds several state dicts (${candidates.slice(0, 20).map((k) => describePickled(k, 0)).join(', ')}); ` +
      `pass {key} to choose one; top-level keys: ${keyList(root)}`,
  );
}

/**
 * A function that materialises tensors one by one against one output budget: each tensor at
 * most as many elements as its storage (unless `opts.allowExpandedViews`), all of them together
 * at most `opts.maxOutputBytes` (default from `inputBytes`, the file size). For any reader of
 * torch files (state dicts, pickled module trees): memo-shared tensors count each time.
 */
export function tensorMaterialiser(
  storageBytes: (ref: StorageRef) => Uint8Array,
  opts: ReadPytorchOptions = {},
  inputBytes = 0,
): (name: string, t: LazyTensor) => NamedTensor {
  const budget = opts.maxOutputBytes ?? defaultMaxOutputBytes(inputBytes);
  let used = 0;
  return (name, t) => {
    const n = checkedNumel(name, t, opts);
    used += n * EXPOSED_ELEMENT_SIZE[EXPOSED_DTYPE[t.storage.dtype]];
    if (used > budget) {
      throw new Error(
        `.pth tensors need more than ${budget} bytes once materialised (at '${name}'; output budget ` +
          `${opts.maxOutputBytes === undefined ? `8 x the ${inputBytes}-byte file + 64 MiB` : 'maxOutputBytes'}): ` +
          'memo-shared or overlapping tensors? pass {maxOutputBytes} to raise it',
      );
    }
    return gatherTensor(name, t, n, storageBytes);
  };
}

/**
 * Materialise a state dict's tensors. `storageBytes(ref)` returns the raw bytes of a root
 * storage (all of it). `inputBytes` (the file size) sets the default output budget.
 */
export function materialiseStateDict(
  sd: PyDict,
  storageBytes: (ref: StorageRef) => Uint8Array,
  opts: ReadPytorchOptions = {},
  inputBytes = 0,
): TensorMap {
  const out: TensorMap = new Map();
  const materialise = tensorMaterialiser(storageBytes, opts, inputBytes);
  for (const [k, v] of sd.map) {
    if (typeof k !== 'string') throw new Error(`malformed .pth: state dict key ${describePickled(k, 0)} is not a string`);
    if (!opts.keepNumBatchesTracked && k.endsWith('num_batches_tracked')) continue;
    out.set(k, materialise(k, v as LazyTensor));
  }
  return out;
}

/**
 * Materialise one lazy tensor (offset, strides, dtype widening), at most as many elements as
 * its storage unless `opts.allowExpandedViews`. No total budget: use {@link tensorMaterialiser}
 * for many tensors of one file.
 */
export function materialiseTensor(
  name: string,
  t: LazyTensor,
  storageBytes: (ref: StorageRef) => Uint8Array,
  opts: ReadPytorchOptions = {},
): NamedTensor {
  return gatherTensor(name, t, checkedNumel(name, t, opts), storageBytes);
}

/** Element count of a lazy tensor, checked against its storage before anything is allocated. */
function checkedNumel(name: string, t: LazyTensor, opts: ReadPytorchOptions): number {
  const { storage, shape, stride } = t;
  if (shape.length !== stride.length) throw new Error(`tensor '${name}': size and stride ranks differ`);
  if (shape.some((d) => d < 0) || stride.some((s) => s < 0)) throw new Error(`tensor '${name}': negative size or stride`);
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw new Error(`tensor '${name}': shape [${shape}] has too many elements`);
  if (n === 0) return 0;
  const limit = storage.view ? storage.view.size : storage.numel;
  let last = t.offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (last >= limit || t.offset < 0) {
    throw new Error(`tensor '${name}' (offset ${t.offset}, shape [${shape}], stride [${stride}]) runs past its storage of ${limit} elements`);
  }
  if (n > limit && !opts.allowExpandedViews) {
    throw new Error(
      `tensor '${name}' (shape [${shape}], stride [${stride}]) has ${n} elements but its storage of ` +
        `${limit} element${limit === 1 ? '' : 's'} holds fewer (a stride-0 or overlapping view); ` +
        'pass {allowExpandedViews: true} to materialise it',
    );
  }
  return n;
}

function gatherTensor(name: string, t: LazyTensor, n: number, storageBytes: (ref: StorageRef) => Uint8Array): NamedTensor {
  const { storage, shape, stride } = t;
  const size = RAW_ELEMENT_SIZE[storage.dtype];
  const dtype = EXPOSED_DTYPE[storage.dtype];
  if (n === 0) return { shape: shape.slice(), dtype, data: allocateFor(storage.dtype, 0) };
  const bytes = storageBytes(storage);
  const base = storage.view ? storage.view.offset : 0;
  if (bytes.length < storage.numel * size) {
    throw new Error(
      `tensor '${name}': storage '${storage.key}' has ${bytes.length} bytes, expected ${storage.numel * size} ` +
        `(${storage.numel} x ${storage.dtype}); file truncated?`,
    );
  }
  let last = t.offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  const span = decodeElements(bytes, (base + t.offset) * size, last - t.offset + 1, storage.dtype);
  return { shape: shape.slice(), dtype, data: gatherStrided(span, 0, shape, stride) };
}
