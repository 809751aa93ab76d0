/**
 * Backend selection.
 *
 * In Node the automatic choice is `@tensorflow/tfjs-node-gpu` > `@tensorflow/tfjs-node` (optional
 * peers, used when installed) > wasm, multi-threaded on all cores > cpu. In a browser tfjs keeps
 * its own choice (webgl / wasm / cpu, whichever is registered and best).
 * `setBackend(name, {threads})` overrides; so do the environment variables `YOLO_TFJS_BACKEND`
 * (`auto`, `tensorflow`, `tfjs-node-gpu`, `tfjs-node`, `wasm`, `cpu`, ...) and
 * `YOLO_TFJS_THREADS` (wasm thread count, 1-8). `backendInfo()` reports what runs.
 *
 * Multi-threaded wasm in Node needs workarounds for tfjs-backend-wasm 4.22; they live in the
 * Node-only files src/backend/wasmNode.ts and src/backend/pthreadWorkerShim.ts, loaded lazily
 * so that browser bundles never contain them.
 */
import * as tf from '@tensorflow/tfjs';
import {
  BackendRequest,
  coreThreadCount,
  MAX_WASM_THREADS,
  NODE_PACKAGES,
  parseBackendName,
  parseThreadCount,
  readBackendEnv,
} from './backendOptions';
import { isNode, processEnv } from '../util/env';
import { loadNativeBackend } from './loadNativeBackend';
import { ModuleLoader, nodeRequire } from '../util/nodeRequire';
import type * as WasmNode from './wasmNode';

export type { ModuleLoader } from '../util/nodeRequire';

/** Options of {@link setBackend}. */
export interface BackendOptions {
  /**
   * wasm only: threads of the XNNPACK pool, 1-8. Default: `YOLO_TFJS_THREADS`, else every
   * logical core. Ignored by other backends. Changing it re-creates the wasm module (tensors
   * held on the old wasm backend are lost).
   */
  threads?: number;
  /** wasm in Node: give up on the threaded module after this many ms (default 20000). */
  initTimeoutMs?: number;
}

/** Options of {@link autoSelectBackend}. */
export interface AutoSelectOptions extends BackendOptions {
  /** Loads the optional native packages (default: `require`). Tests inject a mock here. */
  load?: ModuleLoader;
  /** Environment to read `YOLO_TFJS_*` from (default: `process.env`). */
  env?: Record<string, string | undefined>;
}

/** What {@link backendInfo} reports. */
export interface BackendInfo {
  /** tfjs backend name: `tensorflow`, `wasm`, `cpu`, `webgl`, ... */
  name: string;
  /**
   * Threads the kernels use: the wasm pool size; the logical core count for `tensorflow`
   * (TensorFlow's default pool); 1 for cpu and GPU backends.
   */
  threads: number;
  /** wasm SIMD in use (false for non-wasm backends). */
  simd: boolean;
  /** More than one thread computes. */
  multithread: boolean;
  /** For `tensorflow`: which package provides it. */
  package?: string;
  /** How the backend was picked. `existing`: it was already initialised by someone else. */
  source: 'auto' | 'env' | 'explicit' | 'existing';
  /** Set when something better was wanted but could not be used (e.g. threaded wasm). */
  fallbackReason?: string;
}

let readyPromise: Promise<string> | null = null;
let info: BackendInfo | null = null;
/** Serialises backend changes: each call waits for the previous one. */
let queue: Promise<unknown> = Promise.resolve();

