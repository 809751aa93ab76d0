/**
 * Issue 12 items 4-5: the hostile weight files (hostile/hostileWeights.ts), each loaded in its
 * own child process with a wall-clock and a memory limit, so a regression hangs or exhausts
 * only that child. Each must end in a clear Error (not a RangeError/TypeError from deep
 * inside) with a short message, in bounded memory, and a good file must read correctly in
 * the same process afterwards.
 */
import * as path from 'path';
import { HOSTILE_WEIGHTS } from './hostile/hostileWeights';
import { bundleForNode } from '../helpers/nodeBundle';
import { runLimited } from '../helpers/runLimited';

// Generous limits: the cases take milliseconds to ~3 s and ~100-250 MB (RSS of the whole
// Node process) on a loaded 2-core machine; before the fix they took minutes and gigabytes.
const TIMEOUT_MS = 60_000;
const MAX_RSS_MB = 1024;

let runner = '';
beforeAll(() => {
  runner = bundleForNode(path.join(__dirname, 'hostile', 'runHostileCase.ts'));
});

describe('hostile weight files, each in its own limited process', () => {
  test.each(Object.keys(HOSTILE_WEIGHTS))('%s: a clear error, bounded memory, a good load afterwards', async (name) => {
    const c = HOSTILE_WEIGHTS[name];
    const r = await runLimited(['--max-old-space-size=512', runner, name], { timeoutMs: TIMEOUT_MS, maxRssMb: MAX_RSS_MB });
    expect({ name, killedFor: r.killedFor, code: r.code, stderr: r.stderr.slice(-500) }).toEqual({ name, killedFor: null, code: 0, stderr: '' });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.error).not.toBeNull();
    // a plain Error with a message naming the problem, not a crash from deep inside
    expect(out.error.ctor).toBe('Error');
    expect(out.error.head).toMatch(c.expect);
    expect(out.error.length).toBeLessThan(400);
    expect(out.peakRssMb).toBeLessThan(MAX_RSS_MB);
    expect(out.good).toBe(true);
  });
});
