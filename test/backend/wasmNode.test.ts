import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { currentWasmNodeInit, initWasmBackendNode } from '../../src/backend/wasmNode';

const ROOT = path.resolve(__dirname, '..', '..');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-wasm-'));
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await initWasmBackendNode({ threads: 1 });
});

function sum(): number {
  return tf.tidy(() => tf.sum(tf.mul(tf.range(0, 10), 2)).dataSync()[0]);
}

describe('initWasmBackendNode', () => {
  it('starts a 2-thread pool with exactly one worker thread and leaves tfjs on wasm', async () => {
    const os0 = require('os').cpus;
    const init = await initWasmBackendNode({ threads: 2 });
    expect(init).toEqual({ requestedThreads: 2, threads: 2, multithread: true, simd: true, workerThreads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    expect(sum()).toBe(90);
    // the temporary patches are gone
    expect(require('os').cpus).toBe(os0);
    expect((globalThis as Record<string, unknown>).Worker).toBeUndefined();
    expect(tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
    expect(currentWasmNodeInit()).toEqual(init);
  });

  it('uses the single-threaded module, without workers, for 1 thread', async () => {
    const init = await initWasmBackendNode({ threads: 1 });
    expect(init).toEqual({ requestedThreads: 1, threads: 1, multithread: false, simd: true, workerThreads: 0 });
    expect(sum()).toBe(90);
  });

  it('falls back to 1 thread with one warning line when a worker fails to start', async () => {
    const broken = path.join(tmp, 'throws.js');
    fs.writeFileSync(broken, 'throw new Error("factory exploded");\n');
    const lines: string[] = [];
    const init = await initWasmBackendNode({ threads: 2, factoryPathOverride: broken, warn: (l) => lines.push(l) });
    expect(init.threads).toBe(1);
    expect(init.multithread).toBe(false);
    expect(init.fallbackReason).toMatch(/factory exploded/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^yolo-tfjs: multi-threaded wasm unavailable \(.*factory exploded.*\); using 1 thread$/);
    expect(tf.getBackend()).toBe('wasm');
    expect(sum()).toBe(90);
  });

  it('falls back instead of hanging when the workers never report ready', async () => {
    const silent = path.join(tmp, 'silent.js');
    // Defines the factory but never starts: the worker stays silent forever.
    fs.writeFileSync(silent, 'var WasmBackendModuleThreadedSimd = function () { return {}; };\n');
    const lines: string[] = [];
    // No wall-clock bound (a busy machine): a hang would never resolve; the reason names the timeout.
    const init = await initWasmBackendNode({
      threads: 2,
      factoryPathOverride: silent,
      initTimeoutMs: 1500,
      warn: (l) => lines.push(l),
    });
    expect(init.threads).toBe(1);
    expect(init.fallbackReason).toMatch(/did not finish within 1500 ms/);
    expect(lines).toHaveLength(1);
    expect(sum()).toBe(90);
  });

  it('falls back when the threaded factory file is missing', async () => {
    const lines: string[] = [];
    const init = await initWasmBackendNode({
      threads: 2,
      factoryPathOverride: path.join(tmp, 'absent.js'),
      warn: (l) => lines.push(l),
    });
    expect(init.threads).toBe(1);
    expect(init.fallbackReason).toMatch(/missing .*absent\.js/);
  });
});

/** The environment of a plain Node run: no jest marker, no backend overrides. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.JEST_WORKER_ID;
  delete env.YOLO_TFJS_BACKEND;
  delete env.YOLO_TFJS_THREADS;
  return env;
}

describe('process lifetime', () => {
  it('a Node script on the default backend (wasm, all cores) exits by itself when its work is done', () => {
    const script = `
      const tf = require('@tensorflow/tfjs');
      const { ready, backendInfo } = require('./src/backend');
      ready().then(() => {
        const y = tf.conv2d(tf.ones([1, 32, 32, 8]), tf.ones([3, 3, 8, 8]), 1, 'same');
        console.log(JSON.stringify({ info: backendInfo(), v: y.dataSync()[(1 * 32 + 1) * 8] }));
      });`;
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120000,
      env: childEnv(),
    });
    expect(r.error).toBeUndefined(); // a timeout would show here (the process did not exit)
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const cores = Math.min(require('os').availableParallelism?.() ?? require('os').cpus().length, 8);
    expect(out.info).toMatchObject({ name: 'wasm', threads: cores, multithread: cores > 1, source: 'auto' });
    expect(out.v).toBe(72); // interior pixel (1, 1): 3*3*8 ones
  });
});