function enqueue<T>(job: () => Promise<T>): Promise<T> {
  const run = queue.then(job, job);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Initialises the best available backend once (see the file comment for the order) and
 * resolves to its tfjs name. Later calls return the same promise; `setBackend` replaces it.
 */
export function ready(): Promise<string> {
  if (!readyPromise) {
    const p = enqueue(() => selectNow({}));
    readyPromise = p;
    p.catch(() => {
      if (readyPromise === p) readyPromise = null; // let a later call retry
    });
  }
  return readyPromise;
}

/**
 * Runs the automatic choice now (honouring `YOLO_TFJS_BACKEND` / `YOLO_TFJS_THREADS` from
 * `opts.env`), even if a backend was chosen before. Resolves to the tfjs backend name.
 */
export function autoSelectBackend(opts: AutoSelectOptions = {}): Promise<string> {
  const p = enqueue(() => selectNow(opts));
  readyPromise = p;
  return p;
}

/**
 * Uses a specific backend: `wasm`, `cpu`, `tensorflow` (alias `node`; GPU package first),
 * `tfjs-node-gpu`, `tfjs-node`, `webgl`, `auto`, or any name registered with tfjs.
 * Throws an error naming the problem when the backend cannot be initialised.
 * @returns the tfjs backend name now active.
 */
export function setBackend(name: string, opts: BackendOptions = {}): Promise<string> {
  let request: BackendRequest;
  try {
    request = parseBackendName(name);
    if (opts.threads !== undefined) parseThreadCount(opts.threads, 'setBackend option threads');
  } catch (e) {
    return Promise.reject(e);
  }
  const p = enqueue(() =>
    request.kind === 'auto' ? selectNow({ ...opts }) : applyRequest(request, opts, 'explicit', processEnv()),
  );
  readyPromise = p;
  return p;
}

/**
 * What runs now: backend name, threads, SIMD, multi-threading. Before any backend has been
 * initialised (await `ready()` first) the name is `none` and threads 0.
 */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend() as string | null;
  if (!name) return { name: 'none', threads: 0, simd: false, multithread: false, source: 'existing' };
  if (info && info.name === name) return { ...info };
  return describe(name, 'existing');
}

/**
 * Releases the wasm module and its worker threads (e.g. at the end of a test file); the next
 * `ready()` / `setBackend()` initialises again. Tensors held on wasm are lost.
 */
export function disposeBackend(): Promise<void> {
  return enqueue(async () => {
    readyPromise = null;
    info = null;
    if (isNode() && tf.findBackendFactory('wasm')) {
      wasmNode().disposeWasmBackendNode();
    } else if (tf.engine().registry.wasm) {
      const factory = tf.findBackendFactory('wasm');
      tf.removeBackend('wasm');
      if (factory) tf.registerBackend('wasm', factory, 2); // so that wasm can start again
    }
  });
}

// ---------------------------------------------------------------------------------------

async function selectNow(opts: AutoSelectOptions): Promise<string> {
  const env = opts.env ?? processEnv();
  const fromEnv = readBackendEnv(env);
  if (fromEnv.backend && fromEnv.backend.kind !== 'auto') {
    return applyRequest(fromEnv.backend, opts, 'env', env);
  }
  if (!isNode()) {
    await tf.ready();
    const name = tf.getBackend();
    info = describe(name, 'auto');
    return name;
  }
  // 1. native TensorFlow
  const load = opts.load ?? nodeRequire;
  const native = loadNativeBackend(NODE_PACKAGES, load, (n) => tf.findBackendFactory(n) != null);
  for (const a of native.attempts) {
    if (a.broken) console.warn(`yolo-tfjs: ${a.package} ${a.reason}; trying the next backend`);
  }
  if (native.package) {
    if (await trySetTf('tensorflow')) {
      info = { ...describe('tensorflow', 'auto'), package: native.package };
      return 'tensorflow';
    }
    console.warn(`yolo-tfjs: ${native.package} is installed but its backend failed to initialise; using wasm`);
  }
  // 2. wasm (an instance someone already initialised is kept: re-creating it would drop tensors)
  try {
    if (tf.engine().registry.wasm && !wasmNodeOwnsCurrent()) {
      await tf.setBackend('wasm');
      info = describe('wasm', 'existing');
      return 'wasm';
    }
    return await applyRequest({ kind: 'wasm' }, opts, 'auto', env);
  } catch (e) {
    console.warn(`yolo-tfjs: wasm backend unavailable (${(e as Error).message}); using cpu`);
  }
  // 3. cpu
  if (!(await trySetTf('cpu'))) throw new Error('no tfjs backend could be initialised (not even cpu)');
  info = { ...describe('cpu', 'auto'), fallbackReason: 'wasm unavailable' };
  return 'cpu';
}

