/**
 * `compileWasmInference(model)`: inference on our own WebAssembly SIMD kernels
 * (src/engine/native) instead of tfjs ops. The model's IR (BatchNorm folded, channel splits
 * folded, as for `compileInference`) is planned once into kernel calls over one flat memory
 * (src/engine/planInference.ts): weights packed at compile time, every parameter block written
 * once, concatenations and slices are views. A call copies the image in, runs the kernels
 * (split across worker threads when there are several), and copies the head outputs out into
 * tfjs tensors. Same outputs as `model.predict` to float rounding (tests check 1e-4).
 */
import * as tf from '@tensorflow/tfjs';
import { inferenceGraph, CompiledInference } from '../infer/compileInference';
import type { IRGraph } from '../infer/ir';
import type { BuildGraphOptions } from '../infer/buildInferenceGraph';
import type { OptimizeOptions } from '../infer/optimizeGraph';
import { Arena, createKernelModule, KernelFn, KernelModule, packConvWeights, packDepthwiseWeights, wasmThreadsSupported } from './kernelModule';
import { writeParams } from './kernelParams';
import { planBufferOffsets } from './memoryPlan';
import { InferencePlan, planInference, View } from './planInference';
import { createKernelThreadPool, defaultKernelThreads, KERNEL_WORKER_STACK_BYTES, KernelThreadPoolOptions, KernelThreadPoolStats, whenPoolReady } from './threadPool';

/** Options of {@link compileWasmInference}. */
export interface WasmInferenceOptions extends BuildGraphOptions, OptimizeOptions {
  /**
   * Threads (the calling thread included). Default: {@link defaultKernelThreads} (all logical
   * cores, `YOLO_TFJS_THREADS` overrides). Threads need shared wasm memory (Node; browsers only
   * when cross-origin isolated); without it the engine runs on one thread.
   */
  threads?: number;
  /**
   * Use the relaxed-SIMD kernels (fused multiply-add). Default: when the JS engine supports it
   * (see `wasmRelaxedSimdSupported`); false forces the plain SIMD build.
   */
  relaxedSimd?: boolean;
  /** Steps with fewer multiply-adds than this run on one thread (default 150000). */
  minParallelCost?: number;
  /** Options of the thread pool (testing knobs; see {@link KernelThreadPoolOptions}). */
  pool?: KernelThreadPoolOptions;
}

/** A compiled network on the wasm kernels. */
export interface WasmCompiledInference extends CompiledInference {
  /** The plan: steps, views and buffers. */
  readonly plan: InferencePlan;
  /** Whether the relaxed-SIMD (fused multiply-add) kernels run. */
  readonly relaxedSimd: boolean;
  /** Threads in use (1 when single-threaded). */
  readonly threads: number;
  /** Bytes of wasm memory the network uses (weights + activations + parameter blocks). */
  readonly memoryBytes: number;
  /** What the worker threads did so far (null when single-threaded). */
  readonly threadStats: Readonly<KernelThreadPoolStats> | null;
  /** Resolves when every worker thread can take work (before that, calls use fewer threads). */
  ready(): Promise<void>;
  /** Per-step wall times of one run (ms), for profiling. */
  profile(x: tf.Tensor4D): { layer: string; kernel: string; ms: number }[];
}

/** Most memory a kernel module may have (its wasm memory maximum): 2 GiB. */
export const MAX_KERNEL_MEMORY_BYTES = 2 ** 31;

/**
 * Thrown by {@link compileWasmInference} when the network's estimated memory (weights,
 * activations with buffer reuse, parameter blocks, worker stacks) is over
 * {@link MAX_KERNEL_MEMORY_BYTES}: checked before anything is allocated.
 */
export class PlanTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanTooLargeError';
  }
}

/**
 * Thrown by a compiled inference's `run` when a kernel traps (e.g. `memory access out of
 * bounds`): names the layer and the kernel. The compiled inference is unusable afterwards (its
 * memory may be corrupt): dispose it and compile again; nothing else shares its memory.
 */
export class KernelTrapError extends Error {
  constructor(
    message: string,
    /** The IR node (layer) whose kernel trapped. */
    readonly layer: string,
  ) {
    super(message);
    this.name = 'KernelTrapError';
  }
}

const GiB = 2 ** 30;
const align64 = (n: number) => Math.ceil(n / 64) * 64;

/**
 * The input's floats without an intermediate copy where possible: a float32 tensor on
 * tfjs-wasm is read in place from tfjs's wasm heap (a view, valid until the next tfjs call);
 * anything else through dataSync.
 */
