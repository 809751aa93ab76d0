/**
 * The kernel thread pool: a real conv2d split over 1 and 2 threads gives bit-identical output
 * (and matches a plain JavaScript convolution), every range size is covered exactly once, traps
 * in a worker surface as errors from `run`, a dead worker costs a clear error instead of a hang,
 * and pools can be created and disposed repeatedly without leaking threads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Arena, KernelModule, createKernelModule, packConvWeights } from '../../src/engine/kernelModule';
import { ACT, CONV_PARAMS, paramBytes, writeParams } from '../../src/engine/kernelParams';
import { KernelThreadPool, createKernelThreadPool, defaultKernelThreads, whenPoolReady } from '../../src/engine/threadPool';
import type { KernelWorkerHandle } from '../../src/engine/kernelWorkerSpawn';
import { buildForBrowser } from '../helpers/browserBundle';

/** Deterministic values in [-1, 1). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

interface Conv {
  params: number;
  out: number;
  H: number;
  W: number;
  C: number;
  N: number;
  input: Float32Array;
  filter: Float32Array;
  bias: Float32Array;
}

/** A 3x3 'same' conv with leaky activation, all in `arena`. */
function setupConv(km: KernelModule, arena: Arena, H: number, W: number, C: number, N: number, seed = 1): Conv {
  const r = prng(seed);
  const input = Float32Array.from({ length: H * W * C }, r);
  const filter = Float32Array.from({ length: 9 * C * N }, () => r() * 0.1);
  const bias = Float32Array.from({ length: N }, r);
  const packed = packConvWeights(filter, [3, 3, C, N], bias);
  const inPtr = arena.allocF32(input);
  const weights = arena.allocF32(packed.weights);
  const biasPtr = arena.allocF32(packed.bias);
  const zero = arena.allocF32(new Float32Array(C));
  const out = arena.alloc(H * W * N * 4);
  const params = arena.alloc(paramBytes(CONV_PARAMS));
  writeParams(km.memory, params, CONV_PARAMS, {
    in: inPtr, H, W, C, inStride: C, out, OH: H, OW: W, N, outStride: N, weights, bias: biasPtr,
    kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, act: ACT.leaky, alpha: 0.1, zero, splitBlocks: 0,
  });
  return { params, out, H, W, C, N, input, filter, bias };
}

/** The conv's output pixel p, channel n, computed in float64 JavaScript. */
function referencePixel(c: Conv, p: number, n: number): number {
  const y = Math.floor(p / c.W), x = p % c.W;
  let s = c.bias[n];
  for (let ky = 0; ky < 3; ky++) {
    for (let kx = 0; kx < 3; kx++) {
      const iy = y - 1 + ky, ix = x - 1 + kx;
      if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) continue;
      for (let ci = 0; ci < c.C; ci++) s += c.input[(iy * c.W + ix) * c.C + ci] * c.filter[((ky * 3 + kx) * c.C + ci) * c.N + n];
    }
  }
  return s > 0 ? s : 0.1 * s;
}

function outView(km: KernelModule, c: Conv): Float32Array {
  return new Float32Array(km.memory.buffer, c.out, c.H * c.W * c.N);
}

/**
 * Runs `f` once and checks that a worker ran a chunk during it. Only for pools made with
 * `debugNoTakeOver` (the caller waits for its workers instead of taking their chunks over), so
 * it holds however loaded the machine is: no retry until the scheduler lets a worker in.
 */
