/**
 * Starting one kernel worker thread from a JavaScript source string: `worker_threads.Worker`
 * with `eval: true` in Node (loaded through `nodeRequire`, so browser bundles never see it),
 * a dedicated `Worker` on a `blob:` URL in browsers.
 */
import { nodeRequire } from '../util/nodeRequire';
import { isNode } from '../util/env';

/** The handful of Worker operations the pool needs, the same in Node and browsers. */
export interface KernelWorkerHandle {
  postMessage(msg: unknown): void;
  /** Stop the thread (asynchronous; errors are ignored). */
  terminate(): void;
  /** Node: let (or stop letting) this worker keep the process alive. No-op in browsers. */
  ref(): void;
  unref(): void;
}

/** Callbacks for what a worker reports outside the shared control block. */
export interface KernelWorkerEvents {
  /** The worker's thread ended (Node `exit`) or hit an uncaught error (`error`). */
  onGone(reason: string): void;
}

type NodeWorker = {
  postMessage(m: unknown): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
  on(ev: string, f: (x: unknown) => void): void;
};
type NodeWorkerCtor = new (src: string, opts: { eval: true; name?: string; stdout?: boolean; stderr?: boolean }) => NodeWorker;

/**
 * Why worker threads cannot be started here, or null when they can: Node always can; a
 * browser needs `Worker`, `Blob`, `URL.createObjectURL`.
 */
export function kernelWorkersUnavailable(): string | null {
  if (isNode()) return null;
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker !== 'function') return 'no Worker in this environment';
  if (typeof g.Blob !== 'function' || !g.URL || typeof g.URL.createObjectURL !== 'function') return 'no Blob / URL.createObjectURL for the worker script';
  return null;
}

/** Starts a worker running `source` (unref'd in Node). */
export function spawnKernelWorker(source: string, name: string, events: KernelWorkerEvents): KernelWorkerHandle {
  if (isNode()) {
    const { Worker } = nodeRequire('worker_threads') as { Worker: NodeWorkerCtor };
    const w = new Worker(source, { eval: true, name });
    w.unref();
    w.on('error', (e) => events.onGone(`worker error: ${(e as Error)?.message ?? String(e)}`));
    w.on('exit', (code) => events.onGone(`worker exited with code ${String(code)}`));
    return {
      postMessage: (m) => w.postMessage(m),
      terminate: () => {
        w.terminate().catch(() => undefined);
      },
      ref: () => w.ref(),
      unref: () => w.unref(),
    };
  }
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new Worker(url, { name });
  w.onerror = (e) => events.onGone(`worker error: ${e.message}`);
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => {
      w.terminate();
      URL.revokeObjectURL(url);
      events.onGone('terminated');
    },
    ref: () => undefined,
    unref: () => undefined,
  };
}
