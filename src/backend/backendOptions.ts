/**
 * Backend names, thread counts and the two environment variables (`YOLO_TFJS_BACKEND`,
 * `YOLO_TFJS_THREADS`): parsing and validation, and the core count that sizes thread pools; no
 * side effects. Browser-safe.
 */
import { nodeRequire } from '../util/nodeRequire';
import { isNode } from '../util/env';

/** What the caller may ask for. `tfjs-node-gpu` / `tfjs-node` pick one package of `tensorflow`. */
export type BackendRequest =
  | { kind: 'auto' }
  | { kind: 'tensorflow'; packages: string[] }
  | { kind: 'wasm' }
  | { kind: 'other'; name: string };

/** Optional native peers, best first. Both register the tfjs backend named `tensorflow`. */
export const NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Upper bound of the wasm thread pool (tfjs-backend-wasm 4.22 pre-creates 8 pthread workers). */
export const MAX_WASM_THREADS = 8;

/**
 * Turns a backend name (from code, the CLI or `YOLO_TFJS_BACKEND`) into a request.
 * Accepted: `auto`, `tensorflow` (alias `node`: GPU package first), `tfjs-node-gpu`, `tfjs-node`,
 * `wasm`, `cpu`, `webgl`, `webgpu` or any other name registered with tfjs.
 */
export function parseBackendName(name: string, source = 'backend name'): BackendRequest {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new Error(`${source} must be a non-empty string (e.g. 'wasm', 'cpu', 'tensorflow'), got ${JSON.stringify(name)}`);
  }
  const n = name.trim().toLowerCase();
  switch (n) {
    case 'auto':
      return { kind: 'auto' };
    case 'tensorflow':
    case 'node':
      return { kind: 'tensorflow', packages: [...NODE_PACKAGES] };
    case 'tfjs-node-gpu':
    case '@tensorflow/tfjs-node-gpu':
      return { kind: 'tensorflow', packages: ['@tensorflow/tfjs-node-gpu'] };
    case 'tfjs-node':
    case '@tensorflow/tfjs-node':
      return { kind: 'tensorflow', packages: ['@tensorflow/tfjs-node'] };
    case 'wasm':
      return { kind: 'wasm' };
    default:
      return { kind: 'other', name: n };
  }
}

/**
 * Validates a wasm thread count: an integer from 1 to {@link MAX_WASM_THREADS}.
 * @param source what to name in the error (an option or an environment variable).
 */
export function parseThreadCount(value: unknown, source = 'threads'): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new Error(
      `${source} must be an integer from 1 to ${MAX_WASM_THREADS}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Backend and thread settings found in an environment (normally `process.env`). */
export interface BackendEnv {
  backend?: BackendRequest;
  threads?: number;
}

/** Reads `YOLO_TFJS_BACKEND` and `YOLO_TFJS_THREADS`; empty values count as unset. */
export function readBackendEnv(env: Record<string, string | undefined> | undefined): BackendEnv {
  const out: BackendEnv = {};
  if (!env) return out;
  const b = env.YOLO_TFJS_BACKEND;
  if (b !== undefined && b.trim() !== '') out.backend = parseBackendName(b, 'YOLO_TFJS_BACKEND');
  const t = env.YOLO_TFJS_THREADS;
  if (t !== undefined && t.trim() !== '') out.threads = parseThreadCount(t, 'YOLO_TFJS_THREADS');
  return out;
}

/**
 * Logical cores capped at {@link MAX_WASM_THREADS} (Node: `os.availableParallelism()`; browser:
 * `navigator.hardwareConcurrency`; 1 when unknown): the default size of a thread pool.
 */
export function coreThreadCount(): number {
  let n = 1;
  if (isNode()) {
    try {
      const os = nodeRequire('os') as { availableParallelism?: () => number; cpus: () => unknown[] };
      n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    } catch {
      n = 1;
    }
  } else if (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) {
    n = navigator.hardwareConcurrency;
  }
  return Math.min(Math.max(1, Math.floor(n) || 1), MAX_WASM_THREADS);
}

