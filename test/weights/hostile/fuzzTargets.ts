/**
 * Seeded fuzzing of the weight and cfg readers, shared by the quick suite test
 * (test/weights/fuzzLoaders.test.ts) and the long run (`npm run fuzz`, scripts/fuzz.ts).
 *
 * Each target turns (seed, case index) into one input — a mutation of a real small file or a
 * hand-made one — and runs the reader on it. The contract checked for every case: the reader
 * returns a valid result or throws a plain `Error` with a short message; never a TypeError /
 * RangeError / SyntaxError from deep inside, never a non-Error, never a huge message; and it
 * finishes quickly (the caller times it).
 */
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { readSafetensors } from '../../../src/weights/readSafetensors';
import { readDarknetWeights, darknetConvWeightsLayout } from '../../../src/weights/readDarknetWeights';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { darknetLayerShapes } from '../../../src/weights/darknetLayerShapes';
import { readStoredZip, writeStoredZip } from '../../../src/weights/pytorch/storedZip';
import { PickleWriter, torchZip, f32Bytes } from './pickleWriter';
import { cfgFile, dataFile, prng, TINY_CFG, tinyDarknetWeights } from './smallFiles';

type Rand = () => number;

/** One fuzz target: builds the input of case `i` and reads it. */
export interface FuzzTarget {
  name: string;
  /** The input of one case (bytes or cfg text), from a seeded random source. */
  make(rnd: Rand): Uint8Array | string;
  /** Run the reader; return normally or throw. */
  run(input: Uint8Array | string): unknown;
}

const int = (rnd: Rand, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: Rand, xs: readonly T[]): T => xs[int(rnd, xs.length)];

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x2e, 0x28, 0x71, 0x68, 0x8a, 0x8b, 0x7b, 0x7d];
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000];

