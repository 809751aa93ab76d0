/**
 * NODE ONLY (loaded lazily by src/backend.ts through `nodeRequire`). Creates the tfjs wasm
 * backend in Node with a real multi-threaded XNNPACK pool.
 *
 * tfjs-backend-wasm 4.22 runs single-threaded under Node for three reasons, each handled here:
 *  1. its flag `WASM_HAS_MULTITHREAD_SUPPORT` evaluates to false whenever `IS_NODE`: we set the
 *     flag to true for the duration of our own initialisation (and back to false after, so a
 *     later initialisation by tfjs itself stays on the safe single-threaded path);
 *  2. its pthread workers get `blob:` URLs: see ./pthreadWorkerShim.ts, installed as the global
 *     `Worker` only while the module starts;
 *  3. the pool is capped at `min(requested, logical cores / 2, 8)` (the C side halves
 *     `emscripten_num_logical_cores()`, which reads `os.cpus().length` in Node): while the
 *     module's static constructors run, `os.cpus()` reports twice the wanted count, and
 *     `setThreadsCount(n)` asks for n.
 * Any failure (or no answer within `initTimeoutMs`) falls back to the single-threaded SIMD
 * module with a one-line warning.
 */
import * as fs from 'fs';
import type { CpuInfo } from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { PthreadWorkerSession } from './pthreadWorkerShim';

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');
type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** Priority tfjs-backend-wasm registers itself with. */
const WASM_PRIORITY = 2;
const MULTITHREAD_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';

/** The outcome of {@link initWasmBackendNode}. */
export interface WasmNodeInit {
  /** Threads asked for. */
  requestedThreads: number;
  /** Threads in the XNNPACK pool (as reported by the module). */
  threads: number;
  /** True when the threaded-simd module runs. */
  multithread: boolean;
  simd: boolean;
  /** Worker threads started for the pool (0 for the single-threaded module). */
  workerThreads: number;
  /** Why the threaded module was not used, when threads > 1 were asked for. */
  fallbackReason?: string;
}

/** Options of {@link initWasmBackendNode}. */
export interface WasmNodeOptions {
  /** Threads wanted (1 = the plain SIMD module, no workers). */
  threads: number;
  /** Give up on the threaded module after this long (default 20000 ms). */
  initTimeoutMs?: number;
  /** Where the one-line fallback warning goes (default console.warn). */
  warn?: (line: string) => void;
  /** Test hook: replaces the threaded factory's path on disk (to simulate a broken install). */
  factoryPathOverride?: string;
}

let wasmPackage: WasmPackage | null = null;
let originalFactory: BackendFactory | null = null;
let pendingInstance: tf.KernelBackend | null = null;
let lastInit: WasmNodeInit | null = null;

function loadWasmPackage(): WasmPackage {
  if (!wasmPackage) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    wasmPackage = require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
  }
  if (!originalFactory) {
    const f = tf.findBackendFactory('wasm') as BackendFactory | null;
    if (!f) throw new Error("@tensorflow/tfjs-backend-wasm did not register the 'wasm' backend");
    originalFactory = f;
  }
  return wasmPackage;
}

/** Our registered factory: hands out the instance we built once, then defers to tfjs's. */
function registeredFactory(): tf.KernelBackend | Promise<tf.KernelBackend> {
  if (pendingInstance) {
    const b = pendingInstance;
    pendingInstance = null;
    return b;
  }
  return originalFactory!();
}

/** Folder of the installed tfjs-backend-wasm package. */
function wasmPackageDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/** The pthread worker script shipped in the package, as runnable source. */
function pthreadWorkerSource(dir: string): string {
  const file = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(file) as { wasmWorkerContents?: unknown };
  if (typeof mod.wasmWorkerContents !== 'string') {
    throw new Error(`${file} does not export the pthread worker source`);
  }
  // The source sits in a template literal, which turned its "\n" escapes into real newlines
  // inside string literals; put the escapes back (the script is one minified line).
  return mod.wasmWorkerContents.replace(/\n/g, '\\n');
}