async function applyRequest(
  request: BackendRequest,
  opts: BackendOptions,
  source: BackendInfo['source'],
  env: Record<string, string | undefined> | undefined,
): Promise<string> {
  switch (request.kind) {
    case 'auto':
      return selectNow({ ...opts, env });
    case 'tensorflow': {
      if (!isNode()) throw new Error(`backend 'tensorflow' needs Node.js with ${request.packages.join(' or ')}`);
      if (tf.engine().registry.tensorflow || tf.findBackendFactory('tensorflow')) {
        // already loaded (by us or by the application)
        if (await trySetTf('tensorflow')) {
          const pkg = info?.name === 'tensorflow' ? info.package : undefined;
          info = { ...describe('tensorflow', source), ...(pkg ? { package: pkg } : {}) };
          return 'tensorflow';
        }
      }
      const native = loadNativeBackend(request.packages, nodeRequire, (n) => tf.findBackendFactory(n) != null);
      if (!native.package || !(await trySetTf('tensorflow'))) {
        const why = native.attempts.map((a) => `${a.package}: ${a.reason}`).join('; ');
        throw new Error(`backend 'tensorflow' could not be initialised (${why || 'initialisation failed'})`);
      }
      info = { ...describe('tensorflow', source), package: native.package };
      return 'tensorflow';
    }
    case 'wasm':
      return setWasm(opts, source, env);
    case 'other': {
      if (!tf.findBackendFactory(request.name)) {
        const known = ['auto', 'tensorflow', 'tfjs-node-gpu', 'tfjs-node', 'wasm', ...Object.keys(tf.engine().registryFactory)];
        throw new Error(
          `unknown backend '${request.name}' (known: ${[...new Set(known)].join(', ')})`,
        );
      }
      if (!(await trySetTf(request.name))) {
        throw new Error(`backend '${request.name}' could not be initialised`);
      }
      info = describe(request.name, source);
      return request.name;
    }
  }
}

async function setWasm(
  opts: BackendOptions,
  source: BackendInfo['source'],
  env: Record<string, string | undefined> | undefined,
): Promise<string> {
  const threads =
    opts.threads !== undefined
      ? parseThreadCount(opts.threads, 'threads')
      : readBackendEnv(env).threads ?? defaultThreadCount(processEnv());
  if (!isNode()) {
    // Browser: tfjs decides about threads (cross-origin isolation); we only pass the count.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    if (!tf.engine().registry.wasm) wasmPkg.setThreadsCount(threads);
    if (!(await trySetTf('wasm'))) throw new Error("backend 'wasm' could not be initialised");
    info = describe('wasm', source);
    return 'wasm';
  }
  const node = wasmNode();
  const current = node.currentWasmNodeInit();
  const reusable =
    tf.engine().registry.wasm != null &&
    (current ? current.requestedThreads === threads : currentWasmThreads() === threads);
  if (reusable) {
    if (!(await trySetTf('wasm'))) throw new Error("backend 'wasm' could not be activated");
  } else {
    await node.initWasmBackendNode({ threads, initTimeoutMs: opts.initTimeoutMs });
  }
  const now = node.currentWasmNodeInit();
  info = {
    ...describe('wasm', source),
    ...(now?.fallbackReason ? { fallbackReason: now.fallbackReason } : {}),
  };
  return 'wasm';
}

function wasmNode(): typeof WasmNode {
  return nodeRequire('../backend/wasmNode') as typeof WasmNode;
}

function wasmNodeOwnsCurrent(): boolean {
  return isNode() && wasmNode().currentWasmNodeInit() != null;
}

async function trySetTf(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

function currentWasmThreads(): number {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  } catch {
    return 1;
  }
}

/**
 * Default wasm thread count: the logical cores (Node: `os.availableParallelism()`; browser:
 * `navigator.hardwareConcurrency`), capped at 8. Under jest (`JEST_WORKER_ID` set) it is 1:
 * jest already runs test files in parallel processes, extra pool threads only compete with
 * them, and each test file would start (and keep) its own pool. Explicit `threads` or
 * `YOLO_TFJS_THREADS` still apply there.
 */
export function defaultThreadCount(env: Record<string, string | undefined> | undefined = processEnv()): number {
  if (env && env.JEST_WORKER_ID !== undefined) return 1;
  return coreThreadCount();
}

function describe(name: string, source: BackendInfo['source']): BackendInfo {
  if (name === 'wasm') {
    const threads = currentWasmThreads();
    let simd = false;
    try {
      simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    } catch {
      simd = false; // flag not evaluated yet (only happens before the wasm module starts)
    }
    return { name, threads, simd, multithread: threads > 1, source };
  }
  if (name === 'tensorflow') {
    const threads = isNode() ? hardwareThreads() : 1;
    return { name, threads, simd: false, multithread: threads > 1, source };
  }
  return { name, threads: 1, simd: false, multithread: false, source };
}

function hardwareThreads(): number {
  try {
    const os = nodeRequire('os') as { availableParallelism?: () => number; cpus: () => unknown[] };
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  } catch {
    return 1;
  }
}
