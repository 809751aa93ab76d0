/**
 * Writer for Darknet `.weights` files, the inverse of `readDarknetWeights`: the 20-byte header
 * (version 0.2.x with a uint64 `seen`), then per `[convolutional]` in cfg order biases,
 * (scales, rolling_mean, rolling_variance when batch_normalize), weights in OIHW order. Darknet
 * itself and `loadDarknet` read the result.
 */
import { DarknetCfg } from './parseDarknetCfg';
import { DarknetConvPart, darknetConvWeightsLayout, darknetTensorName } from './readDarknetWeights';
import { TensorMap } from './tensorMap';

/** Options of {@link writeDarknetWeights}. */
export interface WriteDarknetWeightsOptions {
  /** Training images seen, stored in the header (default 0). */
  seen?: number;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** HWIO (tfjs, or the depthwise `[k, k, c, m]` layout with the same memory order) -> OIHW. */
function hwioToOihw(w: Float32Array, o: number, i: number, k: number): Float32Array {
  const out = new Float32Array(w.length);
  const kk = k * k;
  for (let oo = 0; oo < o; oo++) {
    for (let ii = 0; ii < i; ii++) {
      const dst = (oo * i + ii) * kk;
      for (let p = 0; p < kk; p++) out[dst + p] = w[(p * i + ii) * o + oo];
    }
  }
  return out;
}

/**
 * Serialise `tensors` (named `layer<i>/<part>` as `readDarknetWeights` names them, tfjs kernel
 * layout) for `cfg`. Every tensor's shape is checked against the cfg; the first mismatch is
 * reported by name.
 */
export function writeDarknetWeights(cfg: DarknetCfg, tensors: TensorMap, opts: WriteDarknetWeightsOptions = {}): Uint8Array {
  const layout = darknetConvWeightsLayout(cfg);
  const floats = layout.reduce((s, i) => s + i.perChannelFloats + i.kernelFloats, 0);
  const bytes = new Uint8Array(20 + 4 * floats);
  const dv = new DataView(bytes.buffer);
  dv.setInt32(0, 0, true);
  dv.setInt32(4, 2, true);
  dv.setInt32(8, 0, true);
  dv.setBigUint64(12, BigInt(Math.max(0, Math.floor(opts.seen ?? 0))), true);
  let offset = 20;
  // The body starts at byte 20, so a Float32Array view is aligned; big-endian hosts swap bytes.
  const body = LITTLE_ENDIAN_HOST ? new Float32Array(bytes.buffer, 20, floats) : null;
  const put = (data: Float32Array) => {
    if (body) body.set(data, (offset - 20) / 4);
    else for (let i = 0; i < data.length; i++) dv.setFloat32(offset + 4 * i, data[i], true);
    offset += 4 * data.length;
  };
  for (const info of layout) {
    const l = info.layer;
    const get = (part: DarknetConvPart, shape: number[]): Float32Array => {
      const name = darknetTensorName(l.index, part);
      const t = tensors.get(name);
      if (!t) throw new Error(`writeDarknetWeights: tensor '${name}' is missing`);
      if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
        throw new Error(`writeDarknetWeights: tensor '${name}' has shape [${t.shape}] but the cfg needs [${shape}]`);
      }
      if (!(t.data instanceof Float32Array)) throw new Error(`writeDarknetWeights: tensor '${name}' must be float32`);
      return t.data;
    };
    put(get('biases', [l.filters]));
    if (l.batchNormalize) {
      for (const part of ['scales', 'rolling_mean', 'rolling_variance'] as const) put(get(part, [l.filters]));
    }
    put(hwioToOihw(get('weights', info.kernelShape), l.filters, info.inChannels / l.groups, l.size));
  }
  return bytes;
}