function workerRan(pool: KernelThreadPool, f: () => void): void {
  const before = pool.stats.workerChunks;
  f();
  expect(pool.stats.workerChunks).toBeGreaterThan(before);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('KernelThreadPool', () => {
  let km: KernelModule;
  let arena: Arena;
  let pool2: KernelThreadPool;

  beforeAll(async () => {
    km = createKernelModule({ threaded: true });
    arena = new Arena(km);
    // The worker always runs its chunk (see workerRan); takeovers are tested on their own pools.
    pool2 = createKernelThreadPool(km, 2, arena, { debugNoTakeOver: true });
    expect(pool2.size).toBe(2);
    await whenPoolReady(pool2);
    expect(pool2.ready).toBe(1);
  });

  afterAll(() => pool2.dispose());

  test('conv2d 52x52x64 -> 128 (3x3): 2 threads are bit-identical to 1 thread and match JavaScript', () => {
    const conv = setupConv(km, arena, 52, 52, 64, 128);
    const pool1 = createKernelThreadPool(km, 1, arena);
    expect(pool1.size).toBe(1);
    expect(pool1.ready).toBe(0);
    const total = conv.H * conv.W;
    const out = outView(km, conv);
    out.fill(NaN);
    pool1.run('conv2d', conv.params, total, 4);
    const single = out.slice();
    workerRan(pool2, () => {
      out.fill(NaN);
      pool2.run('conv2d', conv.params, total, 4);
    });
    const multi = out.slice();
    pool1.dispose();

    expect(single.some((v) => Number.isNaN(v))).toBe(false);
    let differing = 0;
    for (let i = 0; i < single.length; i++) if (Object.is(single[i], multi[i]) === false) differing++;
    expect(differing).toBe(0);

    // Spot-check against plain JavaScript: pixels from both halves (the worker's too), corners.
    const pixels = [0, 51, 52 * 26 - 1, 52 * 26, 52 * 26 + 1, 52 * 40 + 7, total - 52, total - 1];
    let maxErr = 0;
    for (const p of pixels) for (let n = 0; n < conv.N; n++) maxErr = Math.max(maxErr, Math.abs(multi[p * conv.N + n] - referencePixel(conv, p, n)));
    expect(maxErr).toBeLessThan(1e-4);
  });

  test('each worker runs on its own stack (allocated from the arena), not the module stack', async () => {
    const conv = setupConv(km, arena, 12, 12, 64, 10, 9); // N = 10: the partial store uses the stack
    const stackBase = Math.ceil(arena.used / 64) * 64;
    const pool = createKernelThreadPool(km, 3, arena, { debugNoTakeOver: true });
    expect(arena.used).toBe(stackBase + 2 * 65536);
    await whenPoolReady(pool);
    const frameBytes = (i: number): number => {
      const top = stackBase + (i + 1) * 65536;
      return new Uint8Array(km.memory.buffer, top - 1024, 1024).reduce((n, b) => n + (b !== 0 ? 1 : 0), 0);
    };
    expect([frameBytes(0), frameBytes(1)]).toEqual([0, 0]);
    // Chunks [0, 48) [48, 96) [96, 144): each worker runs its own (no takeover).
    pool.run('conv2d', conv.params, 144, 4);
    expect(pool.stats.workerChunks).toBe(2);
    expect(frameBytes(0)).toBeGreaterThan(0);
    expect(frameBytes(1)).toBeGreaterThan(0);
    pool.dispose();
  });

  test('workers see memory grown after they started', () => {
    const before = km.memory.buffer.byteLength;
    arena.alloc(before - arena.used + 1); // push the next allocations past the current end
    const conv = setupConv(km, arena, 10, 10, 64, 16, 10);
    expect(km.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(conv.out).toBeGreaterThan(before);
    const out = outView(km, conv);
    km.kernel('conv2d')(conv.params, 0, 100);
    const ref = out.slice();
    workerRan(pool2, () => {
      out.fill(NaN);
      pool2.run('conv2d', conv.params, 100, 4); // the worker writes pixels [52, 100)
    });
    expect(Array.from(out)).toEqual(Array.from(ref));
  });

  test('every range size (incl. 0 and < grain) is computed exactly over [0, total)', () => {
    const conv = setupConv(km, arena, 5, 7, 3, 10, 2); // 35 pixels, N not a multiple of 8
    const all = conv.H * conv.W;
    const out = outView(km, conv);
    out.fill(NaN);
    km.kernel('conv2d')(conv.params, 0, all);
    const ref = out.slice();
    for (const grain of [1, 3, 4, 16]) {
      for (let total = 0; total <= all; total++) {
        out.fill(NaN);
        pool2.run('conv2d', conv.params, total, grain);
        const got = out;
        for (let i = 0; i < all * conv.N; i++) {
          const expected = i < total * conv.N ? ref[i] : NaN;
          if (!Object.is(got[i], expected)) throw new Error(`grain ${grain}, total ${total}: value ${i} is ${got[i]}, expected ${expected}`);
        }
      }
    }
  });

  test('stress: thousands of tiny back-to-back jobs (workers racing the caller for chunks) stay exact', async () => {
    const pool = createKernelThreadPool(km, 3, arena, { timeoutMs: 5000 });
    await whenPoolReady(pool);
    const convs = [setupConv(km, arena, 3, 4, 2, 8, 12), setupConv(km, arena, 5, 5, 8, 8, 13)];
    const refs = convs.map((c) => {
      km.kernel('conv2d')(c.params, 0, c.H * c.W);
      return outView(km, c).slice();
    });
    for (let k = 0; k < 6000; k++) {
      const c = convs[k & 1];
      const out = outView(km, c);
      if (k % 100 < 2) out.fill(NaN);
      pool.run('conv2d', c.params, c.H * c.W, 1 + (k % 3));
      if (k % 100 < 2) expect(Array.from(out)).toEqual(Array.from(refs[k & 1]));
    }
    const st = pool.stats;
    expect(st.runs).toBe(6000);
    expect(st.workerChunks + st.takenOver).toBeGreaterThan(6000);
    pool.dispose();
  });

  test('an out-of-bounds chunk in the worker throws from run (no hang), and the pool keeps working', () => {
    const conv = setupConv(km, arena, 8, 8, 128, 8, 3);
    const total = 64; // grain 4, 2 threads: the caller runs [0, 32), the worker [32, 64)
    // Keep the last 32 output pixels' worth of memory clear of the arena's data.
    if (km.memory.buffer.byteLength - arena.used < 4096) arena.alloc(8192);
    expect(arena.used + 32 * conv.N * 4).toBeLessThanOrEqual(km.memory.buffer.byteLength);
    const bad = arena.alloc(paramBytes(CONV_PARAMS));
    new Int32Array(km.memory.buffer, bad, CONV_PARAMS.length).set(new Int32Array(km.memory.buffer, conv.params, CONV_PARAMS.length));
    // `out` so that pixel 32 starts exactly at the end of memory.
    new Int32Array(km.memory.buffer, bad, CONV_PARAMS.length)[CONV_PARAMS.indexOf('out')] = km.memory.buffer.byteLength - 32 * conv.N * 4;
    let message = 'no error';
    workerRan(pool2, () => {
      try {
        pool2.run('conv2d', bad, total, 4);
      } catch (e) {
        message = (e as Error).message;
      }
    });
    expect(message).toMatch(/^kernel 'conv2d' failed in worker 1, units \[32, 64\): RuntimeError: memory access out of bounds/);
    // total < 2 * grain: the caller alone runs everything, so the caller traps.
    expect(() => pool2.run('conv2d', bad, 40, 32)).toThrow(/kernel 'conv2d' failed on the calling thread, units \[0, 40\): RuntimeError/);
    // Entirely out of bounds: both trap; still one error.
    new Int32Array(km.memory.buffer, bad, CONV_PARAMS.length)[CONV_PARAMS.indexOf('out')] = 2 ** 31 - 64;
    expect(() => pool2.run('conv2d', bad, total, 4)).toThrow(/memory access out of bounds/);

    expect(pool2.ready).toBe(1);
    const out = outView(km, conv);
    out.fill(NaN);
    km.kernel('conv2d')(conv.params, 0, total);
    const ref = out.slice();
    out.fill(NaN);
    pool2.run('conv2d', conv.params, total, 4);
    expect(Array.from(out)).toEqual(Array.from(ref));
  });

  test('bad arguments give clear errors', () => {
    const conv = setupConv(km, arena, 4, 4, 4, 8, 4);
    expect(() => pool2.run('nope' as 'conv2d', conv.params, 16)).toThrow(/no kernel 'nope' in the wasm module/);
    expect(() => pool2.run('conv2d', conv.params, -1)).toThrow(/total must be an integer >= 0, got -1/);
    expect(() => pool2.run('conv2d', conv.params, 16, 0)).toThrow(/grain must be an integer >= 1, got 0/);
    expect(() => pool2.run('conv2d', 1.5, 16)).toThrow(/params must be a byte offset/);
    expect(() => createKernelThreadPool(km, 0, arena)).toThrow(/createKernelThreadPool threads must be an integer from 1 to 8, got 0/);
    expect(() => createKernelThreadPool(km, 9, arena)).toThrow(/from 1 to 8, got 9/);
    const st = createKernelModule({ threaded: false });
    expect(() => createKernelThreadPool(st, 2, new Arena(st))).toThrow(/2 threads need a threaded kernel module/);
    expect(createKernelThreadPool(st, 1, new Arena(st)).size).toBe(1);
    expect(() => (createKernelThreadPool as (k: KernelModule, t: number) => KernelThreadPool)(km, 2)).toThrow(/the Arena the caller allocates from is required/);
  });

  test('a chunk its worker never started (dead worker) is taken over by the caller: no hang', async () => {
    const pool = createKernelThreadPool(km, 2, arena, { timeoutMs: 400 });
    await whenPoolReady(pool);
    const conv = setupConv(km, arena, 8, 8, 4, 8, 5);
    const out = outView(km, conv);
    out.fill(NaN);
    km.kernel('conv2d')(conv.params, 0, 64);
    const ref = out.slice();
    // Kill the worker behind the pool's back; keep the event loop blocked so the pool is not
    // told (it still counts the worker as ready when run is called).
    (pool as unknown as { workers: Array<{ terminate(): void }> }).workers[0].terminate();
    sleepSync(300);
    expect(pool.ready).toBe(1);
    for (let k = 0; k < 3; k++) {
      out.fill(NaN);
      // Waiting for the dead worker would end in the 400 ms timeout error; the caller runs the
      // chunk nobody claimed instead: no error and the full output.
      expect(() => pool.run('conv2d', conv.params, 64, 4)).not.toThrow();
      expect(Array.from(out)).toEqual(Array.from(ref));
    }
    pool.dispose();
  });

  test('a worker stuck in its chunk costs a clear timeout error, then the pool runs without it', async () => {
    // The caller waits for the worker (no takeover), which sleeps 3 s in its chunk: the run ends
    // with the 300 ms timeout error (had it waited for the worker, it would have succeeded).
    const pool = createKernelThreadPool(km, 2, arena, { timeoutMs: 300, debugWorkerDelayMs: 3000, debugNoTakeOver: true });
    await whenPoolReady(pool);
    const conv = setupConv(km, arena, 40, 40, 64, 64, 11);
    const total = 1600;
    const out = outView(km, conv);
    km.kernel('conv2d')(conv.params, 0, total);
    const ref = out.slice();
    expect(() => pool.run('conv2d', conv.params, total, 4)).toThrow(
      /^kernel 'conv2d': worker 1 did not finish units \[800, 1600\) within 300 ms \(dead or stuck\); it is excluded from now on$/,
    );
    expect(pool.ready).toBe(0);
    out.fill(NaN);
    pool.run('conv2d', conv.params, total, 4);
    expect(Array.from(out)).toEqual(Array.from(ref));
    pool.dispose();
  });

  test('a worker whose exit was noticed between runs is simply not used', async () => {
    const pool = createKernelThreadPool(km, 3, arena);
    await whenPoolReady(pool);
    expect(pool.ready).toBe(2);
    (pool as unknown as { workers: Array<{ terminate(): void }> }).workers[1].terminate();
    const t0 = Date.now();
    while (pool.ready !== 1 && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 10));
    expect(pool.ready).toBe(1);
    const conv = setupConv(km, arena, 9, 9, 4, 8, 6);
    const out = outView(km, conv);
    km.kernel('conv2d')(conv.params, 0, 81);
    const ref = out.slice();
    out.fill(NaN);
    pool.run('conv2d', conv.params, 81, 4);
    expect(Array.from(out)).toEqual(Array.from(ref));
    pool.dispose();
  });

  test('a disposed pool throws a clear error; dispose is idempotent', async () => {
    const pool = createKernelThreadPool(km, 2, arena);
    await whenPoolReady(pool);
    const conv = setupConv(km, arena, 4, 4, 4, 8, 7);
    pool.run('conv2d', conv.params, 16, 4);
    pool.dispose();
    pool.dispose();
    expect(() => pool.run('conv2d', conv.params, 16, 4)).toThrow("KernelThreadPool.run('conv2d'): the pool has been disposed");
    await expect(whenPoolReady(pool)).rejects.toThrow(/disposed/);
  });

  const procStatus = '/proc/self/status';
  const threadCount = (): number => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync(procStatus, 'utf8'))![1]);
  (fs.existsSync(procStatus) ? test : test.skip)('creating and disposing pools repeatedly does not leak threads', async () => {
    const conv = setupConv(km, arena, 8, 8, 4, 8, 8);
    const before = threadCount();
    for (let k = 0; k < 6; k++) {
      const pool = createKernelThreadPool(km, 3, arena);
      await whenPoolReady(pool);
      pool.run('conv2d', conv.params, 64, 4);
      pool.dispose();
    }
    // Threads end asynchronously after terminate().
    const t0 = Date.now();
    let now = threadCount();
    while (now > before && Date.now() - t0 < 60000) {
      await new Promise((r) => setTimeout(r, 20));
      now = threadCount();
    }
    expect(now).toBeLessThanOrEqual(before);
  });

  test('idle workers do not keep Node alive', () => {
    const root = path.resolve(__dirname, '..', '..');
    const script = `
      const { createKernelModule, Arena } = require('./src/engine/kernelModule');
      const { createKernelThreadPool, whenPoolReady } = require('./src/engine/threadPool');
      const km = createKernelModule({ threaded: true });
      const pool = createKernelThreadPool(km, 2, new Arena(km));
      whenPoolReady(pool).then(() => console.log('ready', pool.ready));`;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { execFileSync } = require('child_process') as typeof import('child_process');
    // The timeout only catches a process kept alive (it would never exit); generous for a busy machine.
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, timeout: 120000, encoding: 'utf8' });
    expect(out.trim()).toBe('ready 1');
  });
});

