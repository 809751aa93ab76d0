/**
 * Issue 12 item 5: corruption is an error, never silently different weights. Zip CRC-32 on
 * every entry read (seeded byte flips in the real YOLO-FastestV2 .pth), NaN/Inf refused naming
 * the tensor (Darknet, PyTorch, safetensors) unless allowed, and safetensors offsets validated
 * as the format defines them.
 */
import * as fs from 'fs';
import { readPytorchStateDict } from '../../src/weights/readPytorchStateDict';
import { readSafetensors } from '../../src/weights/readSafetensors';
import { readDarknetWeights } from '../../src/weights/readDarknetWeights';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { writePytorchStateDict } from '../../src/weights/writePytorchStateDict';
import { writeSafetensors } from '../../src/weights/writeSafetensors';
import { TensorMap } from '../../src/weights/tensorMap';
import { describeFixtures, fixturePath } from '../helpers/fixtures';
import { dataFile, prng, sameTensors, TINY_CFG, TINY_FLOATS, tinyDarknetWeights } from './hostile/smallFiles';

type Outcome = 'error' | 'identical' | 'different';

/** Flip one random bit in each of `n` copies; classify what reading each copy gives. */
function flipOutcomes(bytes: Uint8Array, n: number, seed: number, opts: { skipChecksums?: boolean } = {}): { counts: Record<Outcome, number>; odd: string[] } {
  const ref = readPytorchStateDict(bytes, { keepNumBatchesTracked: true });
  const rnd = prng(seed);
  const counts: Record<Outcome, number> = { error: 0, identical: 0, different: 0 };
  const odd: string[] = [];
  for (let i = 0; i < n; i++) {
    const copy = bytes.slice();
    const at = Math.floor(rnd() * copy.length);
    copy[at] ^= 1 << Math.floor(rnd() * 8);
    try {
      const m = readPytorchStateDict(copy, { keepNumBatchesTracked: true, ...opts });
      counts[sameTensors(ref, m) ? 'identical' : 'different']++;
    } catch (e) {
      counts.error++;
      // a clear Error, not a TypeError/RangeError from deep inside
      if ((e as Error).constructor !== Error) odd.push(`byte ${at}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  }
  return { counts, odd };
}

describe('zip CRC-32: a flipped bit is an error or changes nothing', () => {
  test('zip_small.pth, 150 seeded flips (seed 7)', () => {
    const { counts, odd } = flipOutcomes(dataFile('zip_small.pth'), 150, 7);
    expect(odd).toEqual([]);
    expect(counts.different).toBe(0);
    expect(counts.error).toBeGreaterThan(80);
  });

  test('with skipChecksums the same flips do change weights silently (what the check prevents)', () => {
    const { counts } = flipOutcomes(dataFile('zip_small.pth'), 150, 7, { skipChecksums: true });
    expect(counts.different).toBeGreaterThan(10);
  });

  test('a corrupt entry names itself and both CRCs', () => {
    const zip = dataFile('zip_small.pth');
    const entries = require('../../src/weights/pytorch/storedZip').readStoredZip(zip);
    const e = entries.get('zip_small/data/0') ?? [...entries.values()].find((x: { name: string }) => /\/data\/\d+$/.test(x.name));
    const at = e.data.byteOffset - zip.byteOffset;
    const copy = zip.slice();
    copy[at] ^= 0x10;
    expect(() => readPytorchStateDict(copy)).toThrow(new RegExp(`entry '${e.name}' is corrupt \\(CRC-32 0x[0-9a-f]{8}, the archive records 0x[0-9a-f]{8}\\)`));
  });
});

describeFixtures('yolo-fastestv2', 'zip CRC-32 on the REAL YOLO-FastestV2 .pth', () => {
  test('100 seeded random bit flips (seed 12): each one errors clearly or gives identical weights', () => {
    const bytes = new Uint8Array(fs.readFileSync(fixturePath('yolo-fastestv2', 'coco2017-0.241078ap-model.pth')));
    const { counts, odd } = flipOutcomes(bytes, 100, 12);
    expect(odd).toEqual([]);
    // before the check, 173 of 200 flips loaded with different weights (the fuzz script runs more)
    expect(counts.different).toBe(0);
    expect(counts.error + counts.identical).toBe(100);
    expect(counts.error).toBeGreaterThan(75);
  });
});

describe('NaN / Infinity in weights: an error naming the tensor, unless allowed', () => {
  const cfg = parseDarknetCfg(TINY_CFG);

  test('Darknet: all-NaN weights of the right size are refused', () => {
    const nan = tinyDarknetWeights(NaN);
    expect(() => readDarknetWeights(nan, cfg)).toThrow(
      new RegExp(`Darknet weights: tensor 'layer0/biases' holds NaN at element 0 \\(4 of 4 values are not finite\\).*allowNonFinite`),
    );
    const r = readDarknetWeights(nan, cfg, { allowNonFinite: true });
    expect(Number.isNaN((r.tensors.get('layer0/weights')!.data as Float32Array)[0])).toBe(true);
  });

  test('Darknet: one Infinity in the last layer names that tensor', () => {
    const w = tinyDarknetWeights();
    new DataView(w.buffer).setFloat32(20 + 4 * (TINY_FLOATS - 1), -Infinity, true);
    expect(() => readDarknetWeights(w, cfg)).toThrow(/tensor 'layer4\/weights' holds -Infinity at element \d+ \(1 of 12 values/);
    expect(readDarknetWeights(tinyDarknetWeights(), cfg).tensors.size).toBe(12);
  });

  const withBad = (v: number): TensorMap =>
    new Map([
      ['ok', { shape: [2], dtype: 'float32', data: Float32Array.from([1, 2]) }],
      ['head.bias', { shape: [3], dtype: 'float64', data: Float64Array.from([0, v, 1]) }],
    ]);

  test.each([NaN, Infinity])('PyTorch (zip) and safetensors: %s is refused, allowNonFinite loads it', (v) => {
    for (const [what, bytes] of [['.pth', writePytorchStateDict(withBad(v))], ['safetensors', writeSafetensors(withBad(v))]] as const) {
      expect(() => readPytorchStateDict(bytes)).toThrow(new RegExp(`^${what.replace('.', '\\.')}: tensor 'head.bias' holds ${String(v)} at element 1`));
      expect((readPytorchStateDict(bytes, { allowNonFinite: true }).get('head.bias')!.data as Float64Array)[1]).toBe(v);
    }
    expect(() => readSafetensors(writeSafetensors(withBad(v)))).toThrow(/tensor 'head.bias'/);
    expect(readSafetensors(writeSafetensors(withBad(v)), { allowNonFinite: true }).size).toBe(2);
  });
});

/** A safetensors file from a header object and a data section. */
function safetensors(header: unknown, data: Uint8Array, rawHeader?: string): Uint8Array {
  const h = Buffer.from(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors offsets validated as the format defines them', () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const t = (offs: unknown, shape: unknown = [2], dtype = 'F32') => ({ dtype, shape, data_offsets: offs });

  test('a well-formed file reads', () => {
    const m = readSafetensors(safetensors({ a: t([0, 8]), b: t([8, 16]), __metadata__: { format: 'pt' } }, data));
    expect(Array.from(m.get('b')!.data as Float32Array)).toEqual([3, 4]);
  });

  test.each([
    ['negative offsets (read header bytes as a weight)', { a: t([-4, 4]), b: t([8, 16]) }, /'a': bad data_offsets \[-4,4\]/],
    ['fractional offsets', { a: t([0, 8]), b: t([8.5, 16.5]) }, /'b': bad data_offsets \[8\.5,16\.5\]/],
    ['string offsets', { a: t(['0', '8']), b: t([8, 16]) }, /'a': bad data_offsets \["0","8"\]/],
    ['three offsets', { a: t([0, 8, 16]) }, /'a': bad data_offsets/],
    ['overlapping tensors', { a: t([0, 8]), b: t([4, 12]), c: t([12, 16], [1]) }, /'b' \(bytes \[4, 12\)\) overlaps the tensor before it, which ends at 8/],
    ['the same bytes twice', { a: t([0, 8]), b: t([0, 8]) }, /overlaps/],
    ['a hole', { a: t([0, 8]), b: t([12, 16], [1]) }, /hole: bytes \[8, 12\) before tensor 'b'/],
    ['trailing bytes', { a: t([0, 8]) }, /cover 8 bytes of data but the data section has 16/],
    ['end before begin', { a: t([8, 0]), b: t([8, 16]) }, /end before they begin/],
    ['past the end', { a: t([0, 8]), b: t([8, 24], [4]) }, /'b' ends at byte 24 but the data section has 16/],
    ['shape and bytes disagree', { a: t([0, 8], [3]), b: t([8, 16]) }, /'a': 8 bytes for shape \[3\] F32 \(expected 12\)/],
    ['dtype and bytes disagree', { a: t([0, 16], [2], 'F16') }, /'a': 16 bytes for shape \[2\] F16 \(expected 4\)/],
    ['fractional shape', { a: t([0, 8], [1.5]), b: t([8, 16]) }, /'a': bad shape \[1\.5\]/],
    ['a dtype that is an inherited property name', { a: t([0, 16], [4], 'constructor') }, /'a': unsupported dtype 'constructor'/],
    ['metadata that is not strings', { a: t([0, 16], [4]), __metadata__: { n: 3 } }, /__metadata__ must map strings to strings/],
    ['an entry that is not an object', { a: 5 }, /'a': entry is not an object/],
  ])('%s is refused', (_what, header, msg) => {
    expect(() => readSafetensors(safetensors(header, data))).toThrow(msg);
  });

  test('header size bounded and must start with {', () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => readSafetensors(big)).toThrow(/exceeds the file/);
    const padded = safetensors(null, data, ` {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`);
    expect(() => readSafetensors(padded)).toThrow(/does not start with '\{'/);
    // trailing spaces are allowed padding
    const ok = safetensors(null, data, `{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}   `);
    expect(readSafetensors(ok).get('a')!.shape).toEqual([4]);
  });
});