/** While active, `os.cpus()` lists `2 * max(threads, cores)` entries (see file comment, 3). */
function patchCpuCount(threads: number): () => void {
  // The real module object (an `import * as` namespace is a read-only copy).
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const os = require('os') as { cpus: () => CpuInfo[] };
  const original = os.cpus;
  const real = original.call(os);
  const want = 2 * Math.max(threads, real.length);
  const fake = (): CpuInfo[] => {
    const base = original.call(os);
    const filler = base[0] ?? { model: '', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
    return Array.from({ length: want }, (_, i) => base[i] ?? filler);
  };
  os.cpus = fake;
  return () => {
    if (os.cpus === fake) os.cpus = original;
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function backendThreads(pkg: WasmPackage): number {
  try {
    return pkg.getThreadsCount();
  } catch {
    return 1;
  }
}

/** Starts the threaded-simd module with `threads` threads; rejects on any failure. */
async function createThreaded(
  pkg: WasmPackage,
  threads: number,
  opts: WasmNodeOptions,
): Promise<{ backend: tf.KernelBackend; session: PthreadWorkerSession }> {
  const dir = wasmPackageDir();
  const factoryPath =
    opts.factoryPathOverride ?? path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  if (!fs.existsSync(factoryPath)) throw new Error(`missing ${factoryPath}`);
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('no SharedArrayBuffer');
  const session = new PthreadWorkerSession({
    workerSource: pthreadWorkerSource(dir),
    factoryPath,
    eagerWorkers: threads - 1,
  });
  tf.env().set(MULTITHREAD_FLAG, true);
  pkg.setThreadsCount(threads);
  const restoreCpus = patchCpuCount(threads);
  let backend: tf.KernelBackend | null = null;
  // Emscripten creates its worker pool inside the factory, which tfjs calls after awaiting
  // its flags: the shim stays the global `Worker` until the module has started (or failed).
  const restoreWorker = session.installAsGlobalWorker();
  try {
    const started = Promise.resolve().then(() => originalFactory!());
    backend = await withTimeout(
      Promise.race([started, session.failed()]),
      opts.initTimeoutMs ?? 20000,
      'multi-threaded wasm initialisation',
    );
    const got = backendThreads(pkg);
    if (got < Math.min(threads, 2)) {
      throw new Error(`the thread pool has ${got} thread(s), ${threads} were asked for`);
    }
    session.markInitialised();
    return { backend, session };
  } catch (e) {
    if (backend) {
      try {
        backend.dispose();
      } catch {
        /* already broken */
      }
    }
    session.terminateAll();
    throw e;
  } finally {
    restoreWorker();
    restoreCpus();
    tf.env().set(MULTITHREAD_FLAG, false);
  }
}

/**
 * Creates the wasm backend with `threads` threads and makes it tfjs's active backend. Any
 * earlier wasm backend instance is disposed (its tensors are lost). Falls back to the
 * single-threaded SIMD module (one warning line) when the threaded one cannot start.
 */
export async function initWasmBackendNode(opts: WasmNodeOptions): Promise<WasmNodeInit> {
  const pkg = loadWasmPackage();
  const warn = opts.warn ?? ((l: string) => console.warn(l));
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let backend: tf.KernelBackend | null = null;
  let fallbackReason: string | undefined;
  let workerThreads = 0;
  if (opts.threads > 1) {
    try {
      const threaded = await createThreaded(pkg, opts.threads, opts);
      backend = threaded.backend;
      workerThreads = threaded.session.spawned;
    } catch (e) {
      fallbackReason = (e as Error)?.message ?? String(e);
      warn(`yolo-tfjs: multi-threaded wasm unavailable (${fallbackReason}); using 1 thread`);
    }
  }
  if (!backend) {
    tf.env().set(MULTITHREAD_FLAG, false);
    pkg.setThreadsCount(1);
    backend = await originalFactory!();
  }
  const threads = backendThreads(pkg);
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  pendingInstance = backend;
  tf.registerBackend('wasm', registeredFactory, WASM_PRIORITY);
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('the wasm backend was created but tfjs could not activate it');
  }
  lastInit = {
    requestedThreads: opts.threads,
    threads,
    multithread: threads > 1,
    simd,
    workerThreads,
    ...(fallbackReason ? { fallbackReason } : {}),
  };
  return lastInit;
}

/** What the last {@link initWasmBackendNode} produced, if the wasm backend it made is still alive. */
export function currentWasmNodeInit(): WasmNodeInit | null {
  return lastInit && tf.engine().registry.wasm ? lastInit : null;
}

/** Disposes the wasm backend (module memory and worker threads); tfjs's factory stays registered. */
export function disposeWasmBackendNode(): void {
  lastInit = null;
  pendingInstance = null;
  if (!tf.findBackendFactory('wasm')) return;
  tf.removeBackend('wasm');
  if (originalFactory) tf.registerBackend('wasm', registeredFactory, WASM_PRIORITY);
}
