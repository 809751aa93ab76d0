/**
 * Reader for Darknet `.weights` files.
 *
 * Layout (AlexeyAB `load_weights_upto`): int32 major, minor, revision; then `seen` (images seen
 * in training) as uint64 when major*10+minor >= 2, else uint32; then, for every
 * `[convolutional]` layer in cfg order: biases[n]; if batch_normalize: scales[n],
 * rolling_mean[n], rolling_variance[n]; then weights[n * (c/groups) * k * k] in OIHW order.
 * All little-endian float32. No other layer type this loader supports stores weights.
 *
 * Tensors are named `layer<index>/<part>` with the Darknet layer index (`[net]` excluded) and
 * the Darknet part names: `biases` (the BN beta when batch_normalize), `scales` (gamma),
 * `rolling_mean`, `rolling_variance`, `weights`. `weights` is transposed to tfjs layout:
 * HWIO `[k, k, c/groups, n]`, or `[k, k, c, n/c]` (tfjs depthwise kernel, channel multiplier
 * last) when groups == input channels.
 */
import { DarknetCfg, DarknetConvSection, describeLayer } from './parseDarknetCfg';
import { darknetLayerShapes } from './darknetLayerShapes';
import { TensorMap } from './tensorMap';
import { assertFiniteWeights } from './checkFinite';

/** Options of {@link readDarknetWeights}. */
export interface ReadDarknetWeightsOptions {
  /** Load weights holding NaN or +-Infinity (refused by default, naming the tensor). */
  allowNonFinite?: boolean;
}

/** The `.weights` header. */
export interface DarknetWeightsHeader {
  major: number;
  minor: number;
  revision: number;
  /** Training images seen (uint64 in files >= 0.2, read as a JS number). */
  seen: number;
}

/** Result of {@link readDarknetWeights}. */
export interface DarknetWeights {
  header: DarknetWeightsHeader;
  tensors: TensorMap;
}

/** Parts stored per conv layer, in file order. */
export type DarknetConvPart = 'biases' | 'scales' | 'rolling_mean' | 'rolling_variance' | 'weights';

/** Name of a tensor in the map: `layer<index>/<part>`. */
export function darknetTensorName(layerIndex: number, part: DarknetConvPart): string {
  return `layer${layerIndex}/${part}`;
}

/** What one conv layer stores in the file. */
export interface DarknetConvWeightsInfo {
  layer: DarknetConvSection;
  /** Input channels. */
  inChannels: number;
  /** Floats of biases (+ BN scales, means, variances). */
  perChannelFloats: number;
  /** Floats of the kernel: n * (c/groups) * k * k. */
  kernelFloats: number;
  /** tfjs kernel shape (HWIO, or depthwise `[k, k, c, n/c]`). */
  kernelShape: number[];
  depthwise: boolean;
}

/**
 * The conv layers of a cfg and how many floats each stores, in file order (Darknet's own
 * count: n*(bn ? 4 : 1) + n*(c/groups)*k*k).
 */
export function darknetConvWeightsLayout(cfg: DarknetCfg): DarknetConvWeightsInfo[] {
  const shapes = darknetLayerShapes(cfg);
  const infos: DarknetConvWeightsInfo[] = [];
  for (const l of cfg.layers) {
    if (l.type !== 'convolutional') continue;
    const c = l.index === 0 ? shapes.input.c : shapes.layers[l.index - 1].c;
    const cg = c / l.groups;
    const depthwise = l.groups > 1 && l.groups === c;
    infos.push({
      layer: l,
      inChannels: c,
      perChannelFloats: l.filters * (l.batchNormalize ? 4 : 1),
      kernelFloats: l.filters * cg * l.size * l.size,
      kernelShape: depthwise ? [l.size, l.size, c, l.filters / c] : [l.size, l.size, cg, l.filters],
      depthwise,
    });
  }
  return infos;
}

/** Total floats the cfg's weights file holds after the header. */
export function darknetWeightsFloatCount(cfg: DarknetCfg): number {
  return darknetConvWeightsLayout(cfg).reduce((s, i) => s + i.perChannelFloats + i.kernelFloats, 0);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function toBytes(buffer: Uint8Array | ArrayBuffer): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  throw new Error(`Darknet weights: expected a Uint8Array, Buffer or ArrayBuffer, got ${Object.prototype.toString.call(buffer)}`);
}

/** Little-endian float32 array from `count` floats at byte `offset`. */
function readFloats(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const start = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * count));
  } else {
    const dv = new DataView(bytes.buffer, start, 4 * count);
    for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
  }
  return out;
}

