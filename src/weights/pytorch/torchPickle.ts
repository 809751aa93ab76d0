/**
 * The torch-specific layer over the safe unpickler: the allow-list of globals a state dict
 * may use, the storage references persistent ids produce, and lazy tensors that are
 * materialised once the raw storage bytes are known.
 */
import { describePickled, PyDict, PyDtype, PyGlobal, PyObject } from './pickleValues';
import { UnpickleHooks, unsupportedGlobalError } from './safeUnpickler';
import { RawDtype, TORCH_DTYPE_OBJECTS, TORCH_STORAGE_DTYPES } from './storageDtypes';

/** A storage referenced from the pickle (its bytes live elsewhere in the file). */
export interface StorageRef {
  key: string;
  dtype: RawDtype;
  /** Element count as the persistent id states it. */
  numel: number;
  /** Device the tensor was saved from (`cpu`, `cuda:0`, ...). Ignored: data is read on the CPU. */
  location: string;
  /** Legacy views: element offset and size inside the root storage. */
  view?: { offset: number; size: number };
}

/** A tensor as the pickle describes it: a strided view of a storage. */
export class LazyTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** The globals a state dict or checkpoint may reference, and nothing else. */
const ALLOWED: Record<string, string[]> = {
  collections: ['OrderedDict'],
  'torch._utils': ['_rebuild_tensor_v2', '_rebuild_tensor', '_rebuild_parameter', '_rebuild_parameter_with_state'],
  'torch._tensor': ['_rebuild_from_type_v2'],
  'torch.nn.parameter': ['Parameter'],
  torch: [...Object.keys(TORCH_STORAGE_DTYPES), ...Object.keys(TORCH_DTYPE_OBJECTS), 'Tensor', 'Size'],
  _codecs: ['encode'],
  // protocol 2 writes Python 3's builtins under their Python 2 module name
  __builtin__: ['set'],
  builtins: ['set'],
};

/** Options of {@link torchUnpickleHooks}. */
export interface TorchUnpickleOptions {
  /**
   * Classes whose instances may appear in the pickle (e.g. the `nn.Module` classes of a whole
   * pickled model). They become inert {@link PyObject} records (class name, constructor
   * arguments, BUILD state); nothing of them is imported or run. Default: none.
   */
  objectClass?: (module: string, name: string) => boolean;
}

function asInt(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  // describePickled: the value may be a memo-shared structure with billions of leaves
  throw new Error(`malformed .pth: ${what} is not an integer (${describePickled(v)})`);
}

/** Torch tensors have at most 64 dimensions. */
const MAX_RANK = 64;

function asIntList(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`malformed .pth: ${what} is not a tuple (${describePickled(v)})`);
  if (v.length > MAX_RANK) throw new Error(`malformed .pth: ${what} has ${v.length} dimensions (torch allows ${MAX_RANK})`);
  return v.map((x, i) => asInt(x, `${what}[${i}]`));
}

function decodeAsciiish(v: unknown, what = 'persistent id field'): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  throw new Error(`malformed .pth: ${what} is not a string (${describePickled(v)})`);
}

/**
 * Hooks for one torch pickle. `storages` collects every storage referenced (key -> ref), so
 * the caller knows the dtype of each raw storage it must read.
 */
