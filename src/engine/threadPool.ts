/**
 * A thread pool for the wasm inference kernels: every kernel has the ABI
 * `(params, r0, r1)` over a work range (src/engine/native/common.h), so one call can be split in
 * contiguous chunks run by the calling thread and worker threads, each with its own instance of
 * the same compiled module on the same shared memory.
 *
 * Creation is synchronous; workers start in the background and take work only once they have
 * reported ready through the shared control block. Dispatch costs no message: the caller writes
 * each worker's job into its slot of a SharedArrayBuffer and bumps the worker's sequence number;
 * idle workers spin briefly and then sleep in `Atomics.wait`. `run` is synchronous: the caller
 * runs its own chunk, takes over every chunk whose worker has not started it yet (a worker
 * still waking up, descheduled or dead: waiting for it would cost more), then waits for the
 * others (Atomics.wait where the thread may block, e.g. Node's main thread; a spin on
 * Atomics.load on a browser's main thread). Every unit is computed by exactly one thread with
 * the same code, so results do not depend on the split.
 */
import { coreThreadCount, parseThreadCount } from '../backend/backendOptions';
import { processEnv } from '../util/env';
import type { Arena, KernelFn, KernelModule, KernelName } from './kernelModule';
import {
  CTL,
  HEADER_INTS,
  SLOT,
  SLOT_INTS,
  WORKER_FAILED,
  WORKER_GONE,
  WORKER_READY,
  controlBlockBytes,
  kernelWorkerSource,
  readWorkerMessage,
} from './kernelWorkerProtocol';
import { KernelWorkerHandle, kernelWorkersUnavailable, spawnKernelWorker } from './kernelWorkerSpawn';

/** A pool of threads running the wasm kernels. */
export interface KernelThreadPool {
  /** Threads including the calling thread (1 when the pool has no workers). */
  readonly size: number;
  /** Workers that have instantiated the module and can take work. */
  readonly ready: number;
  /** Why the pool has fewer threads than asked for (no workers possible here), if so. */
  readonly fallbackReason?: string;
  /**
   * Run kernel `name` on the parameter block at byte offset `params` over the units
   * [0, total), split in contiguous chunks (multiples of `grain`, default 1) across the calling
   * thread and the ready workers. Returns when all chunks are done. A trap in any chunk is
   * thrown here as an Error naming the kernel, the thread and the range.
   */
  run(name: KernelName, params: number, total: number, grain?: number): void;
  /**
   * Keep idle workers spinning (true) between `run` calls, e.g. for the duration of one
   * inference, so dispatch does not pay a wake-up; false lets them sleep again after their spin.
   */
  hold(on: boolean): void;
  /** Counters since creation (profiling, tests). */
  readonly stats: KernelThreadPoolStats;
  /** Stop the workers. Later `run` calls throw. */
  dispose(): void;
}

/** What a pool has done so far. */
export interface KernelThreadPoolStats {
  /** `run` calls. */
  runs: number;
  /** Runs split across threads. */
  splitRuns: number;
  /** Chunks run by workers (errors included). */
  workerChunks: number;
  /** Chunks the caller took over because their worker had not started them in time. */
  takenOver: number;
}

/** Options of {@link createKernelThreadPool}. */
export interface KernelThreadPoolOptions {
  /** How long an idle thread spins before it sleeps (workers) / blocks (caller), µs. Default 50. */
  spinUs?: number;
  /** Give up on a chunk after this long (a dead or stuck worker), ms. Default 30000. */
  timeoutMs?: number;
  /** Testing only: each worker sleeps this long after claiming a chunk (a stuck worker), ms. */
  debugWorkerDelayMs?: number;
  /**
   * Testing only: the caller never takes over a chunk its worker has not started; it waits for
   * the worker (up to `timeoutMs`). Every split run then has its workers run their chunks,
   * however loaded the machine, so a test can rely on it instead of retrying until it happens.
   */
  debugNoTakeOver?: boolean;
  /** Testing only: starts a worker instead of {@link spawnKernelWorker} (e.g. a browser-like one). */
  spawnWorker?: typeof spawnKernelWorker;
}

/** Bytes of each worker's private stack (the module's own stack is 64 KiB too). */
export const KERNEL_WORKER_STACK_BYTES = 65536;