/** Apply 1-4 random byte-level mutations (flip, set, insert, delete, duplicate, truncate, u32). */
export function mutateBytes(src: Uint8Array, rnd: Rand, focus?: [number, number]): Uint8Array {
  let b: Uint8Array = src.slice();
  const where = (): number => (focus && rnd() < 0.7 ? focus[0] + int(rnd, Math.max(1, focus[1] - focus[0])) : int(rnd, Math.max(1, b.length)));
  const n = 1 + int(rnd, 4);
  for (let k = 0; k < n; k++) {
    const at = Math.min(where(), Math.max(0, b.length - 1));
    switch (int(rnd, 8)) {
      case 0: if (b.length) b[at] ^= 1 << int(rnd, 8); break;
      case 1: if (b.length) b[at] = int(rnd, 256); break;
      case 2: if (b.length) b[at] = pick(rnd, INTERESTING_BYTES); break;
      case 3: { // insert random bytes
        const ins = Uint8Array.from({ length: 1 + int(rnd, 8) }, () => int(rnd, 256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 4: b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(rnd, 16)))); break;
      case 5: { // duplicate a range
        const len = 1 + int(rnd, 64);
        b = concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
        break;
      }
      case 6: b = b.subarray(0, at).slice(); break;
      default: if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, pick(rnd, INTERESTING_U32), rnd() < 0.5); break;
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

/** Lazily read seed files once per process. */
function once<T>(f: () => T): () => T {
  let v: T | undefined;
  return () => (v === undefined ? (v = f()) : v);
}

const zipSmall = once(() => dataFile('zip_small.pth'));
const zipEntries = once(() => [...readStoredZip(zipSmall()).values()].map((e) => ({ name: e.name, data: e.data.slice() })));
const legacyFiles = once(() => ['legacy_small.pth', 'checkpoint_legacy.pth', 'legacy_view.pth'].map(dataFile));
const safetensorsSmall = once(() => dataFile('small.safetensors'));
const darknetCfg = once(() => parseDarknetCfg(TINY_CFG));
const realCfgs = once(() => [TINY_CFG, cfgFile('yolov3.cfg'), cfgFile('yolov4.cfg')]);

const readAll = (input: Uint8Array | string): unknown => readPytorchStateDict(input as Uint8Array, { keepNumBatchesTracked: true });

/** A random pickle program: torch idioms, memo traffic and containers in random order. */
function randomPickle(rnd: Rand): Uint8Array {
  const w = new PickleWriter().proto(pick(rnd, [2, 2, 4, 5]));
  const steps = 1 + int(rnd, 60);
  let memo = 0;
  for (let s = 0; s < steps; s++) {
    switch (int(rnd, 18)) {
      case 0: w.emptyDict(); break;
      case 1: w.emptyList(); break;
      case 2: w.mark(); break;
      case 3: w.int(pick(rnd, [0, 1, 255, 65535, -1, 2 ** 31 - 1, int(rnd, 1000)])); break;
      case 4: w.str(pick(rnd, ['storage', 'cpu', '0', 'w', 'x'.repeat(int(rnd, 300))])); break;
      case 5: w.put(memo++); break;
      case 6: w.get(int(rnd, memo + 2)); break;
      case 7: w.raw(pick(rnd, [0x6c, 0x74, 0x64, 0x85, 0x86, 0x87, 0x29, 0x8f, 0x91])); break; // containers
      case 8: w.raw(pick(rnd, [0x61, 0x65, 0x73, 0x75, 0x90, 0x62])); break; // mutations, BUILD
      case 9: w.raw(pick(rnd, [0x30, 0x31, 0x32])); break; // POP, POP_MARK, DUP
      case 10: w.global(pick(rnd, ['torch._utils', 'collections', 'torch', 'builtins', '_codecs']), pick(rnd, ['_rebuild_tensor_v2', 'OrderedDict', 'FloatStorage', 'eval', 'encode', 'Size', 'float16'])); break;
      case 11: w.raw(0x52); break; // REDUCE
      case 12: w.raw(0x51); break; // BINPERSID
      case 13: w.tensor(String(int(rnd, 2)), int(rnd, 8), [int(rnd, 5), int(rnd, 5)], [int(rnd, 3), int(rnd, 3)], int(rnd, 4)); break;
      case 14: w.raw(0x8a, int(rnd, 40), ...Array.from({ length: int(rnd, 40) }, () => int(rnd, 256))); break; // LONG1
      case 15: w.raw(pick(rnd, [0x49, 0x4c, 0x46, 0x70, 0x67]), ...Buffer.from(`${pick(rnd, ['1', '-7', '00', 'x', '1e5', '99999999999999999999'])}\n`)); break;
      case 16: w.raw(int(rnd, 256)); break; // any opcode
      default: w.storage(String(int(rnd, 2)), int(rnd, 8)); break;
    }
  }
  if (rnd() < 0.8) w.stop();
  return w.bytes();
}

/**
 * A random torch state dict: a few tensors of random dtype, shape, stride and offset over
 * storages of random size (mostly consistent, sometimes not), shared storages and memo-shared
 * tensors, with an occasional random opcode spliced in.
 */
function randomStateDict(rnd: Rand): Uint8Array {
  const types = ['FloatStorage', 'HalfStorage', 'LongStorage', 'ByteStorage', 'DoubleStorage', 'BFloat16Storage'];
  const sizes: Record<string, number> = { FloatStorage: 4, HalfStorage: 2, LongStorage: 8, ByteStorage: 1, DoubleStorage: 8, BFloat16Storage: 2 };
  const nStorages = 1 + int(rnd, 3);
  const storages = Array.from({ length: nStorages }, () => ({ type: pick(rnd, types), numel: int(rnd, 40) }));
  const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce();
  const nTensors = 1 + int(rnd, 5);
  for (let t = 0; t < nTensors; t++) {
    w.str(`t${t}`);
    if (t > 0 && rnd() < 0.15) {
      w.get(int(rnd, t)); // a memo-shared tensor under a second name
    } else {
      const k = int(rnd, nStorages);
      const { type, numel } = storages[k];
      const rank = int(rnd, 4);
      const shape = Array.from({ length: rank }, () => int(rnd, 5));
      // contiguous strides usually, random ones sometimes
      const stride = shape.map((_, d) => (rnd() < 0.8 ? shape.slice(d + 1).reduce((a, b) => a * b, 1) : int(rnd, 7)));
      w.global('torch._utils', '_rebuild_tensor_v2').mark();
      w.mark().str('storage').global('torch', type).str(String(k)).str('cpu').int(numel).tuple().binpersid();
      w.int(rnd() < 0.8 ? 0 : int(rnd, 6)).intTuple(shape).intTuple(stride).bool(false);
      w.global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
      w.put(t);
    }
    w.setitem();
    if (rnd() < 0.05) w.raw(int(rnd, 256));
  }
  w.stop();
  const data: Record<string, Uint8Array> = {};
  storages.forEach((st, k) => {
    // the storage file usually holds exactly numel elements, sometimes fewer
    const n = rnd() < 0.9 ? st.numel : int(rnd, st.numel + 1);
    data[String(k)] = Uint8Array.from({ length: n * sizes[st.type] }, () => int(rnd, 256) & 0x3f);
  });
  return torchZip(w.bytes(), data);
}

/** Replace some values of a safetensors header with hostile ones, keeping it valid JSON. */
function mutateSafetensorsHeader(src: Uint8Array, rnd: Rand): Uint8Array {
  const n = Number(new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(src.subarray(8, 8 + n)).toString('utf8')) as Record<string, Record<string, unknown>>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  // fresh values every time (a shared array inserted into itself would make a cycle)
  const hostileValues = (): unknown[] => [-4, 0, 1.5, '8', null, [], [0], [0, 0, 0], 1e300, 2 ** 53 + 2, -1, { a: 1 }, 'F32', 'F64', 'X', [2 ** 31, 2 ** 31]];
  for (let k = 0; k < 1 + int(rnd, 3); k++) {
    const t = header[pick(rnd, names)];
    const field = pick(rnd, ['dtype', 'shape', 'data_offsets', 'data_offsets', 'extra']);
    if (field === 'data_offsets' && Array.isArray(t.data_offsets) && rnd() < 0.5) {
      (t.data_offsets as unknown[])[int(rnd, 2)] = pick(rnd, hostileValues());
    } else if (field === 'shape' && Array.isArray(t.shape) && t.shape.length && rnd() < 0.5) {
      (t.shape as unknown[])[int(rnd, t.shape.length)] = pick(rnd, [0, 1, -1, 2 ** 32, 1.5, 'a', 1e9]);
    } else {
      t[field] = pick(rnd, hostileValues());
    }
  }
  if (rnd() < 0.2) (header as Record<string, unknown>).__metadata__ = pick(rnd, [{ a: 1 }, 'x', [], { a: 'b' }]);
  const h = Buffer.from(JSON.stringify(header));
  const data = src.subarray(8 + n);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const NUMBERS = ['0', '-1', '1', '2', '3', '1.5', '1e9', '2147483648', '99999999999', 'NaN', '', 'x', '-2147483648', '65536', '1000000'];

/** Line-level mutations of a cfg text: hostile numbers, dropped / duplicated lines, char flips. */
function mutateCfg(src: string, rnd: Rand): string {
  const lines = src.split('\n');
  for (let k = 0; k < 1 + int(rnd, 5); k++) {
    const i = int(rnd, lines.length);
    switch (int(rnd, 6)) {
      case 0:
      case 1: {
        const m = /^([a-z_]+)\s*=/.exec(lines[i]);
        if (m) lines[i] = `${m[1]}=${rnd() < 0.3 ? `${pick(rnd, NUMBERS)},${pick(rnd, NUMBERS)}` : pick(rnd, NUMBERS)}`;
        break;
      }
      case 2: lines.splice(i, 1); break;
      case 3: lines.splice(i, 0, ...lines.slice(i, i + 1 + int(rnd, 12))); break;
      case 4: lines.splice(i, 0, pick(rnd, ['[convolutional]', '[route]', '[shortcut]', '[yolo]', '[upsample]', '[maxpool]', 'layers=-100', 'from=-3', 'mask=0,1,2,99', 'groups=0', 'size=0'])); break;
      default: {
        const s = lines[i];
        if (s.length) {
          const j = int(rnd, s.length);
          lines[i] = s.slice(0, j) + String.fromCharCode(int(rnd, 128)) + s.slice(j + 1);
        }
      }
    }
  }
  return lines.join('\n');
}

export const FUZZ_TARGETS: FuzzTarget[] = [
  {
    name: 'unpickler (mutated data.pkl of zip_small.pth, valid CRC)',
    make: (rnd) => {
      const entries = zipEntries().map((e) => (e.name.endsWith('data.pkl') ? { ...e, data: mutateBytes(e.data, rnd) } : e));
      return writeStoredZip(entries);
    },
    run: readAll,
  },
  {
    name: 'unpickler (random pickle programs)',
    make: (rnd) => torchZip(randomPickle(rnd), { '0': f32Bytes(Array.from({ length: 8 }, (_, i) => i)), '1': new Uint8Array(16) }),
    run: readAll,
  },
  {
    name: 'unpickler (random torch state dicts: dtypes, strides, offsets, shared storages)',
    make: randomStateDict,
    run: readAll,
  },
  {
    name: 'unpickler (mutated legacy .pth files, no checksum)',
    make: (rnd) => mutateBytes(pick(rnd, legacyFiles()), rnd),
    run: readAll,
  },
  {
    name: 'zip reader (mutated zip_small.pth, headers favoured)',
    make: (rnd) => {
      const z = zipSmall();
      // most mutations in the local headers at the start and the central directory at the end
      const focus: [number, number] = rnd() < 0.5 ? [0, 200] : [z.length - 600, z.length];
      return mutateBytes(z, rnd, focus);
    },
    run: readAll,
  },
  {
    name: 'safetensors reader (mutated bytes and hostile header values)',
    make: (rnd) => (rnd() < 0.5 ? mutateBytes(safetensorsSmall(), rnd, [0, 400]) : mutateSafetensorsHeader(safetensorsSmall(), rnd)),
    run: (input) => readSafetensors(input as Uint8Array),
  },
  {
    name: 'Darknet weights reader (mutated tiny .weights)',
    make: (rnd) => mutateBytes(tinyDarknetWeights(), rnd, [0, 24]),
    run: (input) => readDarknetWeights(input as Uint8Array, darknetCfg()),
  },
  {
    name: 'cfg parser (mutated tiny, yolov3 and yolov4 cfgs)',
    make: (rnd) => mutateCfg(pick(rnd, realCfgs()), rnd),
    run: (input) => {
      const cfg = parseDarknetCfg(input as string);
      darknetLayerShapes(cfg);
      return darknetConvWeightsLayout(cfg);
    },
  },
];

/** What one case did. */
export interface FuzzOutcome {
  kind: 'ok' | 'error' | 'crash';
  ms: number;
  /** For crashes: the class and message; for errors: the message length. */
  detail?: string;
  messageLength?: number;
}

/** Longest error message accepted (a bounded summary, never the whole input). */
export const MAX_MESSAGE = 1000;

/** A valid result's tensors hold exactly as many elements as their shapes say; else which does not. */
function invalidTensor(result: unknown): string | null {
  const map = result instanceof Map ? result : (result as { tensors?: unknown })?.tensors;
  if (!(map instanceof Map)) return null;
  for (const [name, t] of map as Map<string, { shape: number[]; data: ArrayLike<unknown> }>) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.data.length !== n) {
      return `tensor '${name}' has ${t.data.length} elements for shape [${t.shape}]`;
    }
  }
  return null;
}

/** Run case `index` of `target` under `seed`. */
export function runFuzzCase(target: FuzzTarget, seed: number, index: number): { input: Uint8Array | string; outcome: FuzzOutcome } {
  const rnd = prng((seed * 1_000_003 + index) >>> 0);
  const input = target.make(rnd);
  const t0 = Date.now();
  try {
    const bad = invalidTensor(target.run(input));
    if (bad) return { input, outcome: { kind: 'crash', ms: Date.now() - t0, detail: `invalid result: ${bad}` } };
    return { input, outcome: { kind: 'ok', ms: Date.now() - t0 } };
  } catch (e) {
    const ms = Date.now() - t0;
    if (!(e instanceof Error) || e.constructor !== Error) {
      const name = e instanceof Error ? e.constructor.name : typeof e;
      return { input, outcome: { kind: 'crash', ms, detail: `${name}: ${String((e as Error)?.message ?? e).slice(0, 300)}\n${(e as Error)?.stack?.split('\n').slice(1, 4).join('\n') ?? ''}` } };
    }
    if (e.message.length > MAX_MESSAGE || e.message.length === 0) {
      return { input, outcome: { kind: 'crash', ms, detail: `message of ${e.message.length} chars: ${e.message.slice(0, 200)}` } };
    }
    return { input, outcome: { kind: 'error', ms, messageLength: e.message.length } };
  }
}
