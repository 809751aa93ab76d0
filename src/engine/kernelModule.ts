/**
 * Loading the wasm kernels (src/engine/native, built by scripts/build-kernels.js) and a bump
 * allocator over their memory. Works the same in Node and browsers (WebAssembly + base64 only).
 */
import { KERNELS_RELAXED_SIMD, KERNELS_RELAXED_SIMD_THREADS, KERNELS_SIMD, KERNELS_SIMD_THREADS } from './kernelsWasm';
import { isNode, processEnv } from '../util/env';
import { nodeRequire } from '../util/nodeRequire';
import { decodeBase64 } from '../util/base64';

/** A kernel: `(paramsPtr, r0, r1)`, work units [r0, r1). */
export type KernelFn = (params: number, r0: number, r1: number) => void;

/** Names of the exported inference kernels. */
export type InferenceKernelName = 'conv2d' | 'depthwise2d' | 'maxpool2d' | 'binary' | 'unary' | 'upsampleNearest' | 'pad2d' | 'globalAvgPool';

/** Names of the exported training kernels (gradients, BatchNorm statistics, optimizers). */
export type TrainingKernelName =
  | 'conv2dFilterGrad'
  | 'channelSum'
  | 'bnStats'
  | 'bnFinalize'
  | 'bnBackwardReduce'
  | 'bnBackwardCoef'
  | 'bnBackwardApply'
  | 'actBackward'
  | 'depthwise2dFilterGrad'
  | 'depthwise2dInputGrad'
  | 'maxpool2dGrad'
  | 'upsampleNearestGrad'
  | 'zeroInsert'
  | 'channelScatter'
  | 'adam'
  | 'sgdMomentum'
  | 'ema'
  | 'scaleChannels'
  | 'channelDot';

/** Names of the exported kernels. */
export type KernelName = InferenceKernelName | TrainingKernelName;

/** Every training kernel (the binaries test checks each variant exports them). */
export const TRAINING_KERNELS: readonly TrainingKernelName[] = [
  'conv2dFilterGrad',
  'channelSum',
  'bnStats',
  'bnFinalize',
  'bnBackwardReduce',
  'bnBackwardCoef',
  'bnBackwardApply',
  'actBackward',
  'depthwise2dFilterGrad',
  'depthwise2dInputGrad',
  'maxpool2dGrad',
  'upsampleNearestGrad',
  'zeroInsert',
  'channelScatter',
  'adam',
  'sgdMomentum',
  'ema',
  'scaleChannels',
  'channelDot',
];

/** An instantiated kernel module with its memory. */
export interface KernelModule {
  readonly memory: WebAssembly.Memory;
  readonly threaded: boolean;
  /** Built with relaxed SIMD (fused multiply-add). */
  readonly relaxed: boolean;
  /** The compiled module (worker threads instantiate it again on the same shared memory). */
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
  kernel(name: KernelName): KernelFn;
  /** First free byte after the module's stack and data. */
  readonly heapBase: number;
}

const WASM_PAGE = 65536;
const compiled = new Map<string, WebAssembly.Module>();

