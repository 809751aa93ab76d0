/**
 * Read PyTorch weights (`.pth` / `.pt` written by `torch.save`) in plain TypeScript, with no
 * Python and no code execution: both the zip format (PyTorch >= 1.6) and the legacy pickle
 * format, tensors saved from any device, float16 widened to float32, int64 as BigInt64Array.
 * Browser-compatible and synchronous.
 */
import { TensorMap } from './tensorMap';
import { describePickled, PyDict } from './pytorch/pickleValues';
import { unpickle } from './pytorch/safeUnpickler';
import { isZip, readStoredZip, verifiedEntryData, ZipEntry } from './pytorch/storedZip';
import { assertFiniteWeights } from './checkFinite';
import { RAW_ELEMENT_SIZE } from './pytorch/storageDtypes';
import { LazyTensor, StorageRef, TorchUnpickleOptions, torchUnpickleHooks } from './pytorch/torchPickle';
import { findStateDict, materialiseStateDict, ReadPytorchOptions, tensorMaterialiser } from './pytorch/extractStateDict';
import { NamedTensor } from './tensorMap';
import { looksLikeSafetensors, readSafetensors } from './readSafetensors';

export type { ReadPytorchOptions } from './pytorch/extractStateDict';

/** The magic number the legacy format starts with. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

function toBytes(buffer: Uint8Array | ArrayBuffer): Uint8Array {
  return buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
}

/**
 * Read the state dict of a `torch.save` file into a `TensorMap` (insertion order = file order).
 *
 * - Zip format (`<archive>/data.pkl` + `<archive>/data/<key>`) and the legacy format.
 * - A checkpoint dict holding the state dict (`{model: sd, epoch: 3}`) gives the nested dict;
 *   several candidates need `opts.key`.
 * - Only the globals a state dict needs are accepted (OrderedDict, tensor/parameter rebuild,
 *   storage types); anything else fails with `unsupported pickle global 'module.name'`.
 * - `num_batches_tracked` entries are skipped unless `opts.keepNumBatchesTracked`.
 * - A `.safetensors` buffer is recognised and read with `readSafetensors`.
 * - Untrusted input is safe to read (see SECURITY.md): the zip CRC-32 of every entry read is
 *   checked (`skipChecksums`), NaN / Infinity weights are refused naming the tensor
 *   (`allowNonFinite`), and time and memory stay proportional to the file size: the pickle has
 *   a work, depth and integer-size budget (`pickleLimits`), a tensor holds at most as many
 *   elements as its storage (`allowExpandedViews`), all tensors together at most
 *   `maxOutputBytes`.
 *
 * @throws with a message naming the problem on truncated, compressed, malicious or non-PyTorch input.
 */
export function readPytorchStateDict(buffer: Uint8Array | ArrayBuffer, opts: ReadPytorchOptions = {}): TensorMap {
  const bytes = toBytes(buffer);
  if (bytes.length === 0) throw new Error('not a PyTorch file: the buffer is empty');
  if (isZip(bytes)) return assertFiniteWeights(readZipFormat(bytes, opts), '.pth', opts.allowNonFinite);
  // safetensors before legacy: its 8-byte length may start with 0x80; a legacy file's byte 8 is
  // inside the magic number and never '{'
  if (looksLikeSafetensors(bytes)) {
    const map = readSafetensors(bytes, { allowNonFinite: opts.allowNonFinite });
    if (!opts.keepNumBatchesTracked) for (const k of [...map.keys()]) if (k.endsWith('num_batches_tracked')) map.delete(k);
    return map;
  }
  if (bytes[0] === 0x80) return assertFiniteWeights(readLegacyFormat(bytes, opts), '.pth', opts.allowNonFinite);
  throw new Error('not a PyTorch file: neither a zip archive (torch.save >= 1.6), a legacy pickle, nor safetensors');
}

/** The unpickled root object of a `torch.save` file and access to its (checked) storages. */
interface OpenedTorchFile {
  value: unknown;
  storageBytes: (ref: StorageRef) => Uint8Array;
}

function readZipFormat(bytes: Uint8Array, opts: ReadPytorchOptions): TensorMap {
  const { value, storageBytes } = openZipFormat(bytes, opts, {});
  return materialiseStateDict(findStateDict(value, opts), storageBytes, opts, bytes.length);
}

function openZipFormat(bytes: Uint8Array, opts: ReadPytorchOptions, unpickleOpts: TorchUnpickleOptions): OpenedTorchFile {
  const entries = readStoredZip(bytes, '.pth zip archive');
  let pkl: ZipEntry | undefined;
  for (const e of entries.values()) {
    if (e.name === 'data.pkl' || e.name.endsWith('/data.pkl')) {
      if (!pkl || e.name.length < pkl.name.length) pkl = e;
    }
  }
  if (!pkl) {
    const names = [...entries.keys()];
    if (names.some((n) => n.endsWith('constants.pkl') || n.includes('/code/'))) {
      throw new Error('.pth is a TorchScript archive (torch.jit.save), not a state dict saved with torch.save');
    }
    throw new Error(`.pth zip archive has no data.pkl (entries: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`);
  }
  const label = '.pth zip archive';
  // every entry read is checked against its CRC-32 once (storages are shared by tensors)
  const verified = new Set<ZipEntry>();
  const read = (entry: ZipEntry): Uint8Array => {
    if (opts.skipChecksums || verified.has(entry)) return entry.data;
    verifiedEntryData(entry, label);
    verified.add(entry);
    return entry.data;
  };
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(read(order)).trim();
    if (text !== 'little') throw new Error(`.pth was saved on a big-endian machine (byteorder '${text.slice(0, 20)}'): not supported`);
  }
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(read(pkl), 0, torchUnpickleHooks(storages, unpickleOpts), opts.pickleLimits);
  return {
    value,
    storageBytes: (ref) => {
      const entry = entries.get(`${prefix}data/${ref.key}`);
      if (!entry) throw new Error(`.pth zip archive lacks storage '${prefix}data/${ref.key}' (file truncated or corrupt?)`);
      return read(entry);
    },
  };
}