describe('defaultKernelThreads', () => {
  test('YOLO_TFJS_THREADS overrides; else the logical cores capped at 8', () => {
    expect(defaultKernelThreads({ YOLO_TFJS_THREADS: '3' })).toBe(3);
    expect(() => defaultKernelThreads({ YOLO_TFJS_THREADS: 'many' })).toThrow(/YOLO_TFJS_THREADS must be an integer from 1 to 8, got "many"/);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const os = require('os') as typeof import('os');
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    expect(defaultKernelThreads({})).toBe(Math.min(cores, 8));
    expect(defaultKernelThreads({ YOLO_TFJS_THREADS: ' ' })).toBe(Math.min(cores, 8));
  });
});

test('the pool bundles for the browser with no Node-only module', () => {
  const r = buildForBrowser(path.resolve(__dirname, '..', '..', 'src', 'engine', 'threadPool.ts'));
  expect(r.errors).toEqual([]);
  expect(r.code).toContain('createObjectURL');
});

test('the worker script also runs as a browser worker (self.onmessage / self.postMessage, no require)', async () => {
  // A dedicated-worker stand-in on worker_threads: the script sees `self`, and neither
  // `process` nor `require`, so it takes its browser branch.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Worker } = require('worker_threads') as typeof import('worker_threads');
  const started: string[] = [];
  const spawnBrowserLike = (source: string, name: string): KernelWorkerHandle => {
    const prelude = `
      const { parentPort } = require('worker_threads');
      const self = { postMessage: (m) => parentPort.postMessage(m) };
      Object.defineProperty(self, 'onmessage', { set(f) { if (f) parentPort.once('message', (d) => f({ data: d })); } });
      new Function('self', 'process', 'require', ${JSON.stringify(source)})(self, undefined, undefined);`;
    const w = new Worker(prelude, { eval: true });
    w.unref();
    w.on('message', (m: { type: string }) => started.push(`${name}:${m.type}`));
    return { postMessage: (m) => w.postMessage(m), terminate: () => void w.terminate(), ref: () => w.ref(), unref: () => w.unref() };
  };
  const km = createKernelModule({ threaded: true });
  const arena = new Arena(km);
  const pool = createKernelThreadPool(km, 2, arena, { spawnWorker: spawnBrowserLike, debugNoTakeOver: true });
  await whenPoolReady(pool);
  const conv = setupConv(km, arena, 12, 12, 64, 16, 14);
  const out = outView(km, conv);
  km.kernel('conv2d')(conv.params, 0, 144);
  const ref = out.slice();
  workerRan(pool, () => {
    out.fill(NaN);
    pool.run('conv2d', conv.params, 144, 4);
  });
  expect(Array.from(out)).toEqual(Array.from(ref));
  pool.dispose();
  await new Promise((r) => setTimeout(r, 50));
  expect(started).toEqual(['yolo-tfjs-kernels-1:ready']);
});

test('a worker that cannot be started leaves a working pool with the reason', async () => {
  const km = createKernelModule({ threaded: true });
  const arena = new Arena(km);
  const pool = createKernelThreadPool(km, 2, arena, {
    spawnWorker: () => {
      throw new Error('blob: workers are blocked by the Content-Security-Policy');
    },
  });
  expect(pool.ready).toBe(0);
  expect(pool.fallbackReason).toBe('could not start a worker: Error: blob: workers are blocked by the Content-Security-Policy');
  await expect(whenPoolReady(pool)).rejects.toThrow(/kernel worker 1 could not start: could not start a worker: Error: blob: workers are blocked/);
  const conv = setupConv(km, arena, 6, 6, 4, 8, 15);
  const out = outView(km, conv);
  km.kernel('conv2d')(conv.params, 0, 36);
  const ref = out.slice();
  out.fill(NaN);
  pool.run('conv2d', conv.params, 36, 4);
  expect(Array.from(out)).toEqual(Array.from(ref));
  pool.dispose();
});
