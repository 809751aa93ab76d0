/**
 * NODE ONLY (loaded lazily by src/backend/wasmNode.ts). A stand-in for the browser `Worker`
 * that Emscripten's pthread runtime in tfjs-backend-wasm creates, backed by `worker_threads`.
 *
 * Why: under Node, tfjs-backend-wasm hands each pthread worker a `blob:` URL for its script
 * and a `Blob` holding the threaded factory; Node can load neither. This shim
 *  - runs the pthread worker script (the package's own worker source) with `eval: true`;
 *  - rewrites the `load` message so the worker imports the threaded-simd factory from the
 *    package's `wasm-out/` folder on disk instead of the blob;
 *  - keeps every worker `unref`'d, so idle pool threads never keep the process alive (the
 *    main thread is blocked while the pool computes, so nothing is lost);
 *  - spawns only the threads the pool will use: Emscripten pre-creates 8 workers, but a pool
 *    of N threads runs N - 1 of them (the caller is thread 0). The others answer `loaded`
 *    without a thread and only start one if they are ever asked to run;
 *  - reports a worker's error to the session (so initialisation can fail over instead of the
 *    process dying on Emscripten's re-thrown error, or hanging).
 */
import { EventEmitter } from 'events';
import * as workerThreads from 'worker_threads';

/** What the pthread workers need to start. */
export interface PthreadWorkerConfig {
  /** JavaScript source of Emscripten's pthread worker (run with `eval: true`). */
  workerSource: string;
  /** Absolute path of `tfjs-backend-wasm-threaded-simd.js` on disk. */
  factoryPath: string;
  /** How many workers get a real thread at load time (the pool size minus the caller). */
  eagerWorkers: number;
}

type Message = { cmd?: string; urlOrBlob?: unknown; [k: string]: unknown };

/** One set of pthread workers, created while one wasm module initialises. */
export class PthreadWorkerSession {
  readonly workers: PthreadWorker[] = [];
  /** Real threads started so far. */
  spawned = 0;
  private failure: Error | null = null;
  private failureListeners: Array<(e: Error) => void> = [];
  private initialised = false;

  constructor(readonly config: PthreadWorkerConfig) {}

  /**
   * Makes `globalThis.Worker` resolve to this session's worker class until the returned
   * function is called; assignments to `Worker` meanwhile (Emscripten sets it to
   * `worker_threads.Worker` on start-up) are ignored.
   */
  installAsGlobalWorker(): () => void {
    const g = globalThis as Record<string, unknown>;
    const previous = Object.getOwnPropertyDescriptor(g, 'Worker');
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const session = this;
    const ctor = function SessionWorker(this: unknown, url: unknown) {
      return new PthreadWorker(session, String(url));
    };
    Object.defineProperty(g, 'Worker', {
      configurable: true,
      enumerable: false,
      get: () => ctor,
      set: () => undefined,
    });
    return () => {
      if (previous) Object.defineProperty(g, 'Worker', previous);
      else delete g.Worker;
    };
  }

  /** A promise that rejects when any worker of this session fails (never resolves). */
  failed(): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (this.failure) reject(this.failure);
      else this.failureListeners.push(reject);
    });
  }

  /** Called by workers: before `markInitialised` the error fails the init; after, it is logged. */
  reportError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!this.initialised) {
      if (this.failure) return;
      this.failure = e;
      for (const l of this.failureListeners.splice(0)) l(e);
      return;
    }
    process.stderr.write(`yolo-tfjs: a wasm worker thread failed: ${e.message}\n`);
  }

  /** After this, worker errors are logged instead of failing the initialisation. */
  markInitialised(): void {
    this.initialised = true;
  }

  /** Stops every thread of this session. */
  terminateAll(): void {
    for (const w of this.workers) void w.terminate();
  }
}

/** The `Worker` Emscripten sees. Properties it sets (`loaded`, `pthread_ptr`, ...) live on it. */
export class PthreadWorker extends EventEmitter {
  [prop: string]: unknown;
  private real: workerThreads.Worker | null = null;
  private loadMessage: Message | null = null;
  private swallowLoaded = false;
  private terminated = false;

  constructor(private readonly session: PthreadWorkerSession, readonly url: string) {
    super();
    session.workers.push(this);
  }

  /** True once this stand-in runs on a real thread. */
  get hasThread(): boolean {
    return this.real !== null;
  }

  postMessage(message: unknown, transferList?: readonly workerThreads.TransferListItem[]): void {
    if (this.terminated) return;
    const msg = message as Message;
    if (msg && msg.cmd === 'load') {
      this.loadMessage =
        typeof msg.urlOrBlob === 'string' ? msg : { ...msg, urlOrBlob: this.session.config.factoryPath };
      const index = this.session.workers.indexOf(this);
      // Emscripten hands out workers from the END of its pool: those are the ones to start.
      const eager = index >= this.session.workers.length - this.session.config.eagerWorkers;
      if (eager) {
        this.spawn();
      } else {
        void Promise.resolve().then(() => {
          if (!this.terminated && !this.real) this.emit('message', { cmd: 'loaded' });
        });
      }
      return;
    }
    if (!this.real) {
      this.spawn();
      this.swallowLoaded = true; // we already told Emscripten it was loaded
    }
    this.real!.postMessage(message, transferList);
  }

  private spawn(): void {
    const w = new workerThreads.Worker(this.session.config.workerSource, { eval: true });
    w.unref();
    this.real = w;
    this.session.spawned++;
    w.on('message', (data: Message) => {
      if (this.swallowLoaded && data && data.cmd === 'loaded') {
        this.swallowLoaded = false;
        return;
      }
      this.emit('message', data);
    });
    w.on('error', (e) => this.session.reportError(e));
    w.on('exit', (code) => {
      if (!this.terminated && code !== 0) {
        this.session.reportError(new Error(`wasm worker thread exited with code ${code}`));
      }
    });
    if (this.loadMessage) w.postMessage(this.loadMessage);
  }

  /** Emscripten refs a worker while it runs a pthread; we never do (see file comment). */
  ref(): this {
    return this;
  }

  unref(): this {
    this.real?.unref();
    return this;
  }

  terminate(): Promise<number> {
    this.terminated = true;
    return this.real ? this.real.terminate() : Promise.resolve(0);
  }
}