function inputFloats(x: tf.Tensor): Float32Array {
  if (x.dtype === 'float32' && tf.getBackend() === 'wasm') {
    const b = tf.backend() as unknown as {
      dataIdMap?: { has(id: object): boolean };
      getMemoryOffset?: (id: object) => number;
      wasm?: { HEAPU8?: Uint8Array };
    };
    const heap = b.wasm?.HEAPU8;
    if (heap && typeof b.getMemoryOffset === 'function' && b.dataIdMap?.has(x.dataId)) {
      const off = b.getMemoryOffset(x.dataId);
      if (Number.isInteger(off) && off >= 0 && off + x.size * 4 <= heap.byteLength && off % 4 === 0) {
        return new Float32Array(heap.buffer, heap.byteOffset + off, x.size);
      }
    }
  }
  return x.dtype === 'float32' ? (x.dataSync() as Float32Array) : Float32Array.from(x.dataSync());
}

/**
 * Throws {@link PlanTooLargeError} when the plan cannot fit in a kernel module's memory, naming
 * the largest activation's layer, before any memory is allocated.
 */
function checkPlanMemory(plan: InferencePlan, activationBytes: number, threads: number): void {
  let weights = 0;
  for (const c of plan.consts) weights += align64(c.data.length * 4);
  let params = 0;
  for (const s of plan.steps) params += align64(s.layout.length * 4);
  // The module's own stack and data come first (well under 1 MiB), then one stack per worker.
  const need = weights + activationBytes + params + (threads - 1) * KERNEL_WORKER_STACK_BYTES + (1 << 20);
  if (need <= MAX_KERNEL_MEMORY_BYTES) return;
  let big = 0;
  plan.storages.forEach((s, i) => {
    if (s.floats > plan.storages[big].floats) big = i;
  });
  const writer = plan.steps.find((s) => s.writes.some((v) => v.storage === big));
  const where = writer ? `layer '${writer.layer}'` : 'the input';
  throw new PlanTooLargeError(
    `the network needs ${(need / GiB).toFixed(2)} GiB of wasm memory (weights ${(weights / GiB).toFixed(2)} GiB, ` +
      `activations ${(activationBytes / GiB).toFixed(2)} GiB), over the ${MAX_KERNEL_MEMORY_BYTES / GiB} GiB limit; ` +
      `the largest activation is ${where} (${((plan.storages[big].floats * 4) / GiB).toFixed(2)} GiB): use a smaller input size`,
  );
}

/**
 * Compile a single-input LayersModel (or an already built IR graph) onto the wasm kernels.
 * Throws `UnsupportedGraphError` when a layer has no kernel (custom layers): callers fall back
 * to `compileInference`. Weights are read NOW; compile again after training.
 */