const DEFAULT_SPIN_US = 50;
/** A worker that woke the caller waits this long to see it running before it sleeps. */
const WAKE_GRACE_MS = 0.02;
const DEFAULT_TIMEOUT_MS = 30000;
/** Job sequence numbers wrap here (the claim word holds 2q + 1). */
const SEQ_MASK = 0x3fffffff;
/** Longest single Atomics.wait of the caller, so it can notice dead workers and the timeout. */
const WAIT_SLICE_MS = 20;

const now: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function' ? () => performance.now() : () => Date.now();

/** True when this thread may block in Atomics.wait (false on a browser's main thread). */
function threadCanBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

class ThreadPool implements KernelThreadPool {
  readonly size: number;
  fallbackReason?: string;
  private readonly control: SharedArrayBuffer | null = null;
  private readonly ctl: Int32Array;
  private readonly workers: KernelWorkerHandle[] = [];
  /** Workers given up on (failed, exited, timed out): never given work again. */
  private readonly lost: boolean[] = [];
  private readonly goneReason: (string | null)[] = [];
  private readonly seq: number[] = [];
  private readonly names: string[];
  private readonly index = new Map<string, number>();
  private readonly fns: KernelFn[];
  private readonly spinMs: number;
  private readonly timeoutMs: number;
  private readonly canBlock: boolean;
  private readonly takeOver: boolean;
  private disposed = false;
  private readonly counters: KernelThreadPoolStats = { runs: 0, splitRuns: 0, workerChunks: 0, takenOver: 0 };
  // Per-run scratch (no allocation per run).
  private readonly assigned: number[] = [];
  private readonly ranges: number[] = [];

