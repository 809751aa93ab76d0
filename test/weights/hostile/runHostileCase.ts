/**
 * Child-process runner of one hostile weights case (see hostileWeights.ts):
 * `node -r ts-node/register/transpile-only runHostileCase.ts <case>`.
 * Prints one JSON line: the error (class, message length, head), the time the loader took,
 * the peak RSS, and whether a good file read right afterwards in the same process is intact.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { HOSTILE_WEIGHTS, loadHostile } from './hostileWeights';

function goodFileIntact(): boolean {
  const data = path.join(__dirname, '..', 'data');
  const expected = JSON.parse(fs.readFileSync(path.join(data, 'expected.json'), 'utf8')).state_dict as Record<string, { values: number[] }>;
  const map = readPytorchStateDict(fs.readFileSync(path.join(data, 'zip_small.pth')));
  const w = map.get('conv.weight')!.data as Float32Array;
  return w.length === expected['conv.weight'].values.length && w.every((v, i) => v === expected['conv.weight'].values[i]);
}

const name = process.argv[2];
const c = HOSTILE_WEIGHTS[name];
if (!c) throw new Error(`unknown hostile case '${name}'`);
const input = c.input();
const t0 = Date.now();
let error: { name: string; ctor: string; length: number; head: string } | null = null;
try {
  loadHostile(input);
} catch (e) {
  const err = e as Error;
  error = { name: err.name, ctor: err.constructor.name, length: err.message.length, head: err.message.slice(0, 400) };
}
const ms = Date.now() - t0;
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const good = goodFileIntact();
process.stdout.write(`${JSON.stringify({ case: name, inputBytes: input.length, ms, peakRssMb, error, good })}\n`);