export function compileWasmInference(model: tf.LayersModel | IRGraph, opts: WasmInferenceOptions = {}): WasmCompiledInference {
  const graph: IRGraph = model instanceof tf.LayersModel ? inferenceGraph(model, opts) : model;
  const plan = planInference(graph, { conv: packConvWeights, depthwise: packDepthwiseWeights });
  let threads = Math.max(1, Math.floor(opts.threads ?? defaultKernelThreads()));
  if (threads > 1 && !wasmThreadsSupported()) threads = 1;
  const minParallelCost = opts.minParallelCost ?? 150000;

  // Buffer lifetimes over the steps (input written before step 0, outputs read after the last).
  const first = plan.storages.map(() => Infinity);
  const last = plan.storages.map(() => -Infinity);
  const touch = (v: View, i: number, write: boolean) => {
    if (write) first[v.storage] = Math.min(first[v.storage], i);
    else last[v.storage] = Math.max(last[v.storage], i);
    // A view written but never read still needs its buffer at that step.
    last[v.storage] = Math.max(last[v.storage], first[v.storage]);
  };
  touch(plan.input, -1, true);
  plan.steps.forEach((s, i) => {
    s.writes.forEach((v) => touch(v, i, true));
    s.reads.forEach((v) => touch(v, i, false));
  });
  plan.outputs.forEach((o) => touch(o.view, plan.steps.length, false));
  const { offsets, total } = planBufferOffsets(
    plan.storages.map((s, i) => ({ bytes: s.floats * 4, first: first[i] === Infinity ? -1 : first[i], last: last[i] === -Infinity ? plan.steps.length : last[i] })),
  );
  checkPlanMemory(plan, total, threads);

  const km = createKernelModule({ threaded: threads > 1, relaxed: opts.relaxedSimd, bytes: 1 << 20, maxBytes: MAX_KERNEL_MEMORY_BYTES });
  const arena = new Arena(km);
  // Worker stacks are carved from the arena by the pool; constants first (they never move).
  const constAt = new Map<object, number>();
  for (const c of plan.consts) constAt.set(c, arena.allocF32(c.data));
  const region = arena.alloc(total);
  const addr = (v: View) => region + offsets[v.storage] + v.offset * 4;
  const constAddr = (c: object) => {
    const a = constAt.get(c);
    if (a === undefined) throw new Error('compileWasmInference: unknown constant');
    return a;
  };

  const paramPtrs = plan.steps.map((s) => {
    const p = arena.alloc(s.layout.length * 4);
    writeParams(km.memory, p, s.layout, s.params(addr, constAddr) as never);
    return p;
  });
  const fns: KernelFn[] = plan.steps.map((s) => km.kernel(s.kernel));
  const pool = threads > 1 ? createKernelThreadPool(km, threads, arena, opts.pool) : null;
  const parallel = plan.steps.map((s) => !!pool && s.cost >= minParallelCost && s.total >= 2 * s.grain);

  const inView = plan.input;
  const inFloats = inView.H * inView.W * inView.C;
  const inShape = graph.shapes[graph.input];
  let disposed = false;
  /** Set when a kernel trapped: the memory may be corrupt, so every later call refuses. */
  let trapped: KernelTrapError | null = null;

  const runSteps = (timings?: number[]) => {
    for (let i = 0; i < fns.length; i++) {
      const t0 = timings ? performance.now() : 0;
      const s = plan.steps[i];
      try {
        if (pool && parallel[i]) pool.run(s.kernel, paramPtrs[i], s.total, s.grain);
        else fns[i](paramPtrs[i], 0, s.total);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        trapped = new KernelTrapError(`layer '${s.layer}' (step ${i}, kernel '${s.kernel}') trapped: ${why}`, s.layer);
        throw trapped;
      }
      if (timings) timings.push(performance.now() - t0);
    }
  };

  const copyOut = (v: View, dst: Float32Array, at: number) => {
    const mem = new Float32Array(km.memory.buffer);
    const base = addr(v) / 4;
    const pixels = v.H * v.W;
    if (v.stride === v.C || pixels === 1) dst.set(mem.subarray(base, base + pixels * v.C), at);
    else for (let p = 0; p < pixels; p++) dst.set(mem.subarray(base + p * v.stride, base + p * v.stride + v.C), at + p * v.C);
  };

  const run = (x: tf.Tensor4D, timings?: number[]): tf.Tensor[] => {
    if (disposed) throw new Error('compileWasmInference: this compiled function was disposed');
    if (trapped) throw new KernelTrapError(`compileWasmInference: unusable after an earlier trap (${trapped.message}); compile again`, trapped.layer);
    if (x.rank !== 4 || inShape.some((d, i) => x.shape[i + 1] !== d)) {
      throw new Error(`compileWasmInference: expected input [N, ${inShape.join(', ')}], got [${x.shape.join(', ')}]`);
    }
    const n = x.shape[0];
    const data = inputFloats(x);
    const outs = plan.outputs.map((o) => new Float32Array(n * o.view.H * o.view.W * o.view.C));
    const inAddr = addr(inView) / 4;
    // Workers spin between the kernels of this call instead of sleeping (cheap dispatch).
    pool?.hold(true);
    try {
      for (let b = 0; b < n; b++) {
        new Float32Array(km.memory.buffer).set(data.subarray(b * inFloats, (b + 1) * inFloats), inAddr);
        runSteps(timings);
        plan.outputs.forEach((o, k) => copyOut(o.view, outs[k], b * o.view.H * o.view.W * o.view.C));
      }
    } finally {
      pool?.hold(false);
    }
    return plan.outputs.map((o, k) => tf.tensor(outs[k], [n, ...o.shape], 'float32'));
  };

  return {
    graph,
    plan,
    threads: pool ? threads : 1,
    relaxedSimd: km.relaxed,
    get threadStats() {
      return pool ? { ...pool.stats } : null;
    },
    get memoryBytes() {
      return arena.used;
    },
    run: (x) => run(x),
    ready: () => (pool ? whenPoolReady(pool) : Promise.resolve()),
    profile(x) {
      const timings: number[] = [];
      const one = x.shape[0] === 1 ? x : (x.slice(0, 1) as tf.Tensor4D);
      tf.dispose(run(one, timings));
      if (one !== x) one.dispose();
      return plan.steps.map((s, i) => ({ layer: s.layer, kernel: s.kernel, ms: timings[i] }));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      pool?.dispose();
    },
  };
}