/** True when this JS engine runs WebAssembly SIMD128 (tested by compiling a tiny module). */
export function wasmSimdSupported(): boolean {
  try {
    // (module (func (result v128) i32.const 0 i8x16.splat))
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

// (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd))
const RELAXED_PROBE = '0061736d010000000105016000017b030201000a3d013b00fd0c' + '00'.repeat(16) + 'fd0c' + '00'.repeat(16) + 'fd0c' + '00'.repeat(16) + 'fd85020b';
let relaxedState: boolean | undefined;

function validateRelaxed(): boolean {
  try {
    const hex = RELAXED_PROBE;
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/**
 * True when relaxed SIMD (fused multiply-add) can be used: the JS engine validates it (Chrome
 * >= 114, Firefox >= 120, Node >= 22). In Node 20 V8 has it behind
 * `--experimental-wasm-relaxed-simd`; yolo-tfjs turns that flag on (it only adds wasm opcodes)
 * unless `YOLO_TFJS_RELAXED_SIMD=0`, which also keeps the plain SIMD kernels everywhere.
 */
export function wasmRelaxedSimdSupported(): boolean {
  if (relaxedState !== undefined) return relaxedState;
  const env = processEnv();
  if (env?.YOLO_TFJS_RELAXED_SIMD === '0') return (relaxedState = false);
  let ok = validateRelaxed();
  if (!ok && isNode()) {
    try {
      (nodeRequire('v8') as { setFlagsFromString(f: string): void }).setFlagsFromString('--experimental-wasm-relaxed-simd');
      ok = validateRelaxed();
    } catch {
      ok = false;
    }
  }
  return (relaxedState = ok);
}

/** True when shared wasm memory is available (Node; browsers only when cross-origin isolated). */
export function wasmThreadsSupported(): boolean {
  try {
    if (typeof SharedArrayBuffer === 'undefined') return false;
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The compiled kernel module (compiled once per variant). */
export function kernelWasmModule(threaded: boolean, relaxed = false): WebAssembly.Module {
  const key = `${threaded}/${relaxed}`;
  let m = compiled.get(key);
  if (!m) {
    if (!wasmSimdSupported()) throw new Error('yolo-tfjs kernels: this JavaScript engine has no WebAssembly SIMD128');
    if (relaxed && !wasmRelaxedSimdSupported()) throw new Error('yolo-tfjs kernels: this JavaScript engine has no WebAssembly relaxed SIMD');
    const b64 = relaxed ? (threaded ? KERNELS_RELAXED_SIMD_THREADS : KERNELS_RELAXED_SIMD) : threaded ? KERNELS_SIMD_THREADS : KERNELS_SIMD;
    m = new WebAssembly.Module(decodeBase64(b64) as BufferSource);
    compiled.set(key, m);
  }
  return m;
}

/** Instantiate `module` on `memory` (also used by worker threads). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Instance {
  return new WebAssembly.Instance(module, { env: { memory } });
}

/**
 * A fresh kernel module with `bytes` of memory (rounded up to pages). Threaded modules get a
 * shared memory whose maximum is fixed at `maxBytes` (default 2 GiB). `relaxed` (default: when
 * supported, see {@link wasmRelaxedSimdSupported}) picks the fused multiply-add build.
 */
export function createKernelModule(opts: { threaded?: boolean; relaxed?: boolean; bytes?: number; maxBytes?: number } = {}): KernelModule {
  const threaded = !!opts.threaded;
  const relaxed = opts.relaxed === undefined ? wasmRelaxedSimdSupported() : opts.relaxed;
  const module = kernelWasmModule(threaded, relaxed);
  const initial = Math.max(32, Math.ceil((opts.bytes ?? 16 * WASM_PAGE * 16) / WASM_PAGE));
  const maximum = Math.ceil((opts.maxBytes ?? 2 ** 31) / WASM_PAGE);
  const memory = new WebAssembly.Memory({ initial, maximum, ...(threaded ? { shared: true } : {}) } as WebAssembly.MemoryDescriptor);
  const instance = instantiateKernels(module, memory);
  const ex = instance.exports as Record<string, unknown>;
  const heapBase = (ex.__heap_base as WebAssembly.Global).value as number;
  return {
    memory,
    threaded,
    relaxed,
    module,
    instance,
    heapBase,
    kernel(name: KernelName): KernelFn {
      const f = ex[name];
      if (typeof f !== 'function') throw new Error(`yolo-tfjs kernels: no kernel '${name}' in the wasm module`);
      return f as KernelFn;
    },
  };
}

/** Bump allocator over a kernel module's memory (grows the memory as needed). */
export class Arena {
  private top: number;
  constructor(private readonly km: KernelModule, start = km.heapBase) {
    this.top = align(start, 64);
  }
  /** Allocate `bytes` (64-byte aligned); returns the byte offset. */
  alloc(bytes: number): number {
    const p = this.top;
    this.top = align(p + Math.max(bytes, 0), 64);
    const need = this.top - this.km.memory.buffer.byteLength;
    if (need > 0) this.km.memory.grow(Math.ceil(need / WASM_PAGE));
    return p;
  }
  /** Allocate and fill with `data`. */
  allocF32(data: ArrayLike<number>): number {
    const p = this.alloc(data.length * 4);
    new Float32Array(this.km.memory.buffer, p, data.length).set(data);
    return p;
  }
  /** Bytes used so far (from the module's heap base). */
  get used(): number {
    return this.top;
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/**
 * Conv weights HWIO `[kh, kw, cin, cout]` -> the kernel's layout `[ceil(cout/8)][kh*kw*cin][8]`
 * (zero padded), bias -> `ceil(cout/8)*8` floats.
 */
export function packConvWeights(filter: Float32Array, shape: readonly [number, number, number, number], bias: Float32Array | null): { weights: Float32Array; bias: Float32Array } {
  const [kh, kw, cin, cout] = shape;
  const K = kh * kw * cin;
  if (filter.length !== K * cout) throw new Error(`packConvWeights: filter has ${filter.length} values, shape [${shape.join(', ')}] needs ${K * cout}`);
  const nb = Math.ceil(cout / 8);
  const w = new Float32Array(nb * K * 8);
  for (let b = 0; b < nb; b++) {
    for (let k = 0; k < K; k++) {
      const src = k * cout + b * 8;
      const dst = (b * K + k) * 8;
      const n = Math.min(8, cout - b * 8);
      for (let j = 0; j < n; j++) w[dst + j] = filter[src + j];
    }
  }
  const bb = new Float32Array(nb * 8);
  if (bias) bb.set(bias);
  return { weights: w, bias: bb };
}

/** Depthwise weights `[kh, kw, C, 1]` -> `[kh*kw][Cp]` with Cp = C rounded up to 4; bias -> Cp. */
export function packDepthwiseWeights(filter: Float32Array, shape: readonly [number, number, number, number], bias: Float32Array | null): { weights: Float32Array; bias: Float32Array } {
  const [kh, kw, c, mult] = shape;
  if (mult !== 1) throw new Error(`packDepthwiseWeights: channel multiplier ${mult} is not supported (1 only)`);
  if (filter.length !== kh * kw * c) throw new Error(`packDepthwiseWeights: filter has ${filter.length} values, shape [${shape.join(', ')}] needs ${kh * kw * c}`);
  const cp = Math.ceil(c / 4) * 4;
  const w = new Float32Array(kh * kw * cp);
  for (let t = 0; t < kh * kw; t++) w.set(filter.subarray(t * c, t * c + c), t * cp);
  const b = new Float32Array(cp);
  if (bias) b.set(bias);
  return { weights: w, bias: b };
}
