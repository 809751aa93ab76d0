/**
 * The compact container of the embedded model (src/weights/compactDarknetWeights.ts): per-channel
 * values come back exactly, kernels within half a quantisation step of their channel, the
 * encoding is deterministic, and broken containers fail with a message that says what is wrong.
 */
import { decodeCompactDarknet, encodeCompactDarknet } from '../../src/weights/compactDarknetWeights';
import { darknetConvWeightsLayout } from '../../src/weights/readDarknetWeights';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';

// conv(bn, 3x3, 3 -> 4), conv(1x1, 4 -> 6, biases), yolo: floats 4*4 + 4*3*9 = 124, then 6 + 6*4 = 30
const CFG = `
[net]
width=16
height=16
channels=3

[convolutional]
batch_normalize=1
filters=4
size=3
stride=1
pad=1
activation=leaky

[convolutional]
filters=6
size=1
activation=linear

[yolo]
mask=0
anchors=10,14
classes=1
num=1
`;
const FLOATS = 124 + 30;

/** A version 0.2 weights file (20-byte header) with pseudo-random floats of varied magnitude. */
function makeWeights(): { bytes: Uint8Array; floats: Float32Array } {
  const floats = new Float32Array(FLOATS);
  let s = 12345;
  for (let i = 0; i < FLOATS; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    floats[i] = ((s / 2 ** 31) * 2 - 1) * 10 ** ((i % 5) - 3); // 1e-3 .. 10
  }
  floats[4] = 1e-9; // a tiny per-channel value (a variance) must survive exactly
  // second conv, output channel 2: all zero kernel
  for (let i = 0; i < 4; i++) floats[124 + 6 + 2 * 4 + i] = 0;
  const bytes = new Uint8Array(20 + 4 * FLOATS);
  const dv = new DataView(bytes.buffer);
  dv.setInt32(0, 0, true);
  dv.setInt32(4, 2, true);
  dv.setInt32(8, 5, true);
  dv.setBigUint64(12, 123456n, true);
  floats.forEach((v, i) => dv.setFloat32(20 + 4 * i, v, true));
  return { bytes, floats };
}

function floatsOf(weights: Uint8Array): Float32Array {
  const dv = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  return Float32Array.from({ length: (weights.byteLength - 20) / 4 }, (_, i) => dv.getFloat32(20 + 4 * i, true));
}

test('round trip: cfg and header verbatim, per-channel values exact, kernels within half a step of their channel', () => {
  const { bytes, floats } = makeWeights();
  const packed = encodeCompactDarknet(CFG, bytes);
  // header fields + cfg + 20-byte weights header, then 4 bytes per channel value and per
  // output-channel scale, 2 per kernel value
  const payload = (4 * 16 + 4 * 4 + 2 * 108) + (4 * 6 + 4 * 6 + 2 * 24);
  expect(packed.byteLength).toBe(12 + CFG.length + 4 + 20 + payload);
  const back = decodeCompactDarknet(packed);
  expect(back.cfgText).toBe(CFG);
  expect(back.weights.byteLength).toBe(bytes.byteLength);
  expect(Array.from(back.weights.subarray(0, 20))).toEqual(Array.from(bytes.subarray(0, 20)));
  const got = floatsOf(back.weights);
  let o = 0;
  for (const l of darknetConvWeightsLayout(parseDarknetCfg(CFG))) {
    for (let i = 0; i < l.perChannelFloats; i++, o++) expect(got[o]).toBe(floats[o]);
    const per = l.kernelFloats / l.layer.filters;
    for (let c = 0; c < l.layer.filters; c++) {
      const k = floats.subarray(o, o + per);
      const max = Math.max(...Array.from(k, Math.abs));
      for (let i = 0; i < per; i++, o++) {
        expect(Math.abs(got[o] - floats[o])).toBeLessThanOrEqual((max / 32767) * 0.5 * (1 + 1e-6));
      }
    }
  }
  expect(o).toBe(FLOATS);
  expect(got[4]).toBe(Math.fround(1e-9));
  expect(Array.from(got.subarray(124 + 6 + 8, 124 + 6 + 12))).toEqual([0, 0, 0, 0]);
});

test('encoding is deterministic', () => {
  const { bytes } = makeWeights();
  expect(Buffer.from(encodeCompactDarknet(CFG, bytes)).equals(Buffer.from(encodeCompactDarknet(CFG, bytes)))).toBe(true);
});

test('weights of another cfg and broken containers fail with a message', () => {
  const { bytes } = makeWeights();
  expect(() => encodeCompactDarknet(CFG, bytes.subarray(0, bytes.byteLength - 4))).toThrow(/the cfg needs 636 bytes of weights, got 632/);
  const packed = encodeCompactDarknet(CFG, bytes);
  expect(() => decodeCompactDarknet(new Uint8Array(8))).toThrow(/not a YTDW container/);
  const badMagic = packed.slice();
  badMagic[0] = 0;
  expect(() => decodeCompactDarknet(badMagic)).toThrow(/not a YTDW container/);
  const v2 = packed.slice();
  new DataView(v2.buffer).setUint32(4, 2, true);
  expect(() => decodeCompactDarknet(v2)).toThrow(/format version 2 is not supported/);
  expect(() => decodeCompactDarknet(packed.subarray(0, packed.byteLength - 1))).toThrow(/the cfg needs \d+ bytes of int16 kernels and float32 values, the container has/);
  expect(() => decodeCompactDarknet(packed.subarray(0, 40))).toThrow(/truncated/);
  const hugeCfg = packed.slice();
  new DataView(hugeCfg.buffer).setUint32(8, 0xffffffff, true);
  expect(() => decodeCompactDarknet(hugeCfg)).toThrow(/truncated: the cfg text needs 4294967295 bytes/);
});
