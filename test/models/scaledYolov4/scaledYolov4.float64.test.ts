/**
 * Why the Scaled-YOLOv4 head tolerances are what they are: the exact (float64) heads of the
 * fixture networks, computed by OUR OWN minimal PyTorch re-implementation
 * (scripts/reference/scaled_yolov4_reference.py, written from the fixtures' NOTES.md, not from
 * upstream source), against upstream's float32 heads (the fixtures) and ours.
 *
 * These random networks amplify float32 rounding layer by layer (relative error ~5e-7 after the
 * first conv, ~3e-4 at the heads; no jump anywhere, so no formula differs). Upstream's own float32
 * heads are therefore up to ~5e-3 (P5, 000004.jpg), ~2e-3 (P6) and ~2e-3 (csp) away from the
 * exact ones, and two float32 implementations that sum their convolutions in different orders
 * (oneDNN in torch, XNNPACK in tfjs-wasm) cannot be held closer to each other than that. What we
 * can and do require: ours is no further from the exact heads than upstream's float32 is, within
 * a factor 2 (measured on the wasm backend: at most 1.6x, csp on 000004.jpg; on the tfjs cpu
 * backend ours is as close as upstream's or closer).
 *
 * The reference reproduces upstream's float32 heads to 2e-4..1.3e-3 when run in float32 (same
 * networks; torch's conv kernels differ from the 1.13 build that made the fixtures).
 * Skips without /usr/bin/python3 + torch or without the fixtures.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { chwToHwc, describeFixtures, fixturePath, readF32 } from '../../helpers/fixtures';
import { runReferenceScript, torchAvailable } from '../../helpers/pythonTorch';

const DIR = 'scaled-yolov4';
// 000004.jpg: the image where float32 drifts furthest from the exact heads (dog: 3e-4..1.2e-3).
const IMAGES = ['000004'];

interface Case {
  label: string;
  file: string;
  dir: string;
  size: number;
  levels: number;
  cfg?: string;
}

const CASES: Case[] = [
  { label: 'P5', file: 'yolov4-p5-small.pt', dir: 'p5-small', size: 320, levels: 3 },
  { label: 'P6', file: 'yolov4-p6-small.pt', dir: 'p6-small', size: 384, levels: 4 },
  { label: 'yolov4-csp', file: 'csp/yolov4-csp.pt', dir: 'csp', size: 320, levels: 3, cfg: 'csp/yolov4-csp-div4.cfg' },
];

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function readRaw(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

describeFixtures(DIR, 'Scaled-YOLOv4 heads against the exact (float64) answer', () => {
  if (!torchAvailable()) {
    it.skip('SKIPPED: /usr/bin/python3 with torch is not available (apt-get install python3-torch)', () => undefined);
    return;
  }
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sy4-f64-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each(CASES)('$label: ours is no further from the float64 heads than upstream float32 is (x2)', (c) => {
    const out = path.join(tmp, c.label);
    const inputs = IMAGES.map((img) => fixturePath(DIR, c.dir, `input_${img}_nchw.f32`));
    const args = ['heads', '--pt', fixturePath(DIR, c.file), '--input', inputs.join(','), '--size', String(c.size), '--dtype', 'float64', '--out', out];
    if (c.cfg) args.push('--cfg', fixturePath(DIR, c.cfg));
    runReferenceScript('scaled_yolov4_reference.py', args);

    const bytes = fs.readFileSync(fixturePath(DIR, c.file));
    const det = c.cfg
      ? loadPytorch('darknet', bytes, { cfg: fs.readFileSync(fixturePath(DIR, c.cfg), 'utf8'), inputSize: c.size })
      : loadPytorch('scaled-yolov4', bytes, { inputSize: c.size });
    det.fastInference = false; // the unfused LayersModel, as upstream's unfused reference run
    let upstreamErr = 0;
    let oursErr = 0;
    try {
      IMAGES.forEach((img, j) => {
        const x = tf.tensor4d(chwToHwc(readF32(DIR, c.dir, `input_${img}_nchw.f32`), 3, c.size, c.size), [1, c.size, c.size, 3]);
        const heads = det.predict(x);
        expect(heads).toHaveLength(c.levels);
        heads.forEach((h, k) => {
          const exact = readRaw(path.join(out, 'float64', String(j), `head${k}.f32`));
          const ours = tf.tidy(() => tf.transpose(h, [0, 3, 1, 2]).dataSync());
          const upstream = readF32(DIR, c.dir, `head${k}_${img}.f32`);
          expect(exact.length).toBe(upstream.length);
          upstreamErr = Math.max(upstreamErr, maxAbs(upstream, exact));
          oursErr = Math.max(oursErr, maxAbs(ours, exact));
        });
        tf.dispose([x, ...heads]);
      });
    } finally {
      det.dispose();
    }
    // The reference is the same network: only float32 rounding separates upstream from it.
    expect(upstreamErr).toBeLessThan(1e-2);
    expect({ model: c.label, oursErr, upstreamErr, ratio: oursErr / upstreamErr }).toEqual(
      expect.objectContaining({ ratio: expect.any(Number) }),
    );
    expect(oursErr).toBeLessThanOrEqual(2 * upstreamErr);
  });
});
