/**
 * Long seeded fuzz run of the weight and cfg readers (the suite runs a quick fixed-seed slice of
 * the same cases: test/weights/fuzzLoaders.test.ts).
 *
 *   npm run fuzz -- --seconds 120 --seed 1 [--target pickle] [--out fuzz-failures]
 *
 * Cycles through the targets, case by case, until the time is up. A case fails when the reader
 * throws anything but a plain Error with a short message, or takes longer than --slow-ms
 * (default 2000). Failures are printed with their (seed, target, index) so they replay exactly,
 * and their inputs written to --out. Exit code 1 when any case failed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FUZZ_TARGETS, runFuzzCase } from '../test/weights/hostile/fuzzTargets';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const seconds = Number(arg('seconds', '60'));
const seed = Number(arg('seed', String(Date.now() % 100000)));
const slowMs = Number(arg('slow-ms', '2000'));
const only = arg('target', '');
const outDir = arg('out', 'fuzz-failures');
if (!(seconds > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- --seconds N --seed S [--target text] [--slow-ms N] [--out dir]');
  process.exit(1);
}
const targets = FUZZ_TARGETS.filter((t) => t.name.toLowerCase().includes(only.toLowerCase()));
if (!targets.length) {
  console.error(`no target matches '${only}'; targets: ${FUZZ_TARGETS.map((t) => t.name).join('; ')}`);
  process.exit(1);
}

const stats = targets.map(() => ({ cases: 0, ok: 0, error: 0, failed: 0, maxMs: 0 }));
const end = Date.now() + seconds * 1000;
let failures = 0;
for (let index = 0; Date.now() < end; index++) {
  targets.forEach((t, k) => {
    const { input, outcome } = runFuzzCase(t, seed, index);
    const s = stats[k];
    s.cases++;
    s.maxMs = Math.max(s.maxMs, outcome.ms);
    const slow = outcome.ms > slowMs;
    if (outcome.kind === 'crash' || slow) {
      s.failed++;
      failures++;
      const id = `seed${seed}-t${FUZZ_TARGETS.indexOf(t)}-i${index}`;
      console.log(`FAIL ${id} [${t.name}] ${slow ? `slow (${outcome.ms} ms) ` : ''}${outcome.detail ?? ''}`);
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(path.join(outDir, `${id}.${typeof input === 'string' ? 'cfg' : 'bin'}`), input);
    } else {
      s[outcome.kind]++;
    }
  });
}
console.log(`seed ${seed}, ${seconds} s:`);
targets.forEach((t, k) => {
  const s = stats[k];
  console.log(`  ${t.name}: ${s.cases} cases, ${s.ok} valid, ${s.error} clear errors, ${s.failed} failures, slowest ${s.maxMs} ms`);
});
process.exit(failures ? 1 : 0);