function readLegacyFormat(bytes: Uint8Array, opts: ReadPytorchOptions): TensorMap {
  const { value, storageBytes } = openLegacyFormat(bytes, opts, {});
  return materialiseStateDict(findStateDict(value, opts), storageBytes, opts, bytes.length);
}

function openLegacyFormat(bytes: Uint8Array, opts: ReadPytorchOptions, unpickleOpts: TorchUnpickleOptions): OpenedTorchFile {
  const noGlobals = {
    resolveGlobal: () => undefined,
    call: () => {
      throw new Error('unexpected call in .pth header');
    },
  };
  let pos = 0;
  const limits = opts.pickleLimits;
  const magic = unpickle(bytes, pos, noGlobals, limits);
  const m = magic.value;
  if ((typeof m !== 'number' && typeof m !== 'bigint') || !Number.isInteger(Number(m)) || BigInt(m) !== LEGACY_MAGIC) {
    throw new Error('not a PyTorch file: pickle without the torch.save magic number');
  }
  const proto = unpickle(bytes, magic.end, noGlobals, limits);
  if (proto.value !== LEGACY_PROTOCOL) throw new Error(`unsupported legacy .pth protocol version ${String(proto.value)}`);
  const sysInfo = unpickle(bytes, proto.end, noGlobals, limits);
  if (sysInfo.value instanceof PyDict && sysInfo.value.get('little_endian') === false) {
    throw new Error('.pth was saved on a big-endian machine: not supported');
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, sysInfo.end, torchUnpickleHooks(storages, unpickleOpts), limits);
  const keysPickle = unpickle(bytes, main.end, noGlobals, limits);
  const keys = keysPickle.value;
  if (!Array.isArray(keys)) throw new Error('malformed legacy .pth: storage key list missing');
  pos = keysPickle.end;

  // Raw storages follow, in the key list's order: int64 element count, then the bytes.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = new Map<string, Uint8Array>();
  for (const k of keys) {
    if (typeof k !== 'string') throw new Error(`malformed legacy .pth: storage key ${describePickled(k, 0)} is not a string`);
    const key = k;
    const ref = storages.get(key);
    if (!ref) throw new Error(`malformed legacy .pth: storage '${key}' is listed but never referenced`);
    if (pos + 8 > bytes.length) throw new Error(`legacy .pth truncated: storage '${key}' header missing at byte ${pos} of ${bytes.length}`);
    const count = Number(dv.getBigInt64(pos, true));
    pos += 8;
    const nbytes = count * RAW_ELEMENT_SIZE[ref.dtype];
    if (count !== ref.numel) {
      throw new Error(`malformed legacy .pth: storage '${key}' holds ${count} elements, the pickle says ${ref.numel}`);
    }
    if (pos + nbytes > bytes.length) {
      throw new Error(`legacy .pth truncated: storage '${key}' needs ${nbytes} bytes at byte ${pos}, file has ${bytes.length}`);
    }
    raw.set(key, bytes.subarray(pos, pos + nbytes));
    pos += nbytes;
  }
  return {
    value: main.value,
    storageBytes: (ref) => {
      const data = raw.get(ref.key);
      if (!data) throw new Error(`malformed legacy .pth: no data for storage '${ref.key}'`);
      return data;
    },
  };
}

/** A whole `torch.save` object (not only a state dict): its root value and a tensor reader. */
export interface TorchObjectFile {
  /**
   * The unpickled root: `PyDict` for dicts, arrays for lists/tuples, `LazyTensor` for tensors,
   * `PyObject` records for instances of the allowed classes, JS primitives otherwise.
   */
  root: unknown;
  /** Read one tensor of the file (float16 widened to float32, int64 as BigInt64Array). */
  tensor(t: LazyTensor, name: string): NamedTensor;
}

/**
 * Read a `torch.save` file whose pickle holds objects (e.g. a whole pickled `nn.Module`, as
 * the yolov4-large training script saves), zip or legacy format, with the same safety as
 * {@link readPytorchStateDict} (pickle budgets, CRC checks, view checks): only the torch globals
 * and the classes `objectClass` accepts are allowed, and those become inert records.
 */
export function readTorchObjectFile(
  buffer: Uint8Array | ArrayBuffer,
  unpickleOpts: TorchUnpickleOptions,
  opts: ReadPytorchOptions = {},
): TorchObjectFile {
  const bytes = toBytes(buffer);
  if (bytes.length === 0) throw new Error('not a PyTorch file: the buffer is empty');
  let opened: OpenedTorchFile;
  if (isZip(bytes)) opened = openZipFormat(bytes, opts, unpickleOpts);
  else if (bytes[0] === 0x80) opened = openLegacyFormat(bytes, opts, unpickleOpts);
  else throw new Error('not a PyTorch file: neither a zip archive (torch.save >= 1.6) nor a legacy pickle');
  // all tensors together within the output budget (a storage may be referenced many times)
  const materialise = tensorMaterialiser(opened.storageBytes, opts, bytes.length);
  return { root: opened.value, tensor: (t, name) => materialise(name, t) };
}
