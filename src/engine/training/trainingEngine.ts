/**
 * A training graph (./trainingGraph.ts) executed on the wasm kernels for one batch at a time:
 * forward with every activation the backward needs kept in engine memory, BatchNorm on batch
 * statistics (running-stat update as tfjs' layer), the head outputs handed to tfjs (the loss
 * stays tfjs), the head gradients taken back, then the backward in reverse node order into
 * per-variable gradient buffers (a value read twice gets the sum of both gradients, a variable
 * used by two nodes too).
 *
 * Memory: one kernel module. Master weights, gradients and optimizer slots per distinct
 * variable; forward values live the whole step; value gradients share memory when their
 * lifetimes in the backward do not overlap (src/engine/memoryPlan.ts). The whole plan is sized
 * before anything is allocated; over the wasm32 limit is a {@link TrainingPlanTooLargeError}.
 *
 * Every op's backward is a wasm kernel (src/engine/native/*_grad.c, batchnorm.c; the conv
 * input gradient is the conv2d kernel on flipped weights, src/engine/gradPacking.ts; copies and
 * sums of gradients are `unary` / `binary`). EfficientDet's broadcast ops (padding, spatial mean,
 * channel product, weighted fusion, drop-connect) are in ./channelOps.ts; drop-connect draws its
 * per-image masks from a generator seeded by {@link TrainingEngineOptions.seed}.
 */
import * as tf from '@tensorflow/tfjs';
import { Arena, createKernelModule, KernelModule, KernelName, packDepthwiseWeights, wasmThreadsSupported } from '../kernelModule';
import {
  ACT,
  ACT_BACKWARD_PARAMS,
  ADAM_PARAMS,
  BINARY_OP,
  BINARY_PARAMS,
  BN_BACKWARD_APPLY_PARAMS,
  BN_BACKWARD_COEF_PARAMS,
  BN_BACKWARD_REDUCE_PARAMS,
  BN_FINALIZE_PARAMS,
  BN_STATS_PARAMS,
  CHANNEL_SCATTER_PARAMS,
  CHANNEL_SUM_PARAMS,
  CONV_FILTER_GRAD_PARAMS,
  CONV_PARAMS,
  DEPTHWISE_FILTER_GRAD_PARAMS,
  DEPTHWISE_INPUT_GRAD_PARAMS,
  DEPTHWISE_PARAMS,
  EMA_PARAMS,
  MOMENTUM_PARAMS,
  MAX_POOL_GRAD_PARAMS,
  ParamValues,
  POOL_PARAMS,
  UNARY_PARAMS,
  UPSAMPLE_GRAD_PARAMS,
  UPSAMPLE_PARAMS,
  writeParams,
  ZERO_INSERT_PARAMS,
} from '../kernelParams';
import { convInputGradPlan, ConvInputGradPlan } from '../gradPacking';
import { packConvInputGradInto, packConvInto } from './packInPlace';
import { adamScalars } from '../optimizerScalars';
import { planBufferOffsets } from '../memoryPlan';
import { createKernelThreadPool, defaultKernelThreads, KERNEL_WORKER_STACK_BYTES, KernelThreadPool, whenPoolReady } from '../threadPool';
import { slopeFromOutput, TrainActivation, TrainBatchNorm, TrainConv, TrainingGraph, TrainNode, trainingConsumers } from './trainingGraph';
import { backwardChannelOp, ChannelOpContext, channelOpScratchFloats, forwardChannelOp, isChannelOp } from './channelOps';
import { mulberry32 } from '../../util/random';

/** The training step does not fit in a kernel module's memory (wasm32: 2 GiB). */
export class TrainingPlanTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingPlanTooLargeError';
  }
}

/** Options of {@link TrainingEngine}. */
export interface TrainingEngineOptions {
  /** Largest batch (memory is planned for it; smaller batches run too). */
  batchSize: number;
  /** Threads, the calling one included (default: as inference, `defaultKernelThreads`). */
  threads?: number;
  /** Relaxed-SIMD kernels (default: when supported). */
  relaxedSimd?: boolean;
  /** Memory limit in bytes (default 2 GiB, the wasm32 maximum). */
  maxBytes?: number;
  /** Seed of the drop-connect masks (default 0; train() passes its seed). */
  seed?: number;
}

/** One distinct tfjs variable in engine memory. */
export interface EngineVariable {
  variable: tf.Variable;
  shape: number[];
  size: number;
  /** Byte offset of the master copy. */
  master: number;
  /** Byte offset of the gradient (trainable variables only, else -1). */
  grad: number;
  /** Gets a gradient (a trainable node uses it). */
  trainable: boolean;
}

/** A BN node in the plan: byte offsets of its per-channel float32 buffers. */
interface BnState {
  mean: number;
  invStd: number;
  scale: number;
  shift: number;
  coefG: number;
  coefX: number;
  coefB: number;
  /** The activation fused after it (its output is the node's output). */
  act: TrainActivation;
  alpha: number;
}

const MAX_BYTES = 2 ** 31;
/**
 * Pixel slices of the BN reductions (bnStats, bnBackwardReduce): the units threads share, each
 * with its own f64 partial sums. Fixed, so a step gives the same bits on any thread count.
 */
const BN_SLICES = 8;
const align64 = (n: number) => Math.ceil(n / 64) * 64;
const ACT_CODE: Record<TrainActivation, number> = {
  linear: ACT.linear, relu: ACT.relu, relu6: ACT.relu6, leaky: ACT.leaky, sigmoid: ACT.sigmoid, tanh: ACT.tanh, elu: ACT.elu, swish: ACT.swish, mish: ACT.mish,
};

/** Per-kernel / per-layer wall time of one step (profiling). */
export interface StepProfileEntry {
  layer: string;
  what: string;
  ms: number;
}

/**
 * A training graph planned for batches of up to `batchSize` images on one kernel module (see the
 * module comment): `forward`, then `backward` with the head gradients, then an optimizer
 * (`EngineOptimizer`) updates the master weights and `repack` refreshes the conv kernels' copies.
 */
