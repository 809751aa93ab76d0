import * as tf from '@tensorflow/tfjs';
import {
  autoSelectBackend,
  backendInfo,
  defaultThreadCount,
  disposeBackend,
  ready,
  setBackend,
} from '../../src/backend';

/** Loader mock: `present` packages register a fake `tensorflow` backend (a cpu instance). */
function mockNativeLoader(present: string[]) {
  const calls: string[] = [];
  const load = (id: string) => {
    calls.push(id);
    if (!present.includes(id)) {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    }
    if (!tf.findBackendFactory('tensorflow')) {
      tf.registerBackend('tensorflow', () => tf.findBackendFactory('cpu')!() as tf.KernelBackend, 3);
    }
    return {};
  };
  return { load, calls };
}

/** A 3x3 conv on seeded data, computed on the current backend. */
function seededConv(): Float32Array {
  return tf.tidy(() => {
    const x = tf.randomUniform([1, 52, 52, 16], -1, 1, 'float32', 7) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 16, 32], -0.2, 0.2, 'float32', 8) as tf.Tensor4D;
    return tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array;
  });
}

afterEach(() => {
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
});

describe('backend selection', () => {
  afterAll(async () => {
    await setBackend('wasm', { threads: 1 });
  });

  it('reports the backend the test setup chose', async () => {
    await ready();
    const info = backendInfo();
    expect(info.name).toBe(tf.getBackend());
    expect(typeof info.threads).toBe('number');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.multithread).toBe(info.threads > 1);
  });

  it('defaults to every logical core (2 on this machine, capped at 8), but 1 under jest', () => {
    const cores = require('os').availableParallelism?.() ?? require('os').cpus().length;
    expect(defaultThreadCount({})).toBe(Math.min(cores, 8));
    expect(defaultThreadCount({ JEST_WORKER_ID: '1' })).toBe(1);
    expect(defaultThreadCount()).toBe(1); // this test runs under jest
  });

  it('runs wasm on 2 threads and gives results identical to 1 thread', async () => {
    await setBackend('wasm', { threads: 1 });
    expect(backendInfo()).toMatchObject({ name: 'wasm', threads: 1, multithread: false, simd: true });
    const single = seededConv();

    await setBackend('wasm', { threads: 2 });
    const info = backendInfo();
    expect(info).toMatchObject({ name: 'wasm', threads: 2, multithread: true, simd: true, source: 'explicit' });
    expect(info.fallbackReason).toBeUndefined();
    const threaded = seededConv();

    expect(threaded.length).toBe(single.length);
    let maxDiff = 0;
    for (let i = 0; i < single.length; i++) maxDiff = Math.max(maxDiff, Math.abs(single[i] - threaded[i]));
    expect(maxDiff).toBe(0);
  });

  it('keeps the same wasm instance when the thread count does not change', async () => {
    await setBackend('wasm', { threads: 2 });
    const instance = tf.engine().registry.wasm;
    await setBackend('wasm', { threads: 2 });
    expect(tf.engine().registry.wasm).toBe(instance);
  });

  it('prefers tfjs-node-gpu, then tfjs-node (mocked), over wasm', async () => {
    const both = mockNativeLoader(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(await autoSelectBackend({ load: both.load, env: {} })).toBe('tensorflow');
    expect(both.calls).toEqual(['@tensorflow/tfjs-node-gpu']);
    expect(backendInfo()).toMatchObject({ name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', source: 'auto' });
    tf.removeBackend('tensorflow');

    const cpuOnly = mockNativeLoader(['@tensorflow/tfjs-node']);
    expect(await autoSelectBackend({ load: cpuOnly.load, env: {} })).toBe('tensorflow');
    expect(cpuOnly.calls).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    const info = backendInfo();
    expect(info.package).toBe('@tensorflow/tfjs-node');
    expect(info.threads).toBe(require('os').cpus().length);
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('falls back to wasm with the requested threads when no native package is installed', async () => {
    const none = mockNativeLoader([]);
    expect(await autoSelectBackend({ load: none.load, env: { YOLO_TFJS_THREADS: '2' } })).toBe('wasm');
    expect(backendInfo()).toMatchObject({ name: 'wasm', threads: 2, source: 'auto' });
  });

  it('warns about a broken native install and still selects a backend', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const load = (id: string) => {
        throw new Error(`${id}: libcudart.so.11.0: cannot open shared object file`);
      };
      expect(await autoSelectBackend({ load, env: { YOLO_TFJS_THREADS: '2' } })).toBe('wasm');
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/tfjs-node-gpu failed to load: .*libcudart/));
    } finally {
      warn.mockRestore();
    }
  });

  it('honours YOLO_TFJS_BACKEND and YOLO_TFJS_THREADS', async () => {
    expect(await autoSelectBackend({ env: { YOLO_TFJS_BACKEND: 'cpu' } })).toBe('cpu');
    expect(backendInfo()).toMatchObject({ name: 'cpu', threads: 1, source: 'env' });
    expect(await autoSelectBackend({ env: { YOLO_TFJS_BACKEND: 'wasm', YOLO_TFJS_THREADS: '1' } })).toBe('wasm');
    expect(backendInfo()).toMatchObject({ name: 'wasm', threads: 1, source: 'env' });
  });

  it('disposeBackend frees the wasm module and the next ready() starts a new one', async () => {
    await setBackend('wasm', { threads: 2 });
    const before = tf.engine().registry.wasm;
    await disposeBackend();
    expect(tf.engine().registry.wasm).toBeUndefined();
    expect(await autoSelectBackend({ load: mockNativeLoader([]).load, env: { YOLO_TFJS_THREADS: '2' } })).toBe('wasm');
    expect(tf.engine().registry.wasm).toBeDefined();
    expect(tf.engine().registry.wasm).not.toBe(before);
    expect(backendInfo().threads).toBe(2);
    // ready() after a choice returns that choice; it does not select (re-create) again
    const current = tf.engine().registry.wasm;
    expect(await ready()).toBe('wasm');
    expect(tf.engine().registry.wasm).toBe(current);
  });

  it('explains bad requests', async () => {
    await expect(setBackend('tpu')).rejects.toThrow(/unknown backend 'tpu' \(known: .*wasm.*cpu/);
    await expect(setBackend('wasm', { threads: 0 })).rejects.toThrow(/setBackend option threads must be an integer from 1 to 8, got 0/);
    await expect(autoSelectBackend({ env: { YOLO_TFJS_THREADS: 'lots' } })).rejects.toThrow(/YOLO_TFJS_THREADS/);
    // tfjs-node is not installed on this machine
    await expect(setBackend('tfjs-node')).rejects.toThrow(/'tensorflow' could not be initialised \(@tensorflow\/tfjs-node: not installed\)/);
    // a failed request leaves a working backend behind
    expect(Array.from(tf.add(tf.tensor1d([1]), 1).dataSync())).toEqual([2]);
  });
});
