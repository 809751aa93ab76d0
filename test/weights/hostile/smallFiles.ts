/**
 * Small valid files of every format the loaders read, made in memory: the seeds the fuzz tests
 * mutate and the baselines the integrity tests compare against.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TensorMap } from '../../../src/weights/tensorMap';

/** A tiny Darknet cfg: conv(bn) -> route(groups) -> depthwise conv(bn) -> conv -> yolo (168 floats). */
export const TINY_CFG = `
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

[maxpool]
size=2
stride=2

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

/** Floats TINY_CFG's weights hold. */
export const TINY_FLOATS = 124 + 26 + 18;

/** A version 0.2 weights file for TINY_CFG with seeded finite values (or `fill` everywhere). */
export function tinyDarknetWeights(fill?: number): Uint8Array {
  const buf = new ArrayBuffer(20 + 4 * TINY_FLOATS);
  const dv = new DataView(buf);
  dv.setInt32(0, 0, true);
  dv.setInt32(4, 2, true);
  dv.setInt32(8, 5, true);
  dv.setBigUint64(12, 64000n, true);
  for (let i = 0; i < TINY_FLOATS; i++) dv.setFloat32(20 + 4 * i, fill ?? Math.sin(i) * 0.5 + (i % 7 === 0 ? 1 : 0), true);
  return new Uint8Array(buf);
}

const DATA = path.join(__dirname, '..', 'data');

/** A committed small test file (test/weights/data). */
export function dataFile(name: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(DATA, name)));
}

/** The real cfgs committed under test/weights/cfg. */
export function cfgFile(name: string): string {
  return fs.readFileSync(path.join(__dirname, '..', 'cfg', name), 'utf8');
}

/** True when two tensor maps hold the same names, shapes, dtypes and bytes. */
export function sameTensors(a: TensorMap, b: TensorMap): boolean {
  if (a.size !== b.size) return false;
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u || u.dtype !== t.dtype || u.shape.join() !== t.shape.join()) return false;
    const x = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const y = Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    if (!x.equals(y)) return false;
  }
  return true;
}

/** A small deterministic PRNG (mulberry32) for seeded mutations. */
export { mulberry32 as prng } from '../../../src/util/random';