export class TrainingEngine {
  readonly graph: TrainingGraph;
  readonly batchSize: number;
  readonly threads: number;
  /** Distinct variables, in first-use order. */
  readonly variables: EngineVariable[] = [];
  private readonly km: KernelModule;
  private readonly arena: Arena;
  private readonly pool: KernelThreadPool | null;
  private readonly nodes: TrainNode[];
  private readonly varOf = new Map<tf.Variable, EngineVariable>();
  private readonly valueAt: number[];
  private readonly gradAt: number[];
  private readonly needsGrad: boolean[];
  private readonly packed = new Map<tf.Variable, { w: number; b: number; floats: number; bfloats: number; grad: number; gradFloats: number; plan: ConvInputGradPlan | null }>();
  private readonly bn = new Map<TrainNode, BnState>();
  private readonly params: number;
  private readonly zero: number;
  /** float64 scratch of 2 x BN_SLICES x the widest channel count (the BN reductions' partial sums). */
  private readonly sums: number;
  private readonly maxC: number;
  /** Per-image scratch: a zero-inserted gradient grid, then an input gradient to add. */
  private readonly scratch: number;
  private readonly scratchGrid: number;
  /** Per-image partial filter gradients of the convs with few output-channel blocks (threads > 1), or -1. */
  private readonly partialDW: number;
  /** Values recomputed by re-running their producer before their reader's backward (see recomputedValues). */
  private readonly recomputed: Map<number, TrainNode>;
  /** The recomputed BN output of a BN fused with a swish-like activation (backward scratch), or -1. */
  private readonly bnPre: number;
  /** Whether each value's gradient buffer was written this step. */
  private readonly gradLive: boolean[];
  /** dataIds last written to / read from each variable (a different one: the user changed it). */
  private readonly syncedId = new Map<tf.Variable, object>();
  private n = 0;
  private disposed = false;
  private profileSink: StepProfileEntry[] | null = null;
  /** The broadcast channel ops' view of the engine (./channelOps.ts). */
  private readonly channelCtx: ChannelOpContext;
  private readonly dropFactors = new Map<TrainNode, Float32Array>();
  private kernelTimes: Map<string, number> | null = null;