export function torchUnpickleHooks(storages: Map<string, StorageRef>, opts: TorchUnpickleOptions = {}): UnpickleHooks {
  const objectClasses = new Set<string>();
  return {
    resolveGlobal(module: string, name: string): unknown {
      const names = ALLOWED[module];
      if (!names || !names.includes(name)) {
        if (!opts.objectClass || !opts.objectClass(module, name)) return undefined;
        const g = new PyGlobal(module, name);
        objectClasses.add(g.qualifiedName);
        return g;
      }
      if (module === 'torch' && name in TORCH_DTYPE_OBJECTS) return new PyDtype(name);
      return new PyGlobal(module, name);
    },

    call: function call(fn: unknown, args: unknown[]): unknown {
      if (!(fn instanceof PyGlobal)) throw new Error('malformed .pth: call of a non-global object');
      const q = fn.qualifiedName;
      if (objectClasses.has(q)) return new PyObject(q, args);
      switch (q) {
        case 'collections.OrderedDict': {
          const d = new PyDict('OrderedDict');
          const items = args[0];
          if (Array.isArray(items)) {
            for (const kv of items) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
          }
          return d;
        }
        case 'torch._utils._rebuild_tensor_v2':
        case 'torch._utils._rebuild_tensor': {
          const [storage, offset, size, stride] = args;
          if (!isStorageRef(storage)) throw new Error('malformed .pth: _rebuild_tensor without a storage');
          return new LazyTensor(storage, asInt(offset, 'storage offset'), asIntList(size, 'size'), asIntList(stride, 'stride'));
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          if (!(args[0] instanceof LazyTensor)) throw new Error('malformed .pth: _rebuild_parameter without a tensor');
          return args[0];
        case 'torch._tensor._rebuild_from_type_v2': {
          const [inner, , innerArgs] = args;
          if (!Array.isArray(innerArgs)) throw new Error('malformed .pth: _rebuild_from_type_v2 arguments');
          return call(inner, innerArgs);
        }
        case 'torch.Size':
          return Array.isArray(args[0]) ? args[0].slice() : [];
        case 'torch.nn.parameter.Parameter':
          if (!(args[0] instanceof LazyTensor)) throw new Error('malformed .pth: Parameter without a tensor');
          return args[0];
        case '_codecs.encode': {
          // protocol-2 pickles encode `bytes` as _codecs.encode(latin1 text, 'latin1')
          if (typeof args[0] !== 'string') throw new Error(`malformed .pth: _codecs.encode of ${describePickled(args[0])}`);
          const s = args[0];
          const out = new Uint8Array(s.length);
          for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
          return out;
        }
        case '__builtin__.set':
        case 'builtins.set':
          return Array.isArray(args[0]) ? args[0].slice() : [];
        default:
          throw unsupportedGlobalError(fn.module, fn.name);
      }
    },

    persistentLoad(pid: unknown): unknown {
      // Legacy files reference each pickled nn.Module class once as ('module', class, file,
      // source); torch only compares the source. The class was resolved (allow-listed) already.
      if (Array.isArray(pid) && pid[0] === 'module' && pid[1] instanceof PyGlobal && objectClasses.has(pid[1].qualifiedName)) {
        return pid[1];
      }
      if (!Array.isArray(pid) || (typeof pid[0] !== 'string' && !(pid[0] instanceof Uint8Array)) || decodeAsciiish(pid[0], 'persistent id') !== 'storage') {
        throw new Error(`unsupported persistent id in .pth (${describePickled(pid)}): only tensor storages are allowed`);
      }
      const [, type, keyRaw, locationRaw, numelRaw, viewMeta] = pid;
      let dtype: RawDtype | undefined;
      if (type instanceof PyGlobal && type.module === 'torch') dtype = TORCH_STORAGE_DTYPES[type.name];
      else if (type instanceof PyDtype) dtype = TORCH_DTYPE_OBJECTS[type.name];
      if (!dtype) throw new Error(`unsupported storage type in .pth: ${describePickled(type)}`);
      const key = decodeAsciiish(keyRaw, 'storage key');
      const location = decodeAsciiish(locationRaw, 'storage location');
      const numel = asInt(numelRaw, 'storage size');
      if (numel < 0) throw new Error(`malformed .pth: storage '${key}' has a negative size ${numel}`);
      const prev = storages.get(key);
      if (prev && prev.dtype !== dtype) {
        throw new Error(`storage '${key}' is used with two element types (${prev.dtype}, ${dtype})`);
      }
      if (!prev) storages.set(key, { key, dtype, numel, location });
      const root = storages.get(key)!;
      if (Array.isArray(viewMeta)) {
        // legacy view: (view_key, offset, view_size), offsets in elements of the storage type
        return { ...root, view: { offset: asInt(viewMeta[1], 'view offset'), size: asInt(viewMeta[2], 'view size') } };
      }
      return root;
    },

    build(obj: unknown, state: unknown): unknown {
      // tensors may carry BUILD state (e.g. requires_grad hooks): ignored
      if (obj instanceof LazyTensor) return obj;
      if (obj instanceof PyObject) {
        obj.state = state;
        return obj;
      }
      throw new Error('malformed .pth: BUILD on an unsupported object');
    },
  };
}

function isStorageRef(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && 'key' in v && 'dtype' in v && 'numel' in v;
}
