/**
 * A compact container for a Darknet model (cfg text + `.weights`) that the package can carry,
 * in a little over half the bytes. The convolution kernels, which are almost all of the bytes,
 * are stored as 16-bit integers with one float32 scale per output channel (symmetric:
 * `w = q * scale`, `scale = max|w| / 32767` over that channel's kernel); the per-channel values
 * (biases, batch-norm scales, means and variances) stay float32: they are few, and a variance
 * near zero would lose its precision in 16 bits.
 *
 * Why not float16: its relative rounding error (2^-11) applies to the large weights too, and
 * through the 100+ layers of Yolo-Fastest 1.1 it moved scores by up to 2.7e-3 on the fixture
 * images; per-channel int16 keeps the large weights to 1.5e-5 of the channel's range, and the
 * scores within 3.3e-4 of float32 (test/registry/embeddedModel.test.ts).
 *
 * Decoding gives back a standard float32 `.weights` file, so the model is built by the same
 * `loadDarknet` path as the original weights.
 *
 * Layout (little-endian):
 * - magic `YTDW`, uint32 format version (1)
 * - uint32 cfg byte length, cfg text (UTF-8)
 * - uint32 header byte length (16 or 20), the `.weights` header verbatim
 * - for every `[convolutional]` layer in cfg order (as in the `.weights` file): its
 *   per-channel floats as float32, `filters` float32 scales, then the kernel as int16
 *   (Darknet's OIHW order, so each output channel's values are contiguous)
 */
import { parseDarknetCfg } from './parseDarknetCfg';
import { darknetConvWeightsLayout, darknetWeightsFloatCount, readDarknetWeightsHeader } from './readDarknetWeights';

const MAGIC = 'YTDW';
const VERSION = 1;

/** A Darknet model as cfg text and the bytes of a standard float32 `.weights` file. */
export interface DarknetModelFiles {
  cfgText: string;
  weights: Uint8Array;
}

/** Largest magnitude of a kernel value, in units of its channel's scale. */
const QMAX = 32767;

/** Bytes the payload takes for a cfg (float32 per-channel values and scales, int16 kernels) and the floats it decodes to. */
function payloadBytes(cfgText: string): { bytes: number; floats: number } {
  const layout = darknetConvWeightsLayout(parseDarknetCfg(cfgText));
  let bytes = 0;
  let floats = 0;
  for (const l of layout) {
    bytes += 4 * l.perChannelFloats + 4 * l.layer.filters + 2 * l.kernelFloats;
    floats += l.perChannelFloats + l.kernelFloats;
  }
  return { bytes, floats };
}

/**
 * Encode cfg text + `.weights` bytes into the compact container. Deterministic (the same
 * inputs give the same bytes), so a committed asset can be checked against its sources.
 * @throws when the weights do not belong to the cfg (size mismatch).
 */
export function encodeCompactDarknet(cfgText: string, weights: Uint8Array): Uint8Array {
  const cfg = parseDarknetCfg(cfgText);
  const { bytes: headerBytes } = readDarknetWeightsHeader(weights);
  const floats = darknetWeightsFloatCount(cfg);
  if (weights.byteLength !== headerBytes + 4 * floats) {
    throw new Error(`compact Darknet weights: the cfg needs ${headerBytes + 4 * floats} bytes of weights, got ${weights.byteLength}`);
  }
  const cfgBytes = new TextEncoder().encode(cfgText);
  const { bytes: payload } = payloadBytes(cfgText);
  const out = new Uint8Array(8 + 4 + cfgBytes.length + 4 + headerBytes + payload);
  const dv = new DataView(out.buffer);
  const src = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  dv.setUint32(4, VERSION, true);
  let o = 8;
  dv.setUint32(o, cfgBytes.length, true);
  out.set(cfgBytes, o + 4);
  o += 4 + cfgBytes.length;
  dv.setUint32(o, headerBytes, true);
  out.set(weights.subarray(0, headerBytes), o + 4);
  o += 4 + headerBytes;
  let s = headerBytes;
  for (const l of darknetConvWeightsLayout(cfg)) {
    for (let i = 0; i < l.perChannelFloats; i++, s += 4, o += 4) dv.setFloat32(o, src.getFloat32(s, true), true);
    const n = l.layer.filters;
    const per = l.kernelFloats / n;
    const scales = new Float32Array(n);
    for (let c = 0; c < n; c++) {
      let max = 0;
      for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(src.getFloat32(s + 4 * (c * per + i), true)));
      scales[c] = max / QMAX;
      dv.setFloat32(o + 4 * c, scales[c], true);
    }
    o += 4 * n;
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < per; i++, s += 4, o += 2) {
        const q = scales[c] > 0 ? Math.round(src.getFloat32(s, true) / scales[c]) : 0;
        dv.setInt16(o, Math.max(-QMAX, Math.min(QMAX, q)), true);
      }
    }
  }
  return out;
}

/**
 * Decode the compact container into cfg text and a standard float32 `.weights` file.
 * @throws naming what is wrong when the bytes are not a complete container of this version.
 */
export function decodeCompactDarknet(bytes: Uint8Array): DarknetModelFiles {
  const fail = (why: string): never => {
    throw new Error(`compact Darknet weights: ${why}`);
  };
  if (bytes.byteLength < 12 || String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== MAGIC) {
    fail(`not a ${MAGIC} container`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) fail(`format version ${version} is not supported (expected ${VERSION})`);
  let o = 8;
  const cfgLength = dv.getUint32(o, true);
  if (o + 4 + cfgLength + 4 > bytes.byteLength) fail(`truncated: the cfg text needs ${cfgLength} bytes`);
  const cfgText = new TextDecoder().decode(bytes.subarray(o + 4, o + 4 + cfgLength));
  o += 4 + cfgLength;
  const headerBytes = dv.getUint32(o, true);
  if (headerBytes !== 16 && headerBytes !== 20) fail(`the weights header has ${headerBytes} bytes (16 or 20 expected)`);
  if (o + 4 + headerBytes > bytes.byteLength) fail('truncated in the weights header');
  const header = bytes.subarray(o + 4, o + 4 + headerBytes);
  o += 4 + headerBytes;
  const { bytes: payload, floats } = payloadBytes(cfgText);
  if (bytes.byteLength - o !== payload) {
    fail(`the cfg needs ${payload} bytes of int16 kernels and float32 values, the container has ${bytes.byteLength - o}`);
  }
  const weights = new Uint8Array(headerBytes + 4 * floats);
  weights.set(header, 0);
  const out = new DataView(weights.buffer);
  let w = headerBytes;
  for (const l of darknetConvWeightsLayout(parseDarknetCfg(cfgText))) {
    for (let i = 0; i < l.perChannelFloats; i++, o += 4, w += 4) out.setFloat32(w, dv.getFloat32(o, true), true);
    const n = l.layer.filters;
    const per = l.kernelFloats / n;
    const scalesAt = o;
    o += 4 * n;
    for (let c = 0; c < n; c++) {
      const scale = dv.getFloat32(scalesAt + 4 * c, true);
      for (let i = 0; i < per; i++, o += 2, w += 4) out.setFloat32(w, dv.getInt16(o, true) * scale, true);
    }
  }
  return { cfgText, weights };
}