  constructor(graph: TrainingGraph, opts: TrainingEngineOptions) {
    this.graph = graph;
    this.batchSize = opts.batchSize;
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) throw new Error(`TrainingEngine: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.nodes = fuseBatchNormActivations(graph);
    const N = opts.batchSize;
    const shapes = graph.shapes;
    const floatsOf = (v: number) => N * shapes[v][0] * shapes[v][1] * shapes[v][2];

    // Variables.
    const addVar = (v: tf.Variable | null, trainable: boolean) => {
      if (!v) return;
      const have = this.varOf.get(v);
      if (have) {
        have.trainable ||= trainable;
        return;
      }
      const ev: EngineVariable = { variable: v, shape: v.shape.slice(), size: v.size, master: -1, grad: -1, trainable };
      this.varOf.set(v, ev);
      this.variables.push(ev);
    };
    for (const n of this.nodes) {
      if (n.op === 'conv') {
        addVar(n.kernel, n.trainable);
        addVar(n.bias, n.trainable);
      } else if (n.op === 'batchNorm') {
        addVar(n.gamma, n.training);
        addVar(n.beta, n.training);
        addVar(n.movingMean, false);
        addVar(n.movingVariance, false);
      } else if (n.op === 'weightedSum') {
        addVar(n.weight, n.trainable);
      }
    }

    // Which values need a gradient: those with a trainable node upstream.
    this.needsGrad = shapes.map(() => false);
    for (const n of this.nodes) {
      const own = (n.op === 'conv' && n.trainable) || (n.op === 'batchNorm' && n.training) || (n.op === 'weightedSum' && n.trainable);
      const up = own || n.inputs.some((v) => this.needsGrad[v]);
      for (const v of n.outputs) this.needsGrad[v] = up;
    }

    // Gradient lifetimes: backward step k runs node (last - k); outputs are seeded before step 0.
    const last = this.nodes.length - 1;
    const first = shapes.map(() => Infinity);
    const end = shapes.map(() => -Infinity);
    graph.outputs.forEach((v) => (first[v] = -1));
    this.nodes.forEach((n, i) => {
      const k = last - i;
      for (const v of n.inputs) first[v] = Math.min(first[v], k);
      for (const v of n.outputs) end[v] = Math.max(end[v], k);
    });
    const gradValues = shapes.map((_, v) => v !== graph.input && this.needsGrad[v] && first[v] !== Infinity);
    const gradIds = shapes.map((_, v) => v).filter((v) => gradValues[v]);
    const gradPlan = planBufferOffsets(gradIds.map((v) => ({ bytes: floatsOf(v) * 4, first: first[v], last: Math.max(first[v], end[v]) })));

    // Size everything before allocating.
    let bytes = 1 << 20;
    // Only values a node reads or writes (a BN output fused into its activation, values folded
    // away or left to the tail are never stored).
    const stored = new Set<number>([graph.input, ...graph.outputs]);
    for (const n of this.nodes) for (const v of [...n.inputs, ...n.outputs]) stored.add(v);
    // Squeeze-excitation products read only by the next node (the project conv) are recomputed
    // for its backward instead of kept: they share one buffer (D0 at 512: 38 MB per image less).
    this.recomputed = recomputedValues(this.nodes, graph);
    let recomputedFloats = 0;
    for (const v of this.recomputed.keys()) {
      stored.delete(v);
      recomputedFloats = Math.max(recomputedFloats, floatsOf(v));
    }
    bytes += align64(recomputedFloats * 4);
    for (const v of stored) bytes += align64(floatsOf(v) * 4);
    // A BN fused with an activation whose slope needs its input (swish, mish, ...): the backward
    // recomputes that input (x * scale + shift) here, one buffer for all of them.
    let preFloats = 0;
    for (const n of this.nodes) if (n.op === 'batchNorm' && !slopeFromOutput((n as FusedBn).fusedActivation?.fn ?? 'linear')) preFloats = Math.max(preFloats, floatsOf(n.inputs[0]));
    bytes += align64(preFloats * 4);
    bytes += gradPlan.total;
    for (const ev of this.variables) bytes += align64(ev.size * 4) * (ev.trainable ? 4 : 1);
    let maxC = 16;
    for (const s of shapes) maxC = Math.max(maxC, s[2]);
    this.maxC = maxC;
    // conv weights packed for the forward and for the input gradient
    const convBytes = this.nodes.filter((n) => n.op === 'conv').reduce((s, n) => s + 3 * align64(((n as TrainConv).kernel.size + 8 * 64) * 4), 0);
    bytes += convBytes;
    // BN buffers, the f64 sums, per-image scratch
    bytes += this.nodes.filter((n) => n.op === 'batchNorm').length * 7 * align64((maxC + 16) * 4) + align64(2 * BN_SLICES * maxC * 8);
    let grid = 0;
    let dxImg = 0;
    for (const n of this.nodes) {
      if (n.op !== 'conv' || n.depthwise) continue;
      const [H, W, C] = shapes[n.inputs[0]];
      const [OH, OW, OC] = shapes[n.outputs[0]];
      dxImg = Math.max(dxImg, H * W * C);
      if (n.strides[0] > 1 || n.strides[1] > 1) grid = Math.max(grid, ((OH - 1) * n.strides[0] + 1) * ((OW - 1) * n.strides[1] + 1) * OC);
    }
    bytes += align64(grid * 4) + align64(dxImg * 4) + align64(channelOpScratchFloats(graph) * 4);
    // Adam slots
    for (const ev of this.variables) if (ev.trainable) bytes += 2 * align64(ev.size * 4);
    let threads = Math.max(1, Math.floor(opts.threads ?? defaultKernelThreads()));
    if (threads > 1 && !wasmThreadsSupported()) threads = 1;
    bytes += threads * KERNEL_WORKER_STACK_BYTES;
    let partialFloats = 0;
    if (threads > 1) for (const n of this.nodes) if (n.op === 'conv' && imageSplitFilterGrad(n, shapes[n.outputs[0]][2], threads)) partialFloats = Math.max(partialFloats, N * n.kernel.size);
    bytes += align64(partialFloats * 4);
    const limit = Math.min(opts.maxBytes ?? MAX_BYTES, MAX_BYTES);
    if (bytes > limit) {
      throw new TrainingPlanTooLargeError(
        `a training step of batch ${N} needs ${(bytes / 2 ** 30).toFixed(2)} GiB of wasm memory (activations and their gradients), ` +
          `over the ${(limit / 2 ** 30).toFixed(2)} GiB limit: use a smaller batch or input size`,
      );
    }

    this.km = createKernelModule({ threaded: threads > 1, relaxed: opts.relaxedSimd, bytes, maxBytes: MAX_BYTES });
    this.arena = new Arena(this.km);
    this.params = this.arena.alloc(64 * 4);
    this.zero = this.arena.alloc((maxC + 16) * 4);
    this.sums = this.arena.alloc(2 * BN_SLICES * maxC * 8);
    this.scratchGrid = this.arena.alloc(grid * 4);
    this.scratch = this.arena.alloc(dxImg * 4);
    this.partialDW = partialFloats > 0 ? this.arena.alloc(partialFloats * 4) : -1;
    const channelScratch = this.arena.alloc(channelOpScratchFloats(graph) * 4);
    const recomputedAt = recomputedFloats > 0 ? this.arena.alloc(recomputedFloats * 4) : -1;
    this.valueAt = shapes.map((_, v) => (stored.has(v) ? this.arena.alloc(floatsOf(v) * 4) : this.recomputed.has(v) ? recomputedAt : -1));
    this.bnPre = preFloats > 0 ? this.arena.alloc(preFloats * 4) : -1;
    const gradRegion = this.arena.alloc(gradPlan.total);
    this.gradAt = shapes.map(() => -1);
    gradIds.forEach((v, i) => (this.gradAt[v] = gradRegion + gradPlan.offsets[i]));
    this.gradLive = shapes.map(() => false);
    for (const ev of this.variables) {
      ev.master = this.arena.alloc(ev.size * 4);
      if (ev.trainable) ev.grad = this.arena.alloc(ev.size * 4);
    }
    for (const n of this.nodes) {
      if (n.op === 'conv' && !this.packed.has(n.kernel)) {
        const [kh, kw, cin, cout] = n.filterShape;
        const floats = n.depthwise ? kh * kw * Math.ceil(cin / 4) * 4 : Math.ceil(cout / 8) * kh * kw * cin * 8;
        const bfloats = n.depthwise ? Math.ceil(cin / 4) * 4 : Math.ceil(cout / 8) * 8;
        // The input gradient of a plain conv is a conv2d with cout inputs, cin outputs.
        const gradFloats = n.depthwise ? 0 : Math.ceil(cin / 8) * kh * kw * cout * 8;
        const [H, W] = shapes[n.inputs[0]];
        const [OH, OW] = shapes[n.outputs[0]];
        const plan = n.depthwise
          ? null
          : convInputGradPlan({ H, W, C: cin, OH, OW, N: cout, kh, kw, sh: n.strides[0], sw: n.strides[1], dh: n.dilations[0], dw: n.dilations[1], padTop: n.pads[0][0], padLeft: n.pads[1][0] });
        this.packed.set(n.kernel, { w: this.arena.alloc(floats * 4), b: this.arena.alloc(bfloats * 4), floats, bfloats, grad: this.arena.alloc(gradFloats * 4), gradFloats, plan });
      }
      if (n.op === 'batchNorm') {
        const C = shapes[n.inputs[0]][2];
        const fused = (n as FusedBn).fusedActivation;
        const buf = () => this.arena.alloc((C + 16) * 4);
        this.bn.set(n, {
          mean: buf(),
          invStd: buf(),
          scale: buf(),
          shift: buf(),
          coefG: buf(),
          coefX: buf(),
          coefB: buf(),
          act: fused?.fn ?? 'linear',
          alpha: fused?.alpha ?? 0,
        });
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const engine = this;
    this.channelCtx = {
      get n() {
        return engine.n;
      },
      graph,
      valueAt: (v) => this.valueAt[v],
      wantDx: (v) => this.gradAt[v] >= 0,
      gradTarget: (v) => this.gradTarget(v),
      gradAt: (v) => this.gradAt[v],
      run: (kernel, layout, values, total, grain, cost) => this.run(kernel, layout, values, total, grain, cost),
      f32: (ptr, floats) => this.f32(ptr, floats),
      master: (v) => this.varOf.get(v)!.master,
      gradOf: (v) => this.varOf.get(v)!.grad,
      scratch: channelScratch,
      rng: mulberry32(opts.seed ?? 0),
      dropFactors: this.dropFactors,
    };
    this.pool = threads > 1 ? createKernelThreadPool(this.km, threads, this.arena) : null;
    this.threads = this.pool ? threads : 1;
    this.readWeights(true);
  }

  /** Bytes of wasm memory in use (weights, activations, gradients, optimizer and EMA slots). */
  get memoryBytes(): number {
    return this.arena.used;
  }

  /** Resolves when all worker threads can take work. */
  ready(): Promise<void> {
    return this.pool ? whenPoolReady(this.pool) : Promise.resolve();
  }

  private f32(ptr: number, floats: number): Float32Array {
    return new Float32Array(this.km.memory.buffer, ptr, floats);
  }

  private valueFloats(v: number, n = this.n): number {
    const s = this.graph.shapes[v];
    return n * s[0] * s[1] * s[2];
  }

  /** The engine's copy of a variable (a view into engine memory; valid until the next call). */
  weights(v: tf.Variable): Float32Array {
    const ev = this.varOf.get(v);
    if (!ev) throw new Error(`TrainingEngine: variable '${v.name}' is not in the graph`);
    return this.f32(ev.master, ev.size);
  }

  /** The gradient of a trainable variable after {@link backward} (a view into engine memory). */
  gradient(v: tf.Variable): Float32Array {
    const ev = this.varOf.get(v);
    if (!ev || ev.grad < 0) throw new Error(`TrainingEngine: variable '${v.name}' has no gradient`);
    return this.f32(ev.grad, ev.size);
  }

  /**
   * Read the tfjs variables into engine memory: all (`force`) or those whose tensor changed
   * since the engine last wrote or read them (the user assigned new weights).
   */
  readWeights(force = false): void {
    let changed = false;
    for (const ev of this.variables) {
      const id = (ev.variable as unknown as { dataId: object }).dataId;
      if (!force && this.syncedId.get(ev.variable) === id) continue;
      this.f32(ev.master, ev.size).set(ev.variable.dataSync() as Float32Array);
      this.syncedId.set(ev.variable, id);
      changed = true;
    }
    if (changed) this.repack();
  }

  /** Write the engine's weights (trainable ones and BN running statistics) to the tfjs variables. */
  writeWeights(): void {
    for (const ev of this.variables) {
      const t = tf.tensor(this.f32(ev.master, ev.size).slice(), ev.shape, 'float32');
      ev.variable.assign(t);
      t.dispose();
      this.syncedId.set(ev.variable, (ev.variable as unknown as { dataId: object }).dataId);
    }
  }

  /** Re-pack the conv weights for the kernels after the master weights changed (after an update: `trainableOnly`). */
  repack(trainableOnly = false): void {
    const done = new Set<tf.Variable>();
    for (const n of this.nodes) {
      if (n.op !== 'conv' || done.has(n.kernel)) continue;
      // After an update only trainable weights changed (a frozen layer keeps its packing).
      if (trainableOnly && !this.varOf.get(n.kernel)!.trainable) continue;
      done.add(n.kernel);
      const p = this.packed.get(n.kernel)!;
      const w = this.weights(n.kernel);
      const b = n.bias ? this.weights(n.bias) : null;
      if (n.depthwise) {
        const pk = packDepthwiseWeights(w, n.filterShape, b);
        this.f32(p.w, p.floats).set(pk.weights);
        this.f32(p.b, p.bfloats).set(pk.bias);
      } else {
        packConvInto(this.f32(p.w, p.floats), w, n.filterShape);
        if (b) this.f32(p.b, p.bfloats).set(b);
        packConvInputGradInto(this.f32(p.grad, p.gradFloats), w, n.filterShape);
      }
    }
  }

  private run<L extends readonly string[]>(kernel: KernelName, layout: L, values: ParamValues<L>, total: number, grain: number, cost: number): void {
    writeParams(this.km.memory, this.params, layout, values);
    const t0 = this.kernelTimes ? performance.now() : 0;
    if (this.pool && cost >= 150000 && total >= 2 * grain) this.pool.run(kernel, this.params, total, grain);
    else this.km.kernel(kernel)(this.params, 0, total);
    if (this.kernelTimes) this.kernelTimes.set(kernel, (this.kernelTimes.get(kernel) ?? 0) + performance.now() - t0);
  }

  private timed<T>(layer: string, what: string, f: () => T): T {
    if (!this.profileSink) return f();
    const t0 = performance.now();
    const r = f();
    this.profileSink.push({ layer, what, ms: performance.now() - t0 });
    return r;
  }

  /**
   * Forward pass of a batch `[n, H, W, 3]` (n <= batchSize) in training mode: BatchNorm on batch
   * statistics (running statistics updated in engine memory). Returns the head outputs as new
   * tfjs tensors (the caller disposes them).
   */
  forward(images: tf.Tensor4D): tf.Tensor4D[] {
    if (this.disposed) throw new Error('TrainingEngine: disposed');
    const s0 = this.graph.shapes[this.graph.input];
    const [n, h, w, c] = images.shape;
    if (h !== s0[0] || w !== s0[1] || c !== s0[2] || n < 1 || n > this.batchSize) {
      throw new Error(`TrainingEngine: expected images [1..${this.batchSize}, ${s0.join(', ')}], got [${images.shape.join(', ')}]`);
    }
    this.n = n;
    this.readWeights();
    const data = images.dataSync();
    this.f32(this.valueAt[this.graph.input], data.length).set(data);
    this.pool?.hold(true);
    try {
      for (const node of this.nodes) this.timed(node.layer, `${node.op} forward`, () => this.forwardNode(node));
    } finally {
      this.pool?.hold(false);
    }
    return this.graph.outputs.map((v) => {
      const s = this.graph.shapes[v];
      return tf.tensor4d(this.f32(this.valueAt[v], this.valueFloats(v)).slice(), [n, s[0], s[1], s[2]]);
    });
  }

  private forwardNode(node: TrainNode): void {
    if (isChannelOp(node)) return forwardChannelOp(this.channelCtx, node);
    const n = this.n;
    const S = this.graph.shapes;
    const x = node.inputs[0];
    const y = node.outputs[0];
    const [H, W, C] = S[x];
    const [OH, OW, OC] = S[y];
    const xAt = this.valueAt[x];
    const yAt = this.valueAt[y];
    const inImg = H * W * C * 4;
    const outImg = OH * OW * OC * 4;
    const io = (b: number) => ({ in: xAt + b * inImg, H, W, C, inStride: C, out: yAt + b * outImg, OH, OW, outStride: OC });
    const unary = (o: { x: number; xStride: number; channelStep?: number; out: number; outStride: number; C: number; pixels: number; scale?: number; shift?: number; act?: number; alpha?: number }) =>
      this.run('unary', UNARY_PARAMS, { channelStep: 1, scale: 0, shift: 0, act: ACT.linear, alpha: 0, ...o }, o.pixels, 64, o.pixels * o.C);
    switch (node.op) {
      case 'conv': {
        const p = this.packed.get(node.kernel)!;
        const [kh, kw] = node.filterShape;
        const win = { kh, kw, sh: node.strides[0], sw: node.strides[1], dh: node.dilations[0], dw: node.dilations[1], padTop: node.pads[0][0], padLeft: node.pads[1][0] };
        if (isPointwise(node)) {
          // The batch is one tall image: a 1x1 conv without padding never mixes rows.
          const split = splitByChannels(node.kernel.size, n * OH * OW, OC);
          this.run(
            'conv2d', CONV_PARAMS, { ...io(0), H: n * H, OH: n * OH, N: OC, weights: p.w, bias: p.b, ...win, act: ACT.linear, alpha: 0, zero: this.zero, splitBlocks: split ? 1 : 0 },
            split ? Math.ceil(OC / 8) : n * OH * OW, split ? 1 : 4, n * OH * OW * OC * C,
          );
          return;
        }
        for (let b = 0; b < n; b++) {
          if (node.depthwise) {
            this.run('depthwise2d', DEPTHWISE_PARAMS, { ...io(b), weights: p.w, bias: p.b, ...win, act: ACT.linear, alpha: 0 }, OH, 1, OH * OW * OC * kh * kw);
          } else {
            const split = splitByChannels(node.kernel.size, OH * OW, OC);
            this.run(
              'conv2d', CONV_PARAMS, { ...io(b), N: OC, weights: p.w, bias: p.b, ...win, act: ACT.linear, alpha: 0, zero: this.zero, splitBlocks: split ? 1 : 0 },
              split ? Math.ceil(OC / 8) : OH * OW, split ? 1 : 4, OH * OW * OC * kh * kw * C,
            );
          }
        }
        return;
      }
      case 'batchNorm': {
        const st = this.bn.get(node)!;
        const pixels = n * H * W;
        const ev = (v: tf.Variable | null) => (v ? this.varOf.get(v)!.master : 0);
        if (node.training) {
          const S = BN_SLICES;
          new Float64Array(this.km.memory.buffer, this.sums, 2 * S * C).fill(0);
          const sumSq = this.sums + S * C * 8;
          this.run('bnStats', BN_STATS_PARAMS, { x: xAt, pixels, C, xStride: C, sum: this.sums, sumSq, slices: S }, S, 1, pixels * C);
          this.run(
            'bnFinalize',
            BN_FINALIZE_PARAMS,
            {
              sum: this.sums, sumSq, count: pixels, C, gamma: ev(node.gamma), beta: ev(node.beta), epsilon: node.epsilon, decay: 1 - node.momentum,
              mean: st.mean, invStd: st.invStd, scale: st.scale, shift: st.shift, movingMean: ev(node.movingMean), movingVar: ev(node.movingVariance), slices: S,
            },
            C, C, 0,
          );
        } else {
          // Frozen: the running statistics, as inference; the backward is dx = dz * scale.
          const gamma = node.gamma ? this.weights(node.gamma) : null;
          const beta = node.beta ? this.weights(node.beta) : null;
          const mm = this.weights(node.movingMean);
          const mv = this.weights(node.movingVariance);
          const [mean, invStd, scale, shift, cg, cx, cb] = [st.mean, st.invStd, st.scale, st.shift, st.coefG, st.coefX, st.coefB].map((p) => this.f32(p, C));
          for (let c = 0; c < C; c++) {
            mean[c] = mm[c];
            invStd[c] = 1 / Math.sqrt(mv[c] + node.epsilon);
            scale[c] = (gamma ? gamma[c] : 1) * invStd[c];
            shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
            cg[c] = scale[c];
            cx[c] = 0;
            cb[c] = 0;
          }
        }
        unary({ x: xAt, xStride: C, out: yAt, outStride: C, C, pixels, scale: st.scale, shift: st.shift, act: ACT_CODE[st.act], alpha: st.alpha });
        return;
      }
      case 'activation':
        unary({ x: xAt, xStride: C, out: yAt, outStride: C, C, pixels: n * H * W, act: ACT_CODE[node.fn], alpha: node.alpha });
        return;
      case 'maxPool':
        for (let b = 0; b < n; b++) {
          this.run('maxpool2d', POOL_PARAMS, { ...io(b), kh: node.size[0], kw: node.size[1], sh: node.strides[0], sw: node.strides[1], padTop: node.pads[0][0], padLeft: node.pads[1][0] }, OH, 1, OH * OW * OC * node.size[0] * node.size[1]);
        }
        return;
      case 'upsample':
        for (let b = 0; b < n; b++) {
          this.run('upsampleNearest', UPSAMPLE_PARAMS, { in: xAt + b * inImg, H, W, C, inStride: C, out: yAt + b * outImg, outStride: OC, fy: node.scale[0], fx: node.scale[1] }, OH, 1, OH * OW * OC);
        }
        return;
      case 'concat': {
        let off = 0;
        for (const u of node.inputs) {
          const cu = S[u][2];
          unary({ x: this.valueAt[u], xStride: cu, out: yAt + off * 4, outStride: OC, C: cu, pixels: n * OH * OW });
          off += cu;
        }
        return;
      }
      case 'channelSlice':
        unary({ x: xAt + node.begin * 4, xStride: C, out: yAt, outStride: OC, C: OC, pixels: n * H * W });
        return;
      case 'channelSplit':
        node.outputs.forEach((o, j) => {
          const cj = S[o][2];
          unary({ x: xAt + j * 4, xStride: C, channelStep: node.groups, out: this.valueAt[o], outStride: cj, C: cj, pixels: n * H * W });
        });
        return;
      case 'add': {
        const pixels = n * H * W;
        const bin = (a: number, bAt: number) =>
          this.run('binary', BINARY_PARAMS, { x: a, xStride: C, y: bAt, yStride: C, out: yAt, outStride: C, pixels, C, op: BINARY_OP.axpby, a: 1, b: 1, act: ACT.linear, alpha: 0 }, pixels, 64, pixels * C);
        bin(this.valueAt[node.inputs[0]], this.valueAt[node.inputs[1]]);
        for (const u of node.inputs.slice(2)) bin(yAt, this.valueAt[u]);
        return;
      }
    }
  }

  /** The gradient buffer of value v for JavaScript writers: zeroed on its first use this step. */
  private grad(v: number): Float32Array {
    const at = this.gradAt[v];
    if (at < 0) throw new Error(`TrainingEngine: internal error, value ${v} has no gradient buffer`);
    const g = this.f32(at, this.valueFloats(v));
    if (!this.gradLive[v]) {
      g.fill(0);
      this.gradLive[v] = true;
    }
    return g;
  }

  /**
   * Where a kernel writes the gradient of value v: its buffer, and whether to add (another
   * consumer wrote it already) or overwrite. Marks it written.
   */
  private gradTarget(v: number): { at: number; accumulate: 0 | 1 } {
    const at = this.gradAt[v];
    if (at < 0) throw new Error(`TrainingEngine: internal error, value ${v} has no gradient buffer`);
    const accumulate = this.gradLive[v] ? 1 : 0;
    this.gradLive[v] = true;
    return { at, accumulate };
  }

  /** out (+)= src over `pixels` rows of C floats (strided): a copy, or binary axpby when accumulating. */
  private copyOrAdd(src: number, srcStride: number, out: number, outStride: number, C: number, pixels: number, accumulate: 0 | 1): void {
    if (accumulate) {
      this.run('binary', BINARY_PARAMS, { x: out, xStride: outStride, y: src, yStride: srcStride, out, outStride, pixels, C, op: BINARY_OP.axpby, a: 1, b: 1, act: ACT.linear, alpha: 0 }, pixels, 64, pixels * C);
    } else {
      this.run('unary', UNARY_PARAMS, { x: src, xStride: srcStride, channelStep: 1, out, outStride, pixels, C, scale: 0, shift: 0, act: ACT.linear, alpha: 0 }, pixels, 64, pixels * C);
    }
  }

  /**
   * Backward from the gradients of the loss w.r.t. the head outputs (same shapes as
   * {@link forward}'s outputs): fills every trainable variable's gradient buffer.
   */
  backward(dHeads: tf.Tensor[]): void {
    if (this.disposed) throw new Error('TrainingEngine: disposed');
    if (dHeads.length !== this.graph.outputs.length) throw new Error(`TrainingEngine: ${dHeads.length} head gradients for ${this.graph.outputs.length} heads`);
    this.gradLive.fill(false);
    for (const ev of this.variables) if (ev.grad >= 0) this.f32(ev.grad, ev.size).fill(0);
    this.graph.outputs.forEach((v, i) => {
      if (this.gradAt[v] < 0) return;
      const d = dHeads[i].dataSync();
      if (d.length !== this.valueFloats(v)) throw new Error(`TrainingEngine: head gradient ${i} has ${d.length} values, expected ${this.valueFloats(v)}`);
      // Outputs are distinct values and nothing is live yet: a copy (an element loop over the
      // shared wasm memory is slow: EfficientDet's heads are 9M floats at batch 2).
      if (this.gradLive[v]) throw new Error(`TrainingEngine: internal error, output ${v} seeded twice`);
      this.f32(this.gradAt[v], d.length).set(d);
      this.gradLive[v] = true;
    });
    this.pool?.hold(true);
    try {
      for (let i = this.nodes.length - 1; i >= 0; i--) {
        const node = this.nodes[i];
        if (!node.outputs.some((v) => this.gradLive[v])) continue;
        for (const u of node.inputs) {
          const producer = this.recomputed.get(u);
          if (producer) this.timed(producer.layer, `${producer.op} recompute`, () => this.forwardNode(producer));
        }
        this.timed(node.layer, `${node.op} backward`, () => this.backwardNode(node));
      }
    } finally {
      this.pool?.hold(false);
    }
  }

  private backwardNode(node: TrainNode): void {
    if (isChannelOp(node)) return backwardChannelOp(this.channelCtx, node);
    const n = this.n;
    const S = this.graph.shapes;
    const x = node.inputs[0];
    const y = node.outputs[0];
    const [H, W, C] = S[x];
    const [OH, OW, OC] = S[y];
    const inImg = H * W * C * 4;
    const outImg = OH * OW * OC * 4;
    const wantDx = (v: number) => this.gradAt[v] >= 0;
    const dyAt = this.gradAt[y];
    const xAt = this.valueAt[x];
    switch (node.op) {
      case 'conv': {
        const [kh, kw] = node.filterShape;
        const win = { kh, kw, sh: node.strides[0], sw: node.strides[1], dh: node.dilations[0], dw: node.dilations[1], padTop: node.pads[0][0], padLeft: node.pads[1][0] };
        const p = this.packed.get(node.kernel)!;
        if (node.trainable) {
          const dW = this.varOf.get(node.kernel)!.grad;
          const pw = isPointwise(node);
          const nb = Math.ceil(OC / 8);
          const flops = OH * OW * OC * kh * kw * C;
          if (!node.depthwise && !pw && (!this.pool || (this.partialDW >= 0 && imageSplitFilterGrad(node, OC, this.threads)))) {
            // All images in one call. One thread: straight into dW. Several threads and few
            // 8-channel blocks (the stem: 24 channels = 3 units): units = images x blocks, each
            // image into its own partial dW, then one sum over the images into dW.
            const size = node.kernel.size;
            const split = this.pool !== null;
            if (split) this.f32(this.partialDW, n * size).fill(0);
            const io = { in: xAt, H, W, C, inStride: C, dy: dyAt, OH, OW, N: OC, dyStride: OC, dW: split ? this.partialDW : dW, ...win };
            this.run('conv2dFilterGrad', CONV_FILTER_GRAD_PARAMS, { ...io, images: n, inImageStep: inImg, dyImageStep: outImg, dWImageStep: split ? size * 4 : 0 }, n * nb, 1, n * flops);
            if (split) this.run('channelSum', CHANNEL_SUM_PARAMS, { x: this.partialDW, pixels: n, C: size, xStride: size, out: dW }, size, 4, n * size);
          } else if (node.depthwise) {
            // All images in one call (units = channels, each image added in turn).
            const io = { in: xAt, H, W, C, inStride: C, dy: dyAt, OH, OW, dyStride: OC };
            this.run('depthwise2dFilterGrad', DEPTHWISE_FILTER_GRAD_PARAMS, { ...io, dW, ...win, images: n, inImageStep: inImg, dyImageStep: outImg }, C, 4, n * OH * OW * C * kh * kw);
          } else {
            for (let b = 0; b < (pw ? 1 : n); b++) {
              // 1x1 without padding: the batch as one tall image, one call.
              const io = { in: xAt + b * inImg, H: pw ? n * H : H, W, C, inStride: C, dy: dyAt + b * outImg, OH: pw ? n * OH : OH, OW, dyStride: OC };
              this.run('conv2dFilterGrad', CONV_FILTER_GRAD_PARAMS, { ...io, N: OC, dW, ...win, images: 1, inImageStep: 0, dyImageStep: 0, dWImageStep: 0 }, nb, 1, flops);
            }
          }
          if (node.bias) this.run('channelSum', CHANNEL_SUM_PARAMS, { x: dyAt, pixels: n * OH * OW, C: OC, xStride: OC, out: this.varOf.get(node.bias)!.grad }, OC, 4, n * OH * OW * OC);
        }
        if (!wantDx(x)) return;
        const t = this.gradTarget(x);
        if (node.depthwise) {
          const weights = this.varOf.get(node.kernel)!.master;
          this.run(
            'depthwise2dInputGrad',
            DEPTHWISE_INPUT_GRAD_PARAMS,
            { dy: dyAt, OH, OW, C, dyStride: OC, out: t.at, H, W, outStride: C, weights, ...win, accumulate: t.accumulate, images: n, dyImageStep: outImg, outImageStep: inImg },
            n * H, 1, n * OH * OW * C * kh * kw,
          );
          return;
        }
        const plan = p.plan!;
        const g = plan.conv;
        if (isPointwise(node) && !t.accumulate) {
          const split = splitByChannels(node.kernel.size, n * H * W, C);
          this.run(
            'conv2d',
            CONV_PARAMS,
            {
              in: dyAt, H: n * OH, W: OW, C: OC, inStride: OC, out: t.at, OH: n * H, OW: W, N: C, outStride: C, weights: p.grad, bias: this.zero,
              kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 0, padLeft: 0, act: ACT.linear, alpha: 0, zero: this.zero, splitBlocks: split ? 1 : 0,
            },
            split ? Math.ceil(C / 8) : n * H * W, split ? 1 : 4, n * H * W * C * OC,
          );
          return;
        }
        for (let b = 0; b < n; b++) {
          let src = dyAt + b * outImg;
          if (plan.zeroInsert) {
            const z = plan.zeroInsert;
            this.run('zeroInsert', ZERO_INSERT_PARAMS, { in: src, H: OH, W: OW, C: OC, inStride: OC, out: this.scratchGrid, OH: z.OH, OW: z.OW, outStride: OC, sy: z.sy, sx: z.sx }, z.OH, 1, z.OH * z.OW * OC);
            src = this.scratchGrid;
          }
          const dst = t.accumulate ? this.scratch : t.at + b * inImg;
          const split = splitByChannels(node.kernel.size, H * W, C);
          this.run(
            'conv2d',
            CONV_PARAMS,
            {
              in: src, H: g.H, W: g.W, C: g.C, inStride: OC, out: dst, OH: g.OH, OW: g.OW, N: g.N, outStride: C, weights: p.grad, bias: this.zero,
              kh: g.kh, kw: g.kw, sh: 1, sw: 1, dh: g.dh, dw: g.dw, padTop: g.padTop, padLeft: g.padLeft, act: ACT.linear, alpha: 0, zero: this.zero, splitBlocks: split ? 1 : 0,
            },
            split ? Math.ceil(C / 8) : H * W, split ? 1 : 4, H * W * C * kh * kw * OC,
          );
          if (t.accumulate) this.copyOrAdd(this.scratch, C, t.at + b * inImg, C, C, H * W, 1);
        }
        return;
      }
      case 'batchNorm': {
        const st = this.bn.get(node)!;
        const pixels = n * H * W;
        const act = ACT_CODE[st.act];
        // The activation's input: its output gives the slope of relu / relu6 / leaky; the others'
        // is recomputed from the BN input with the forward's scale and shift (same kernel, same bits).
        let pre = act === ACT.linear ? dyAt : this.valueAt[y];
        if (!slopeFromOutput(st.act)) {
          pre = this.bnPre;
          this.run('unary', UNARY_PARAMS, { x: xAt, xStride: C, channelStep: 1, out: pre, outStride: C, pixels, C, scale: st.scale, shift: st.shift, act: ACT.linear, alpha: 0 }, pixels, 64, pixels * C);
        }
        // g = dy * act'(pre), in place over dy (the output's gradient is not needed afterwards).
        if (node.training) {
          const S = BN_SLICES;
          new Float64Array(this.km.memory.buffer, this.sums, 2 * S * C).fill(0);
          const sumG = this.sums;
          const sumGX = this.sums + S * C * 8;
          this.run(
            'bnBackwardReduce',
            BN_BACKWARD_REDUCE_PARAMS,
            { dy: dyAt, dyStride: C, pre, preStride: C, act, alpha: st.alpha, g: dyAt, gStride: C, x: xAt, xStride: C, pixels, C, mean: st.mean, invStd: st.invStd, sumG, sumGX, slices: S },
            S, 1, pixels * C * 2,
          );
          const ev = (v: tf.Variable | null) => (v ? this.varOf.get(v)!.grad : 0);
          this.run(
            'bnBackwardCoef',
            BN_BACKWARD_COEF_PARAMS,
            { sumG, sumGX, count: pixels, C, gamma: node.gamma ? this.varOf.get(node.gamma)!.master : 0, invStd: st.invStd, coefG: st.coefG, coefX: st.coefX, coefB: st.coefB, dGamma: ev(node.gamma), dBeta: ev(node.beta), slices: S },
            C, C, 0,
          );
        } else if (act !== ACT.linear) {
          this.run('actBackward', ACT_BACKWARD_PARAMS, { dy: dyAt, dyStride: C, pre, preStride: C, out: dyAt, outStride: C, pixels, C, act, alpha: st.alpha, accumulate: 0 }, pixels, 64, pixels * C * 2);
        }
        if (!wantDx(x)) return;
        const t = this.gradTarget(x);
        this.run(
          'bnBackwardApply',
          BN_BACKWARD_APPLY_PARAMS,
          { g: dyAt, gStride: C, x: xAt, xStride: C, out: t.at, outStride: C, pixels, C, coefG: st.coefG, coefX: st.coefX, coefB: st.coefB, mean: st.mean, accumulate: t.accumulate },
          pixels, 64, pixels * C * 2,
        );
        return;
      }
      case 'activation': {
        if (!wantDx(x)) return;
        const t = this.gradTarget(x);
        const pixels = n * H * W;
        // relu / relu6 / leaky: the derivative from the output (its sign is the input's); others from the input.
        const pre = slopeFromOutput(node.fn) ? this.valueAt[y] : xAt;
        this.run('actBackward', ACT_BACKWARD_PARAMS, { dy: dyAt, dyStride: C, pre, preStride: C, out: t.at, outStride: C, pixels, C, act: ACT_CODE[node.fn], alpha: node.alpha, accumulate: t.accumulate }, pixels, 64, pixels * C * 2);
        return;
      }
      case 'maxPool': {
        if (!wantDx(x)) return;
        const t = this.gradTarget(x);
        this.run(
          'maxpool2dGrad',
          MAX_POOL_GRAD_PARAMS,
          {
            in: xAt, H, W, C, inStride: C, dy: dyAt, OH, OW, dyStride: OC, out: t.at, outStride: C, kh: node.size[0], kw: node.size[1], sh: node.strides[0], sw: node.strides[1],
            padTop: node.pads[0][0], padLeft: node.pads[1][0], accumulate: t.accumulate, images: n, inImageStep: inImg, dyImageStep: outImg, outImageStep: inImg,
          },
          n * H, 1, n * OH * OW * C * node.size[0] * node.size[1],
        );
        return;
      }
      case 'upsample': {
        if (!wantDx(x)) return;
        const t = this.gradTarget(x);
        this.run(
          'upsampleNearestGrad', UPSAMPLE_GRAD_PARAMS,
          { dy: dyAt, H, W, C, dyStride: OC, out: t.at, outStride: C, fy: node.scale[0], fx: node.scale[1], accumulate: t.accumulate, images: n, dyImageStep: outImg, outImageStep: inImg },
          n * H, 1, n * OH * OW * OC,
        );
        return;
      }
      case 'concat': {
        let off = 0;
        for (const u of node.inputs) {
          const cu = S[u][2];
          if (wantDx(u)) {
            const t = this.gradTarget(u);
            this.copyOrAdd(dyAt + off * 4, OC, t.at, cu, cu, n * OH * OW, t.accumulate);
          }
          off += cu;
        }
        return;
      }
      case 'channelSlice':
        if (wantDx(x)) {
          this.grad(x); // zeroed on first use: the other channels get no gradient from here
          this.copyOrAdd(dyAt, OC, this.gradAt[x] + node.begin * 4, C, OC, n * H * W, 1);
        }
        return;
      case 'channelSplit': {
        if (!wantDx(x)) return;
        // Output j holds channels j, j + groups, ...: its gradient goes back with an output
        // channel step (channelScatter); when every part has a gradient and x has none yet
        // they cover it exactly.
        const pixels = n * H * W;
        const all = node.outputs.every((o) => this.gradLive[o]);
        if (!this.gradLive[x] && !all) this.grad(x);
        const t = this.gradTarget(x);
        node.outputs.forEach((o, j) => {
          if (!this.gradLive[o]) return;
          const cj = S[o][2];
          this.run(
            'channelScatter', CHANNEL_SCATTER_PARAMS,
            { x: this.gradAt[o], xStride: cj, out: t.at + j * 4, outStride: C, channelStep: node.groups, pixels, C: cj, accumulate: t.accumulate },
            pixels, 64, pixels * cj,
          );
        });
        return;
      }
      case 'add':
        for (const u of node.inputs) {
          if (!wantDx(u)) continue;
          const t = this.gradTarget(u);
          this.copyOrAdd(dyAt, C, t.at, C, C, n * H * W, t.accumulate);
        }
        return;
    }
  }

  /**
   * The drop-connect factors of the last forward for the node of `layer` (per image: 0 dropped,
   * else 1 / keep), or undefined (no such node, or no forward yet). For tests.
   */
  dropConnectFactors(layer: string): Float32Array | undefined {
    for (const [node, f] of this.dropFactors) if (node.layer === layer) return f.slice(0, this.n);
    return undefined;
  }

  /** Allocate `floats` zeroed float32 in engine memory (optimizer slots); returns the byte offset. */
  allocate(floats: number): number {
    const p = this.arena.alloc(floats * 4);
    this.f32(p, floats).fill(0);
    return p;
  }

  /** A float32 view of engine memory. */
  view(ptr: number, floats: number): Float32Array {
    return this.f32(ptr, floats);
  }

  /** shadow = shadow * decay + master * oneMinusDecay over a variable (the `ema` kernel). */
  emaUpdate(ev: EngineVariable, shadow: number, decay: number, oneMinusDecay: number): void {
    this.run('ema', EMA_PARAMS, { shadow, param: ev.master, n: ev.size, decay, oneMinusDecay }, ev.size, 256, ev.size * 3);
  }

  /** One Adam update (the `adam` kernel, bit-identical to tf.train.adam) of a variable. */
  adamUpdate(ev: EngineVariable, m: number, v: number, s: ReturnType<typeof adamScalars>): void {
    this.run('adam', ADAM_PARAMS, { param: ev.master, grad: ev.grad, m, v, n: ev.size, ...s }, ev.size, 256, ev.size * 8);
  }

  /** SGD with (Nesterov) momentum on one variable as tf.train.momentum (the `sgdMomentum` kernel), then param *= decayFactor. */
  momentumUpdate(ev: EngineVariable, acc: number, o: { learningRate: number; momentum: number; nesterov: boolean; decayFactor: number }): void {
    const values = { param: ev.master, grad: ev.grad, acc, n: ev.size, nesterov: o.nesterov ? 1 : 0, momentum: o.momentum, negLr: -o.learningRate, decayFactor: o.decayFactor };
    this.run('sgdMomentum', MOMENTUM_PARAMS, values, ev.size, 256, ev.size * 4);
  }

  /**
   * Time every node's forward and backward, and every kernel (summed by name), while `f` runs
   * (for profiles).
   */
  profile<T>(f: () => T): { result: T; entries: StepProfileEntry[]; kernels: Record<string, number> } {
    this.profileSink = [];
    this.kernelTimes = new Map();
    try {
      const result = f();
      return { result, entries: this.profileSink, kernels: Object.fromEntries(this.kernelTimes) };
    } finally {
      this.profileSink = null;
      this.kernelTimes = null;
    }
  }

  /** Stop the worker threads; the engine is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool?.dispose();
  }
}

/** A 1x1 stride-1 undilated conv without padding: rows never mix, so a batch is one tall image. */
/**
 * A conv whose filter gradient runs as images x 8-channel blocks into per-image partial dWs on
 * `threads` threads: a trainable, non-pointwise, non-depthwise conv with fewer blocks than
 * 2 per thread (they would split unevenly) and a small filter (the partials are batch x dW).
 */
function imageSplitFilterGrad(n: TrainNode, OC: number, threads: number): boolean {
  return n.op === 'conv' && n.trainable && !n.depthwise && !isPointwise(n) && Math.ceil(OC / 8) < 2 * threads && n.kernel.size <= 65536;
}

function isPointwise(n: TrainConv): boolean {
  const [kh, kw] = n.filterShape;
  return !n.depthwise && kh === 1 && kw === 1 && n.strides[0] === 1 && n.strides[1] === 1 && n.pads.every((p) => p[0] === 0 && p[1] === 0);
}

/**
 * Few pixels, large weights (tiny YOLOv3's 13x13 512 -> 1024): threads split the output
 * channels so each streams only its share of the weights (the inference planner's rule).
 */
function splitByChannels(weightFloats: number, pixels: number, outChannels: number): boolean {
  return weightFloats * 4 > 1536 * 1024 && pixels < 64 * Math.ceil(outChannels / 8);
}

/**
 * Values not kept for the backward but recomputed (value -> its producer): a channel product
 * (cheap: one multiply per element, its inputs are kept anyway) read only by the node right
 * after it, so one shared buffer holds them all: the forward writes it and the reader reads it
 * next; the backward re-runs the producer just before the reader's backward.
 */
function recomputedValues(nodes: TrainNode[], g: TrainingGraph): Map<number, TrainNode> {
  const consumers = new Map<number, TrainNode[]>();
  for (const n of nodes) for (const v of n.inputs) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  const out = new Map<number, TrainNode>();
  nodes.forEach((n, i) => {
    const v = n.outputs[0];
    const readers = consumers.get(v) ?? [];
    if (n.op === 'channelMul' && readers.length === 1 && readers[0] === nodes[i + 1] && !g.outputs.includes(v)) out.set(v, n);
  });
  return out;
}

type FusedBn = TrainBatchNorm & { inputs: number[]; outputs: number[]; layer: string; fusedActivation?: { fn: TrainActivation; alpha: number } };

/**
 * BatchNorm followed by an activation that is the only reader of the BN output: one node that
 * writes the activation's output, so the BN output is never stored. The backward takes the slope
 * of relu / relu6 / leaky from the output; for the others (swish, mish, ...) it recomputes the BN
 * output from the BN input (EfficientDet-D0 at 512: 130 MB per image less).
 */
function fuseBatchNormActivations(g: TrainingGraph): TrainNode[] {
  const consumers = trainingConsumers(g);
  const out: TrainNode[] = [];
  const skip = new Set<TrainNode>();
  for (const n of g.nodes) {
    if (skip.has(n)) continue;
    if (n.op === 'batchNorm') {
      const readers = consumers.get(n.outputs[0]) ?? [];
      const a = readers[0];
      if (readers.length === 1 && a.op === 'activation' && !g.outputs.includes(n.outputs[0])) {
        skip.add(a);
        out.push({ ...n, outputs: a.outputs, fusedActivation: { fn: a.fn, alpha: a.alpha } } as FusedBn);
        continue;
      }
    }
    out.push(n);
  }
  return out;
}
