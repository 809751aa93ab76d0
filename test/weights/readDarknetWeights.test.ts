import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import {
  readDarknetWeights,
  darknetWeightsFloatCount,
  darknetTensorName,
} from '../../src/weights/readDarknetWeights';

// 3 -> conv(bn, 3x3, 4) -> route (second half: 2 ch) -> depthwise conv(bn, 3x3, groups 2) -> conv(1x1, 6, bias) -> yolo
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

[route]
layers=-1
groups=2
group_id=1

[convolutional]
batch_normalize=1
groups=2
filters=2
size=3
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

// floats per conv: 4*4 + 4*3*9 = 124; 2*4 + 2*1*9 = 26; 6 + 6*2 = 18
const FLOATS = 124 + 26 + 18;

/** A weights file: header then floats 0, 1, 2, ... (so every value tells where it came from). */
function makeWeights(major: number, minor: number, seen: bigint, floats: number, extraBytes = 0): Uint8Array {
  const seen64 = major * 10 + minor >= 2;
  const head = seen64 ? 20 : 16;
  const buf = new ArrayBuffer(head + 4 * floats + extraBytes);
  const dv = new DataView(buf);
  dv.setInt32(0, major, true);
  dv.setInt32(4, minor, true);
  dv.setInt32(8, 5, true);
  if (seen64) dv.setBigUint64(12, seen, true);
  else dv.setUint32(12, Number(seen), true);
  for (let i = 0; i < floats; i++) dv.setFloat32(head + 4 * i, i, true);
  return new Uint8Array(buf);
}

describe('readDarknetWeights', () => {
  const cfg = parseDarknetCfg(CFG);

  test('float count follows the channel tracking through route groups and depthwise convs', () => {
    expect(darknetWeightsFloatCount(cfg)).toBe(FLOATS);
  });

  test('header 0.2 (64-bit seen): BN parts and OIHW -> HWIO kernels', () => {
    const seen = (1n << 40n) + 7n;
    const { header, tensors } = readDarknetWeights(makeWeights(0, 2, seen, FLOATS), cfg);
    expect(header).toEqual({ major: 0, minor: 2, revision: 5, seen: Number(seen) });
    expect([...tensors.keys()]).toEqual([
      'layer0/biases', 'layer0/scales', 'layer0/rolling_mean', 'layer0/rolling_variance', 'layer0/weights',
      'layer2/biases', 'layer2/scales', 'layer2/rolling_mean', 'layer2/rolling_variance', 'layer2/weights',
      'layer3/biases', 'layer3/weights',
    ]);
    const t = (i: number, p: Parameters<typeof darknetTensorName>[1]) => tensors.get(darknetTensorName(i, p))!;
    expect(Array.from(t(0, 'biases').data as Float32Array)).toEqual([0, 1, 2, 3]);
    expect(Array.from(t(0, 'scales').data as Float32Array)).toEqual([4, 5, 6, 7]);
    expect(Array.from(t(0, 'rolling_mean').data as Float32Array)).toEqual([8, 9, 10, 11]);
    expect(Array.from(t(0, 'rolling_variance').data as Float32Array)).toEqual([12, 13, 14, 15]);
    // layer 0 kernel: OIHW [4,3,3,3] starting at float 16 -> HWIO [3,3,3,4]
    const k0 = t(0, 'weights');
    expect(k0.shape).toEqual([3, 3, 3, 4]);
    for (let o = 0; o < 4; o++)
      for (let i = 0; i < 3; i++)
        for (let y = 0; y < 3; y++)
          for (let x = 0; x < 3; x++) {
            expect((k0.data as Float32Array)[((y * 3 + x) * 3 + i) * 4 + o]).toBe(16 + ((o * 3 + i) * 3 + y) * 3 + x);
          }
    // layer 2 depthwise: 2 channels from the route, kernel [k,k,C,1]; starts at 124 + 8
    const k2 = t(2, 'weights');
    expect(k2.shape).toEqual([3, 3, 2, 1]);
    for (let c = 0; c < 2; c++)
      for (let p = 0; p < 9; p++) expect((k2.data as Float32Array)[p * 2 + c]).toBe(132 + c * 9 + p);
    // layer 3: no BN -> biases then kernel [1,1,2,6]
    expect(Array.from(t(3, 'biases').data as Float32Array)).toEqual([150, 151, 152, 153, 154, 155]);
    const k3 = t(3, 'weights');
    expect(k3.shape).toEqual([1, 1, 2, 6]);
    for (let o = 0; o < 6; o++) for (let i = 0; i < 2; i++) expect((k3.data as Float32Array)[i * 6 + o]).toBe(156 + o * 2 + i);
  });

  test('header 0.1 (32-bit seen), ArrayBuffer input and an unaligned view', () => {
    const bytes = makeWeights(0, 1, 12345n, FLOATS);
    const a = readDarknetWeights(bytes.buffer as ArrayBuffer, cfg);
    expect(a.header).toEqual({ major: 0, minor: 1, revision: 5, seen: 12345 });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const b = readDarknetWeights(shifted.subarray(1), cfg);
    expect(Array.from(b.tensors.get('layer3/biases')!.data as Float32Array)).toEqual([150, 151, 152, 153, 154, 155]);
  });

  test('truncated file: names the layer, the floats it needs and the floats left', () => {
    expect(() => readDarknetWeights(makeWeights(0, 2, 0n, FLOATS - 1), cfg)).toThrow(
      /layer 3 \[convolutional\] \(cfg line \d+\) needs 18 floats .* but only 17 are left in the file \(688 bytes; the cfg needs 692\)/,
    );
    expect(() => readDarknetWeights(makeWeights(0, 2, 0n, 100), cfg)).toThrow(
      /layer 0 \[convolutional\] \(cfg line 7\) needs 124 floats .* only 100 are left/,
    );
  });

  test('extra bytes: expected total vs file size', () => {
    expect(() => readDarknetWeights(makeWeights(0, 2, 0n, FLOATS, 8), cfg)).toThrow(
      /the cfg needs 692 bytes \(20-byte header \+ 168 floats for 3 conv layers\) but the file has 700 bytes \(8 extra\)/,
    );
    // 0.1 header is 4 bytes shorter
    expect(() => readDarknetWeights(makeWeights(0, 1, 0n, FLOATS, 4), cfg)).toThrow(/needs 688 bytes .* has 692 bytes/);
  });

  test('weights of a cfg with another class count fail on the byte count', () => {
    const cfg2 = parseDarknetCfg(CFG.replace('filters=6', 'filters=7').replace('classes=1', 'classes=2'));
    expect(() => readDarknetWeights(makeWeights(0, 2, 0n, FLOATS), cfg2)).toThrow(/layer 3 \[convolutional\].*needs 21 floats/);
  });

  test('bad headers', () => {
    expect(() => readDarknetWeights(new Uint8Array(10), cfg)).toThrow(/10 bytes, too short for the header/);
    expect(() => readDarknetWeights(makeWeights(1001, 0, 0n, FLOATS), cfg)).toThrow(/version 1001\.0\.5 is not supported/);
    expect(() => readDarknetWeights('nope' as unknown as Uint8Array, cfg)).toThrow(/expected a Uint8Array/);
  });
});