  constructor(km: KernelModule, threads: number, arena: Arena, opts: KernelThreadPoolOptions) {
    const spinUs = opts.spinUs ?? DEFAULT_SPIN_US;
    if (!(spinUs >= 0 && Number.isFinite(spinUs))) throw new Error(`createKernelThreadPool: spinUs must be a finite number >= 0, got ${spinUs}`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new Error(`createKernelThreadPool: timeoutMs must be > 0, got ${timeoutMs}`);
    this.spinMs = spinUs / 1000;
    this.timeoutMs = timeoutMs;
    this.canBlock = threadCanBlock();
    this.takeOver = !opts.debugNoTakeOver;
    this.names = WebAssembly.Module.exports(km.module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    const ex = km.instance.exports as Record<string, unknown>;
    this.fns = this.names.map((n, i) => {
      this.index.set(n, i);
      return ex[n] as KernelFn;
    });

    let nWorkers = threads - 1;
    const unavailable = nWorkers > 0 && !opts.spawnWorker ? kernelWorkersUnavailable() : null;
    if (unavailable) {
      this.fallbackReason = unavailable;
      nWorkers = 0;
    }
    this.size = 1 + nWorkers;
    if (nWorkers === 0) {
      this.ctl = new Int32Array(HEADER_INTS);
      return;
    }
    this.control = new SharedArrayBuffer(controlBlockBytes(nWorkers));
    this.ctl = new Int32Array(this.control);
    const source = kernelWorkerSource();
    for (let i = 0; i < nWorkers; i++) {
      const stack = arena.alloc(KERNEL_WORKER_STACK_BYTES);
      this.lost.push(false);
      this.goneReason.push(null);
      this.seq.push(0);
      let w: KernelWorkerHandle;
      try {
        w = (opts.spawnWorker ?? spawnKernelWorker)(source, `yolo-tfjs-kernels-${i + 1}`, {
          onGone: (reason) => this.markGone(i, reason),
        });
      } catch (e) {
        // E.g. a page whose Content-Security-Policy forbids blob: workers: run without this one.
        const reason = `could not start a worker: ${errorText(e)}`;
        this.fallbackReason ??= reason;
        this.workers.push({ postMessage: () => undefined, terminate: () => undefined, ref: () => undefined, unref: () => undefined });
        this.lost[i] = true;
        this.markGone(i, reason);
        continue;
      }
      this.workers.push(w);
      w.postMessage({
        module: km.module,
        memory: km.memory,
        control: this.control,
        workers: nWorkers,
        index: i,
        stackTop: stack + KERNEL_WORKER_STACK_BYTES,
        names: this.names,
        spinMs: this.spinMs,
        wakeGraceMs: WAKE_GRACE_MS,
        debugDelayMs: opts.debugWorkerDelayMs ?? 0,
      });
    }
  }

  get ready(): number {
    let n = 0;
    for (let i = 0; i < this.workers.length; i++) if (this.isReady(i)) n++;
    return n;
  }

  private slot(i: number): number {
    return HEADER_INTS + i * SLOT_INTS;
  }

  private state(i: number): number {
    return Atomics.load(this.ctl, this.slot(i) + SLOT.STATE);
  }

  private isReady(i: number): boolean {
    return !this.lost[i] && this.state(i) === WORKER_READY;
  }

  /** A worker's thread ended or errored outside a job (Node events, between runs). */
  private markGone(i: number, reason: string): void {
    if (this.goneReason[i] === null) this.goneReason[i] = reason;
    if (this.state(i) !== WORKER_FAILED) Atomics.store(this.ctl, this.slot(i) + SLOT.STATE, WORKER_GONE);
  }

  /** Give up on worker `i`: no more work for it, stop its thread. */
  private abandon(i: number): void {
    if (this.lost[i]) return;
    this.lost[i] = true;
    this.workers[i].terminate();
  }

  run(name: KernelName, params: number, total: number, grain = 1): void {
    if (this.disposed) throw new Error(`KernelThreadPool.run('${name}'): the pool has been disposed`);
    const k = this.index.get(name);
    if (k === undefined) throw new Error(`KernelThreadPool.run: no kernel '${name}' in the wasm module (it exports ${this.names.join(', ')})`);
    if (!Number.isInteger(total) || total < 0) throw new Error(`KernelThreadPool.run('${name}'): total must be an integer >= 0, got ${total}`);
    if (!Number.isInteger(grain) || grain < 1) throw new Error(`KernelThreadPool.run('${name}'): grain must be an integer >= 1, got ${grain}`);
    if (!Number.isInteger(params) || params < 0) throw new Error(`KernelThreadPool.run('${name}'): params must be a byte offset (integer >= 0), got ${params}`);
    this.counters.runs++;
    if (total === 0) return;
    const fn = this.fns[k];

    const assigned = this.assigned;
    assigned.length = 0;
    if (total >= 2 * grain) for (let i = 0; i < this.workers.length; i++) if (this.isReady(i)) assigned.push(i);
    if (assigned.length === 0) {
      this.runOwn(name, fn, params, 0, total);
      return;
    }
    const units = Math.ceil(total / grain);
    const per = Math.ceil(units / (assigned.length + 1)) * grain;
    const chunks = Math.ceil(total / per);
    assigned.length = chunks - 1;
    this.counters.splitRuns++;

    const ctl = this.ctl;
    const ranges = this.ranges;
    ranges.length = 0;
    for (let j = 0; j < assigned.length; j++) {
      const i = assigned[j];
      const s = this.slot(i);
      const r0 = (j + 1) * per;
      const r1 = Math.min(r0 + per, total);
      ranges.push(r0, r1);
      Atomics.store(ctl, s + SLOT.KERNEL, k);
      Atomics.store(ctl, s + SLOT.PARAMS, params);
      Atomics.store(ctl, s + SLOT.R0, r0);
      Atomics.store(ctl, s + SLOT.R1, r1);
      const q = (this.seq[i] = (this.seq[i] + 1) & SEQ_MASK);
      Atomics.store(ctl, s + SLOT.CLAIM, 2 * q);
      Atomics.store(ctl, s + SLOT.SEQ, q);
      if (Atomics.load(ctl, s + SLOT.SLEEP) !== 0) Atomics.notify(ctl, s + SLOT.SEQ, 1);
    }

    let ownError: Error | null = null;
    try {
      this.runOwn(name, fn, params, 0, Math.min(per, total));
    } catch (e) {
      ownError = e as Error;
    }
    // Take over the chunks no worker has started yet: a worker that has not started by now was
    // asleep and queued behind this thread, descheduled, or dead; waiting for it costs more.
    for (let j = 0; this.takeOver && j < assigned.length; j++) {
      const open = 2 * this.seq[assigned[j]];
      if (Atomics.compareExchange(ctl, this.slot(assigned[j]) + SLOT.CLAIM, open, -1) !== open) continue;
      assigned[j] = -1;
      this.counters.takenOver++;
      try {
        this.runOwn(name, fn, params, ranges[2 * j], ranges[2 * j + 1]);
      } catch (e) {
        ownError ??= e as Error;
      }
    }
    const failure = this.waitFor(name);
    if (ownError) throw ownError;
    if (failure) throw failure;
  }

  private runOwn(name: string, fn: KernelFn, params: number, r0: number, r1: number): void {
    try {
      fn(params, r0, r1);
    } catch (e) {
      throw new Error(`kernel '${name}' failed on the calling thread, units [${r0}, ${r1}): ${errorText(e)}`);
    }
  }

  /** Number of assigned workers not finished yet; records the first failure. */
  private pending(name: string, out: { error: Error | null }): number {
    const ctl = this.ctl;
    let left = 0;
    for (let j = 0; j < this.assigned.length; j++) {
      const i = this.assigned[j];
      if (i < 0) continue;
      const s = this.slot(i);
      const q = this.seq[i];
      const r0 = this.ranges[2 * j];
      const r1 = this.ranges[2 * j + 1];
      if (Atomics.load(ctl, s + SLOT.DONE_SEQ) === q) {
        this.assigned[j] = -1;
        this.counters.workerChunks++;
        if (Atomics.load(ctl, s + SLOT.ERR_SEQ) === q && !out.error) {
          out.error = new Error(`kernel '${name}' failed in worker ${i + 1}, units [${r0}, ${r1}): ${readWorkerMessage(this.control!, this.workers.length, i)}`);
        }
        continue;
      }
      const st = Atomics.load(ctl, s + SLOT.STATE);
      if (st === WORKER_FAILED || st === WORKER_GONE) {
        this.assigned[j] = -1;
        const why = st === WORKER_FAILED ? readWorkerMessage(this.control!, this.workers.length, i) : this.goneReason[i] ?? 'the worker stopped';
        if (!out.error) out.error = new Error(`kernel '${name}': worker ${i + 1} died while running units [${r0}, ${r1}) (${why}); it is excluded from now on`);
        this.abandon(i);
        continue;
      }
      left++;
    }
    return left;
  }

  /** Wait until every assigned worker is done (or failed / timed out); returns the first failure. */
  private waitFor(name: string): Error | null {
    const ctl = this.ctl;
    const out: { error: Error | null } = { error: null };
    const t0 = now();
    let spinUntil = t0 + this.spinMs;
    for (;;) {
      if (this.pending(name, out) === 0) return out.error;
      const t = now();
      if (t - t0 > this.timeoutMs) {
        for (let j = 0; j < this.assigned.length; j++) {
          const i = this.assigned[j];
          if (i < 0) continue;
          if (!out.error) {
            out.error = new Error(
              `kernel '${name}': worker ${i + 1} did not finish units [${this.ranges[2 * j]}, ${this.ranges[2 * j + 1]}) within ${this.timeoutMs} ms (dead or stuck); it is excluded from now on`,
            );
          }
          Atomics.store(ctl, this.slot(i) + SLOT.STATE, WORKER_GONE);
          this.abandon(i);
        }
        return out.error;
      }
      // Every pending worker is running its chunk (it claimed it): spin a little, then block.
      if (!this.canBlock || t < spinUntil) {
        // Spin (a browser's main thread cannot block); look at the clock only now and then.
        const seen = Atomics.load(ctl, CTL.DONE);
        for (let s = 0; s < 64 && Atomics.load(ctl, CTL.DONE) === seen; s++);
        continue;
      }
      Atomics.store(ctl, CTL.MAIN_SLEEP, 1);
      const v = Atomics.load(ctl, CTL.DONE);
      if (this.pending(name, out) === 0) {
        Atomics.store(ctl, CTL.MAIN_SLEEP, 0);
        return out.error;
      }
      Atomics.wait(ctl, CTL.DONE, v, Math.min(WAIT_SLICE_MS, this.timeoutMs));
      Atomics.store(ctl, CTL.MAIN_SLEEP, 0);
      spinUntil = now() + this.spinMs;
    }
  }

  hold(on: boolean): void {
    if (this.disposed || this.workers.length === 0) return;
    const ctl = this.ctl;
    Atomics.store(ctl, CTL.HOLD, on ? 1 : 0);
    if (!on) return;
    // Wake sleeping workers now, so they are spinning by the time the first job comes.
    for (let i = 0; i < this.workers.length; i++) {
      const s = this.slot(i);
      if (!this.lost[i] && Atomics.load(ctl, s + SLOT.SLEEP) !== 0) Atomics.notify(ctl, s + SLOT.SEQ, 1);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.workers.length === 0) return;
    const ctl = this.ctl;
    Atomics.store(ctl, CTL.STOP, 1);
    for (let i = 0; i < this.workers.length; i++) {
      const s = this.slot(i);
      Atomics.add(ctl, s + SLOT.SEQ, 1);
      Atomics.notify(ctl, s + SLOT.SEQ);
      this.workers[i].terminate();
      this.lost[i] = true;
    }
  }

  get stats(): KernelThreadPoolStats {
    return { ...this.counters };
  }

  /** Resolves once every worker is ready; rejects when one fails to start or on timeout. */
  whenReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t0 = now();
      const poll = (): void => {
        if (this.disposed) return reject(new Error('whenPoolReady: the pool has been disposed'));
        let ready = 0;
        for (let i = 0; i < this.workers.length; i++) {
          const st = this.state(i);
          if (st === WORKER_READY && !this.lost[i]) ready++;
          else if (st === WORKER_FAILED || st === WORKER_GONE || this.lost[i]) {
            const why = st === WORKER_FAILED ? readWorkerMessage(this.control!, this.workers.length, i) : this.goneReason[i] ?? 'excluded after an error';
            return reject(new Error(`whenPoolReady: kernel worker ${i + 1} could not start: ${why}`));
          }
        }
        if (ready === this.workers.length) return resolve();
        if (now() - t0 > timeoutMs) return reject(new Error(`whenPoolReady: ${ready} of ${this.workers.length} kernel workers ready after ${timeoutMs} ms`));
        setTimeout(poll, 2);
      };
      poll();
    });
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * Creates a pool of `threads` threads (the caller plus `threads - 1` workers) for the kernel
 * module `km`. Synchronous: workers start in the background and get work once ready (see
 * {@link whenPoolReady}). Each worker's private 64 KiB stack is allocated from `arena` (the
 * arena the caller allocates its tensors from, so the stacks never overlap them).
 *
 * `threads` is an integer from 1 to 8; more than 1 needs a threaded module
 * (`createKernelModule({ threaded: true })`). Where no worker can be started (a browser without
 * `Worker`), the pool runs on the caller only and says why in `fallbackReason`.
 */
