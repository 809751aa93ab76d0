/**
 * Access to the reference data in ../shared/fixtures (or $YOLO_TFJS_FIXTURES).
 * Parity tests use `describeFixtures(subdir, ...)`, which skips with a clear message when the
 * folder is absent (CI has it).
 */
import * as fs from 'fs';
import * as path from 'path';

export const FIXTURES = process.env.YOLO_TFJS_FIXTURES || path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');

/** Absolute path of a fixture file. */
export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

export function hasFixtures(...parts: string[]): boolean {
  return fs.existsSync(fixturePath(...parts));
}

/** `describe` when the fixture folder exists, else a skipped block that says why. */
export function describeFixtures(sub: string, name: string, fn: () => void): void {
  if (hasFixtures(sub)) {
    describe(name, fn);
  } else {
    // Do not even run the block's body: it may read fixture files while collecting tests.
    describe(name, () => {
      test.skip(`SKIPPED: fixtures not found at ${fixturePath(sub)}; set YOLO_TFJS_FIXTURES`, () => undefined);
    });
    // eslint-disable-next-line no-console
    console.warn(`[fixtures] ${name}: skipped, ${fixturePath(sub)} is absent`);
  }
}

/** Read a raw little-endian float32 file. */
export function readF32(...parts: string[]): Float32Array {
  const buf = fs.readFileSync(fixturePath(...parts));
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Read a raw uint8 file. */
export function readU8(...parts: string[]): Uint8Array {
  return new Uint8Array(fs.readFileSync(fixturePath(...parts)));
}

export function readJson<T = any>(...parts: string[]): T {
  return JSON.parse(fs.readFileSync(fixturePath(...parts), 'utf8')) as T;
}

/** CHW float array -> HWC float array. */
export function chwToHwc(a: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[i * c + ch] = a[ch * h * w + i];
  return out;
}

/** Max absolute difference of two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
