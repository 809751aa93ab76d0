import { loadNativeBackend } from '../../src/backend/loadNativeBackend';
import { NODE_PACKAGES } from '../../src/backend/backendOptions';
import { isModuleNotFound } from '../../src/util/nodeRequire';

/** An error like Node's when a package is absent. */
function notFound(id: string): Error {
  return Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- x.js`), { code: 'MODULE_NOT_FOUND' });
}

/** A loader where `present` packages "register" the tensorflow backend when loaded. */
function mockLoader(present: Record<string, 'ok' | 'broken' | 'no-register'>) {
  const registered = new Set<string>();
  const calls: string[] = [];
  const load = (id: string) => {
    calls.push(id);
    const state = present[id];
    if (!state) throw notFound(id);
    if (state === 'broken') throw new Error('libtensorflow.so.2: cannot open shared object file\nat dlopen');
    if (state === 'ok') registered.add('tensorflow');
    return {};
  };
  return { load, calls, isRegistered: (n: string) => registered.has(n) };
}

describe('loadNativeBackend', () => {
  it('returns nothing, silently, when neither package is installed', () => {
    const m = mockLoader({});
    const r = loadNativeBackend(NODE_PACKAGES, m.load, m.isRegistered);
    expect(r.package).toBeUndefined();
    expect(r.attempts).toEqual([
      { package: '@tensorflow/tfjs-node-gpu', reason: 'not installed', broken: false },
      { package: '@tensorflow/tfjs-node', reason: 'not installed', broken: false },
    ]);
  });

  it('prefers tfjs-node-gpu and does not load tfjs-node when the GPU package works', () => {
    const m = mockLoader({ '@tensorflow/tfjs-node-gpu': 'ok', '@tensorflow/tfjs-node': 'ok' });
    const r = loadNativeBackend(NODE_PACKAGES, m.load, m.isRegistered);
    expect(r.package).toBe('@tensorflow/tfjs-node-gpu');
    expect(m.calls).toEqual(['@tensorflow/tfjs-node-gpu']);
  });

  it('uses tfjs-node when only it is installed', () => {
    const m = mockLoader({ '@tensorflow/tfjs-node': 'ok' });
    expect(loadNativeBackend(NODE_PACKAGES, m.load, m.isRegistered).package).toBe('@tensorflow/tfjs-node');
  });

  it('reports a broken GPU install (first line of the error) and falls through to tfjs-node', () => {
    const m = mockLoader({ '@tensorflow/tfjs-node-gpu': 'broken', '@tensorflow/tfjs-node': 'ok' });
    const r = loadNativeBackend(NODE_PACKAGES, m.load, m.isRegistered);
    expect(r.package).toBe('@tensorflow/tfjs-node');
    expect(r.attempts).toEqual([
      {
        package: '@tensorflow/tfjs-node-gpu',
        reason: 'failed to load: libtensorflow.so.2: cannot open shared object file',
        broken: true,
      },
    ]);
  });

  it('reports a package that loads but registers no tensorflow backend (other tfjs-core copy)', () => {
    const m = mockLoader({ '@tensorflow/tfjs-node': 'no-register' });
    const r = loadNativeBackend(NODE_PACKAGES, m.load, m.isRegistered);
    expect(r.package).toBeUndefined();
    expect(r.attempts[1].broken).toBe(true);
    expect(r.attempts[1].reason).toMatch(/not registered/);
  });
});

describe('isModuleNotFound', () => {
  it('tells an absent package from a missing dependency inside an installed one', () => {
    expect(isModuleNotFound(notFound('@tensorflow/tfjs-node'), '@tensorflow/tfjs-node')).toBe(true);
    expect(isModuleNotFound(notFound('node-pre-gyp'), '@tensorflow/tfjs-node')).toBe(false);
    expect(isModuleNotFound(new Error('boom'), 'x')).toBe(false);
    expect(isModuleNotFound(null, 'x')).toBe(false);
  });
});