export function createKernelThreadPool(km: KernelModule, threads: number, arena: Arena, opts: KernelThreadPoolOptions = {}): KernelThreadPool {
  const n = parseThreadCount(threads, 'createKernelThreadPool threads');
  if (n > 1 && !km.threaded) {
    throw new Error(`createKernelThreadPool: ${n} threads need a threaded kernel module (createKernelModule({ threaded: true })); this one has its own unshared memory`);
  }
  if (n > 1 && typeof (arena as Partial<Arena> | undefined)?.alloc !== 'function') {
    throw new Error('createKernelThreadPool(km, threads, arena): with more than 1 thread the Arena the caller allocates from is required (worker stacks are allocated from it)');
  }
  return new ThreadPool(km, n, arena, opts);
}

/** Resolves when all the pool's workers are ready to take work (for tests and benchmarks). */
export function whenPoolReady(pool: KernelThreadPool, timeoutMs = 30000): Promise<void> {
  if (!(pool instanceof ThreadPool)) return Promise.reject(new Error('whenPoolReady: not a pool made by createKernelThreadPool'));
  return pool.whenReady(timeoutMs);
}

/**
 * Default number of kernel threads: `YOLO_TFJS_THREADS` when set (Node; validated like the
 * backend's thread count), else the logical cores (Node: `os.availableParallelism()`, browser:
 * `navigator.hardwareConcurrency`), capped at 8.
 */
export function defaultKernelThreads(env: Record<string, string | undefined> | undefined = processEnv()): number {
  const t = env?.YOLO_TFJS_THREADS;
  if (t !== undefined && t.trim() !== '') return parseThreadCount(t, 'YOLO_TFJS_THREADS');
  return coreThreadCount();
}
