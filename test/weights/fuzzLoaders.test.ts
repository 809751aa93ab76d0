/**
 * Quick seeded fuzz of the weight and cfg readers (issue 12): fixed seeds, a few hundred cases
 * per reader, each a mutation of a real small file or a hand-made input. Every case must give a
 * valid result or a plain Error with a short message (no TypeError/RangeError from deep
 * inside), quickly. The long run is `npm run fuzz -- --seconds N --seed S` (scripts/fuzz.ts).
 */
import { FUZZ_TARGETS, runFuzzCase } from './hostile/fuzzTargets';

const SEED = 20261206;
const CASES = 300;
// Far above the slowest case seen (~150 ms on a loaded 2-core machine): only a hang or a
// superlinear blow-up trips it.
const CASE_MS = 5000;

describe(`fuzz (seed ${SEED}, ${CASES} cases per reader)`, () => {
  test.each(FUZZ_TARGETS.map((t) => [t.name, t] as const))('%s', (_name, target) => {
    const failures: string[] = [];
    const kinds = { ok: 0, error: 0 };
    for (let i = 0; i < CASES; i++) {
      const { outcome } = runFuzzCase(target, SEED, i);
      if (outcome.kind === 'crash') failures.push(`case ${i}: ${outcome.detail}`);
      else if (outcome.ms > CASE_MS) failures.push(`case ${i}: ${outcome.ms} ms`);
      else kinds[outcome.kind]++;
    }
    expect(failures).toEqual([]);
    expect(kinds.error).toBeGreaterThan(0);
    // mutations of valid files sometimes stay valid (a flip in padding, a harmless cfg edit):
    // the readers must not refuse everything
    if (!target.name.includes('random pickle')) expect(kinds.ok).toBeGreaterThan(0);
  });
});
