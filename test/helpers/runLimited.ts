/**
 * Run a child Node process under a wall-clock limit and a resident-memory limit, so a hostile
 * input that would hang or exhaust the machine takes down only that child. The memory limit is
 * enforced by polling /proc/<pid>/status (Linux): V8's --max-old-space-size does not cover
 * ArrayBuffers, which is where a weights reader's big allocations go.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';

export interface LimitedRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the parent killed the child, if it did. */
  killedFor: 'time' | 'memory' | null;
  /** Highest resident set size seen while polling (MB; 0 where /proc is unavailable). */
  peakRssMb: number;
  ms: number;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Spawn `node <args>` with limits; resolves when the child exits (or is killed). */
export function runLimited(
  args: string[],
  limits: { timeoutMs: number; maxRssMb: number; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<LimitedRun> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, { cwd: limits.cwd, env: limits.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killedFor: LimitedRun['killedFor'] = null;
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = (why: 'time' | 'memory'): void => {
      if (killedFor) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      peak = Math.max(peak, rssMb(child.pid));
      if (peak > limits.maxRssMb) kill('memory');
    }, 50);
    const timer = setTimeout(() => kill('time'), limits.timeoutMs);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal, killedFor, peakRssMb: Math.round(peak), ms: Date.now() - t0 });
    });
  });
}
