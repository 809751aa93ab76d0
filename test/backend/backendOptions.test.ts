import {
  MAX_WASM_THREADS,
  NODE_PACKAGES,
  parseBackendName,
  parseThreadCount,
  readBackendEnv,
} from '../../src/backend/backendOptions';

describe('parseBackendName', () => {
  it('maps the native names onto the tensorflow backend, GPU package first', () => {
    expect(parseBackendName('tensorflow')).toEqual({ kind: 'tensorflow', packages: [...NODE_PACKAGES] });
    expect(NODE_PACKAGES[0]).toBe('@tensorflow/tfjs-node-gpu');
    expect(parseBackendName('node')).toEqual({ kind: 'tensorflow', packages: [...NODE_PACKAGES] });
    expect(parseBackendName('tfjs-node')).toEqual({ kind: 'tensorflow', packages: ['@tensorflow/tfjs-node'] });
    expect(parseBackendName(' TFJS-NODE-GPU ')).toEqual({
      kind: 'tensorflow',
      packages: ['@tensorflow/tfjs-node-gpu'],
    });
  });

  it('recognises auto and wasm and passes other names through, lower-cased', () => {
    expect(parseBackendName('auto')).toEqual({ kind: 'auto' });
    expect(parseBackendName('WASM')).toEqual({ kind: 'wasm' });
    expect(parseBackendName('cpu')).toEqual({ kind: 'other', name: 'cpu' });
    expect(parseBackendName('webgl')).toEqual({ kind: 'other', name: 'webgl' });
  });

  it('rejects empty names, naming the source', () => {
    expect(() => parseBackendName('  ', 'YOLO_TFJS_BACKEND')).toThrow(/YOLO_TFJS_BACKEND must be a non-empty string/);
    expect(() => parseBackendName(undefined as unknown as string)).toThrow(/non-empty string/);
  });
});

describe('parseThreadCount', () => {
  it('accepts integers 1..MAX as numbers or strings', () => {
    expect(parseThreadCount(1)).toBe(1);
    expect(parseThreadCount('2')).toBe(2);
    expect(parseThreadCount(MAX_WASM_THREADS)).toBe(MAX_WASM_THREADS);
  });

  it.each([0, -1, 1.5, MAX_WASM_THREADS + 1, 'abc', '', NaN, null])('rejects %p with a clear message', (v) => {
    expect(() => parseThreadCount(v, 'YOLO_TFJS_THREADS')).toThrow(
      new RegExp(`YOLO_TFJS_THREADS must be an integer from 1 to ${MAX_WASM_THREADS}`),
    );
  });
});

describe('readBackendEnv', () => {
  it('reads both variables and ignores empty ones', () => {
    expect(readBackendEnv({ YOLO_TFJS_BACKEND: 'cpu', YOLO_TFJS_THREADS: '2' })).toEqual({
      backend: { kind: 'other', name: 'cpu' },
      threads: 2,
    });
    expect(readBackendEnv({ YOLO_TFJS_BACKEND: '', YOLO_TFJS_THREADS: ' ' })).toEqual({});
    expect(readBackendEnv(undefined)).toEqual({});
  });

  it('names the variable in errors', () => {
    expect(() => readBackendEnv({ YOLO_TFJS_THREADS: 'many' })).toThrow(/YOLO_TFJS_THREADS/);
  });
});