/** OIHW (Darknet) -> HWIO (tfjs). Also gives the depthwise `[k,k,c,m]` layout (same memory). */
function oihwToHwio(w: Float32Array, o: number, i: number, k: number): Float32Array {
  const out = new Float32Array(w.length);
  const kk = k * k;
  for (let oo = 0; oo < o; oo++) {
    for (let ii = 0; ii < i; ii++) {
      const src = (oo * i + ii) * kk;
      for (let p = 0; p < kk; p++) out[(p * i + ii) * o + oo] = w[src + p];
    }
  }
  return out;
}

/** Parse the header; returns it and its byte length. */
export function readDarknetWeightsHeader(bytes: Uint8Array): { header: DarknetWeightsHeader; bytes: number } {
  if (bytes.byteLength < 16) {
    throw new Error(`Darknet weights: the file has ${bytes.byteLength} bytes, too short for the header (16 or 20 bytes)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = dv.getInt32(0, true);
  const minor = dv.getInt32(4, true);
  const revision = dv.getInt32(8, true);
  if (major < 0 || minor < 0 || major >= 1000 || minor >= 1000) {
    throw new Error(
      `Darknet weights: header version ${major}.${minor}.${revision} is not supported ` +
        '(not a Darknet .weights file, or the legacy transposed format)',
    );
  }
  // AlexeyAB load_weights_upto: uint64 seen when major*10+minor >= 2 (0.2 and later).
  if (major * 10 + minor >= 2) {
    if (bytes.byteLength < 20) {
      throw new Error(`Darknet weights: the file has ${bytes.byteLength} bytes, too short for a version ${major}.${minor} header (20 bytes)`);
    }
    return { header: { major, minor, revision, seen: Number(dv.getBigUint64(12, true)) }, bytes: 20 };
  }
  return { header: { major, minor, revision, seen: dv.getUint32(12, true) }, bytes: 16 };
}

/**
 * Read a Darknet `.weights` file for a parsed cfg. The byte count must match the cfg exactly:
 * a short file names the first layer that did not fit (index, type, floats needed and left);
 * a long file reports the expected and actual total sizes. A weights file for another class
 * count fails here too (its head convs have a different size). NaN / Infinity values are an
 * error naming the tensor unless `opts.allowNonFinite` (the format has no checksum).
 */
export function readDarknetWeights(buffer: Uint8Array | ArrayBuffer, cfg: DarknetCfg, opts: ReadDarknetWeightsOptions = {}): DarknetWeights {
  const bytes = toBytes(buffer);
  const { header, bytes: headerBytes } = readDarknetWeightsHeader(bytes);
  const layout = darknetConvWeightsLayout(cfg);
  const totalFloats = layout.reduce((s, i) => s + i.perChannelFloats + i.kernelFloats, 0);
  const expectedBytes = headerBytes + 4 * totalFloats;
  const tensors: TensorMap = new Map();
  let offset = headerBytes;
  for (const info of layout) {
    const l = info.layer;
    const need = info.perChannelFloats + info.kernelFloats;
    const left = Math.floor((bytes.byteLength - offset) / 4);
    if (need > left) {
      throw new Error(
        `Darknet weights: ${describeLayer(l)} needs ${need} floats ` +
          `(${l.filters} filters${l.batchNormalize ? ' x4 batch-norm' : ' biases'} + ${info.kernelFloats} kernel) ` +
          `but only ${left} are left in the file (${bytes.byteLength} bytes; the cfg needs ${expectedBytes}). ` +
          'Does the weights file belong to this cfg (same classes and filters)?',
      );
    }
    const n = l.filters;
    const put = (part: DarknetConvPart, shape: number[], data: Float32Array) =>
      tensors.set(darknetTensorName(l.index, part), { shape, dtype: 'float32', data });
    put('biases', [n], readFloats(bytes, offset, n));
    offset += 4 * n;
    if (l.batchNormalize) {
      for (const part of ['scales', 'rolling_mean', 'rolling_variance'] as const) {
        put(part, [n], readFloats(bytes, offset, n));
        offset += 4 * n;
      }
    }
    const raw = readFloats(bytes, offset, info.kernelFloats);
    offset += 4 * info.kernelFloats;
    put('weights', info.kernelShape, oihwToHwio(raw, n, info.inChannels / l.groups, l.size));
  }
  if (offset !== bytes.byteLength) {
    throw new Error(
      `Darknet weights: the cfg needs ${expectedBytes} bytes (${headerBytes}-byte header + ${totalFloats} floats for ` +
        `${layout.length} conv layers) but the file has ${bytes.byteLength} bytes ` +
        `(${bytes.byteLength - expectedBytes} extra). Does the weights file belong to this cfg?`,
    );
  }
  return { header, tensors: assertFiniteWeights(tensors, 'Darknet weights', opts.allowNonFinite) };
}
