/**
 * Debian's /usr/bin/python3 with torch (or OpenCV), for tests that compute their own reference with our
 * scripts under scripts/reference (never upstream code). Tests skip with a message without it.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

export const PYTHON = '/usr/bin/python3';

const cached = new Map<string, boolean>();

/** True when `/usr/bin/python3 -c "import <module>"` works (cached per module). */
export function pythonHas(module: string): boolean {
  let ok = cached.get(module);
  if (ok === undefined) {
    ok = spawnSync(PYTHON, ['-c', `import ${module}`], { timeout: 120000 }).status === 0;
    cached.set(module, ok);
  }
  return ok;
}

/** True when `/usr/bin/python3 -c "import torch"` works. */
export function torchAvailable(): boolean {
  return pythonHas('torch');
}

/** Run one of our reference scripts (scripts/reference/<name>); a failure throws with its stderr. */
export function runReferenceScript(name: string, args: string[]): string {
  const script = path.resolve(__dirname, '..', '..', 'scripts', 'reference', name);
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}
