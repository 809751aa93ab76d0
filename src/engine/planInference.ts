/**
 * The inference IR (src/infer) turned into a list of wasm kernel calls over one flat memory.
 *
 * Every value is a VIEW: a storage buffer, a float offset, `pixels x C` with a pixel stride.
 * Views make the data-movement ops free:
 * - a channel concat gives each input a channel range of one buffer, and the producers write
 *   there directly (a conv's output stride is the concat's width);
 * - a concat along the first axis (EfficientDet's per-level boxes) gives each input a
 *   contiguous region, through reshapes;
 * - a channel slice is a view of its input; a reshape of a compact view is the same memory.
 * What cannot be placed is copied by the `unary` kernel. Buffers that are not alive at the same
 * time share memory (src/engine/memoryPlan.ts).
 */
import { ConvNode, explicitPadding, IRActivation, IRGraph, IRNode } from '../infer/ir';
import {
  ACT,
  BINARY_OP,
  BINARY_PARAMS,
  CONV_PARAMS,
  DEPTHWISE_PARAMS,
  GLOBAL_POOL_PARAMS,
  PAD_PARAMS,
  ParamValues,
  POOL_PARAMS,
  UNARY_PARAMS,
  UPSAMPLE_PARAMS,
} from './kernelParams';
import type { KernelName } from './kernelModule';

/** A node the wasm engine cannot run (the caller falls back to the tfjs graph). */
export class UnsupportedGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedGraphError';
  }
}

/** A tensor view of one image: `pixels` rows of `C` floats, `stride` floats apart. */
export interface View {
  storage: number;
  /** Offset in floats from the storage's start. */
  offset: number;
  H: number;
  W: number;
  C: number;
  stride: number;
}

/** An activation buffer. */
export interface StorageInfo {
  floats: number;
}

/** Constant data a step needs (packed weights, ...), placed once in the module's memory. */
export interface ConstRef {
  data: Float32Array;
}

type Layout = readonly string[];

/**
 * One kernel call. `params` builds the parameter block from the resolved byte addresses of
 * views and constants.
 */
export interface PlanStep {
  kernel: KernelName;
  layout: Layout;
  params(addr: (v: View) => number, constAddr: (c: ConstRef) => number): Record<string, number>;
  /** Work units and the split granularity. */
  total: number;
  grain: number;
  /** Rough multiply-adds, to decide whether threads pay off. */
  cost: number;
  reads: View[];
  writes: View[];
  /** The IR node it came from (for profiles). */
  layer: string;
}

/** The whole plan. */
export interface InferencePlan {
  storages: StorageInfo[];
  consts: ConstRef[];
  steps: PlanStep[];
  input: View;
  outputs: { view: View; shape: number[] }[];
  /** Floats of zeros a conv may read for padded taps. */
  zeroFloats: number;
}

const ACTIVATION_CODE: Record<IRActivation, number> = ACT;

function hwc(shape: number[]): { H: number; W: number; C: number } {
  if (shape.length === 3) return { H: shape[0], W: shape[1], C: shape[2] };
  const C = shape.length ? shape[shape.length - 1] : 1;
  const pixels = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return { H: pixels, W: 1, C };
}

const pixelsOf = (v: View) => v.H * v.W;
const isCompact = (v: View) => v.stride === v.C || pixelsOf(v) === 1;

/** The input / output view fields every spatial kernel block starts with (native/params.h). */
function spatialIO(addr: (v: View) => number, x: View, y: View) {
  return { in: addr(x), H: x.H, W: x.W, C: x.C, inStride: x.stride, out: addr(y), OH: y.H, OW: y.W, outStride: y.stride };
}

/** Window fields shared by conv2d and depthwise2d. */
function windowFields(n: ConvNode, pads: [number, number]) {
  const [kh, kw] = n.filterShape;
  return { kh, kw, sh: n.strides[0], sw: n.strides[1], dh: n.dilations[0], dw: n.dilations[1], padTop: pads[0], padLeft: pads[1] };
}

/** Ops whose kernel can write its whole output into any view we hand it. */
const WRITERS = new Set<IRNode['op']>(['conv', 'affine', 'pad', 'maxPool', 'activation', 'add', 'mul', 'weightedSum', 'upsample', 'channelSplit', 'concat']);

function typed<L extends Layout>(layout: L, f: (addr: (v: View) => number, constAddr: (c: ConstRef) => number) => ParamValues<L>) {
  return { layout, params: f as PlanStep['params'] };
}

/** Build the plan of a graph. Throws {@link UnsupportedGraphError} naming the first node it cannot run. */
export function planInference(g: IRGraph, pack: { conv: PackFn; depthwise: PackFn }): InferencePlan {
  const producer = new Map<number, IRNode>();
  const consumers = new Map<number, IRNode[]>();
  for (const n of g.nodes) {
    for (const v of n.outputs) producer.set(v, n);
    for (const v of n.inputs) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  }
  for (const n of g.nodes) checkSupported(n, g);

  // 1. Placement of concat inputs inside the concat's buffer (later concats first).
  type Placement = { parent: number; offset: number; mode: 'channel' | 'flat' };
  const placed = new Map<number, Placement>();
  const isWriter = (v: number) => {
    const p = producer.get(v);
    return !!p && WRITERS.has(p.op) && v !== g.input;
  };
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.op !== 'concat') continue;
    const out = n.outputs[0];
    const rank = g.shapes[out].length;
    const seen = new Set<number>();
    let off = 0;
    for (const u of n.inputs) {
      const s = g.shapes[u];
      const size = n.axis === rank ? s[s.length - 1] : s.reduce((a, b) => a * b, 1);
      if (!seen.has(u) && !placed.has(u) && !g.outputs.includes(u)) {
        if (n.axis === rank && isWriter(u)) placed.set(u, { parent: out, offset: off, mode: 'channel' });
        else if (n.axis === 1) {
          // Flat region: the value itself, or the writer behind a reshape that only feeds this.
          const p = producer.get(u);
          if (isWriter(u)) placed.set(u, { parent: out, offset: off, mode: 'flat' });
          else if (p && p.op === 'reshape' && isWriter(p.inputs[0]) && !placed.has(p.inputs[0]) && (consumers.get(p.inputs[0]) ?? []).length === 1 && !g.outputs.includes(p.inputs[0])) {
            placed.set(p.inputs[0], { parent: out, offset: off, mode: 'flat' });
          }
        }
      }
      seen.add(u);
      off += size;
    }
  }

  // 1b. An activation whose only input comes from add / weightedSum / mul (and nobody else reads
  // that sum) is applied by the binary kernel itself: the sum is never stored.
  const fusedActivation = new Map<IRNode, IRNode & { op: 'activation' }>();
  for (const n of g.nodes) {
    if (n.op !== 'activation') continue;
    const src = n.inputs[0];
    const p = producer.get(src);
    if (p && (p.op === 'add' || p.op === 'weightedSum' || p.op === 'mul') && (consumers.get(src) ?? []).length === 1 && !g.outputs.includes(src)) {
      fusedActivation.set(p, n);
    }
  }

  // 2. Views: placed values live in their parent's buffer, views alias, the rest own a buffer.
  const storages: StorageInfo[] = [];
  const views = new Map<number, View>();
  const newStorage = (shape: number[]): View => {
    const { H, W, C } = hwc(shape);
    storages.push({ floats: Math.max(1, H * W * C) });
    return { storage: storages.length - 1, offset: 0, H, W, C, stride: C };
  };
  const viewOf = (v: number): View => {
    const have = views.get(v);
    if (have) return have;
    const shape = g.shapes[v];
    const { H, W, C } = hwc(shape);
    let view: View;
    const pl = placed.get(v);
    if (pl) {
      const parent = viewOf(pl.parent);
      if (pl.mode === 'channel') view = { storage: parent.storage, offset: parent.offset + pl.offset, H, W, C, stride: parent.stride };
      else {
        if (!isCompact(parent)) throw new Error(`planInference: flat concat of a strided view (${v})`);
        view = { storage: parent.storage, offset: parent.offset + pl.offset, H, W, C, stride: C };
      }
    } else {
      const p = producer.get(v);
      if (p && p.op === 'channelSlice') {
        const src = viewOf(p.inputs[0]);
        view = { storage: src.storage, offset: src.offset + p.begin, H: src.H, W: src.W, C: p.size, stride: src.stride };
      } else if (p && (p.op === 'reshape' || p.op === 'identity') && isCompact(viewOf(p.inputs[0]))) {
        const src = viewOf(p.inputs[0]);
        view = { storage: src.storage, offset: src.offset, H, W, C, stride: C };
      } else view = newStorage(shape);
    }
    views.set(v, view);
    return view;
  };

  // 3. Steps.
  const consts: ConstRef[] = [];
  const addConst = (data: Float32Array): ConstRef => {
    const c = { data };
    consts.push(c);
    return c;
  };
  const steps: PlanStep[] = [];
  let zeroFloats = 16;
  const zero = addConst(new Float32Array(0));
  /** One `unary` call: dst = act(src * scale + shift), src read with a channel step. */
  const unary = (src: View, dst: View, layer: string, o: { channelStep?: number; scale?: ConstRef; shift?: ConstRef; act?: number; alpha?: number; costPerValue?: number } = {}) => {
    const channelStep = o.channelStep ?? 1;
    if (src.H * src.W !== dst.H * dst.W || dst.C > src.C * channelStep) throw new Error(`planInference: unary of mismatched views in ${layer}`);
    steps.push({
      kernel: 'unary',
      ...typed(UNARY_PARAMS, (addr, ca) => ({
        x: addr(src),
        xStride: src.stride,
        channelStep,
        out: addr(dst),
        outStride: dst.stride,
        pixels: pixelsOf(dst),
        C: dst.C,
        scale: o.scale ? ca(o.scale) : 0,
        shift: o.shift ? ca(o.shift) : 0,
        act: o.act ?? ACT.linear,
        alpha: o.alpha ?? 0,
      })),
      total: pixelsOf(dst),
      grain: 64,
      cost: pixelsOf(dst) * dst.C * (o.costPerValue ?? 1),
      reads: [src],
      writes: [dst],
      layer,
    });
  };
  /** A plain (strided) copy. */
  const copy = (src: View, dst: View, layer: string, channelStep = 1) => unary(src, dst, layer, { channelStep });
  const binary = (x: View, y: View, out: View, op: number, a: number, b: number, layer: string, act: number = ACT.linear, alpha = 0) => {
    steps.push({
      kernel: 'binary',
      ...typed(BINARY_PARAMS, (addr) => ({
        x: addr(x),
        xStride: pixelsOf(x) === 1 && pixelsOf(out) > 1 ? 0 : x.stride,
        y: addr(y),
        yStride: pixelsOf(y) === 1 && pixelsOf(out) > 1 ? 0 : y.stride,
        out: addr(out),
        outStride: out.stride,
        pixels: pixelsOf(out),
        C: out.C,
        op,
        a,
        b,
        act,
        alpha,
      })),
      total: pixelsOf(out),
      grain: 64,
      cost: pixelsOf(out) * out.C,
      reads: [x, y],
      writes: [out],
      layer,
    });
  };

  const fusedInto = new Set<IRNode>(fusedActivation.values());
  for (const n of g.nodes) {
    if (fusedInto.has(n)) continue;
    const ins = n.inputs.map(viewOf);
    const fused = fusedActivation.get(n);
    // A fused activation: the binary kernel writes the activation's output directly.
    const outs = fused ? [viewOf(fused.outputs[0])] : n.outputs.map(viewOf);
    const x = ins[0];
    const y = outs[0];
    const layer = n.layer;
    const lastAct = fused ? ACTIVATION_CODE[fused.fn] : ACT.linear;
    const lastAlpha = fused ? fused.alpha ?? 0.1 : 0;
    // Binary chains (n-ary add / weighted sums) apply the fused activation on their last step.
    const chain = (steps: [View, View, number, number, number][]) =>
      steps.forEach(([p, q, op, a, b], k) => binary(p, q, y, op, a, b, layer, k === steps.length - 1 ? lastAct : ACT.linear, k === steps.length - 1 ? lastAlpha : 0));
    switch (n.op) {
      case 'conv': {
        const [kh, kw] = n.filterShape;
        const [[pt], [pl]] = explicitPadding(n.pad, [x.H, x.W], [kh, kw], n.strides, n.dilations);
        const act = ACTIVATION_CODE[n.activation];
        const alpha = n.alpha ?? 0.1;
        const packed = (n.depthwise ? pack.depthwise : pack.conv)(n.filter, n.filterShape, n.bias);
        const w = addConst(packed.weights);
        const b = addConst(packed.bias);
        if (n.depthwise) {
          steps.push({
            kernel: 'depthwise2d',
            ...typed(DEPTHWISE_PARAMS, (addr, ca) => ({ ...spatialIO(addr, x, y), weights: ca(w), bias: ca(b), ...windowFields(n, [pt, pl]), act, alpha })),
            total: y.H,
            grain: 1,
            cost: pixelsOf(y) * y.C * kh * kw,
            reads: [x],
            writes: [y],
            layer,
          });
        } else {
          // Few pixels, large weights (e.g. 13x13, 512 -> 1024): threads split the output
          // channels, so each streams only its share of the weights.
          const splitBlocks = n.filter.length * 4 > 1536 * 1024 && pixelsOf(y) < 64 * Math.ceil(y.C / 8);
          zeroFloats = Math.max(zeroFloats, x.C + 16);
          steps.push({
            kernel: 'conv2d',
            ...typed(CONV_PARAMS, (addr, ca) => ({
              ...spatialIO(addr, x, y),
              N: y.C,
              weights: ca(w),
              bias: ca(b),
              ...windowFields(n, [pt, pl]),
              act,
              alpha,
              zero: ca(zero),
              splitBlocks: splitBlocks ? 1 : 0,
            })),
            total: splitBlocks ? Math.ceil(y.C / 8) : pixelsOf(y),
            grain: splitBlocks ? 1 : 4,
            cost: pixelsOf(y) * y.C * kh * kw * x.C,
            reads: [x],
            writes: [y],
            layer,
          });
        }
        break;
      }
      case 'affine':
        unary(x, y, layer, { scale: addConst(Float32Array.from(n.scale)), shift: addConst(Float32Array.from(n.shift)) });
        break;
      case 'activation':
        unary(x, y, layer, { act: ACTIVATION_CODE[n.fn], alpha: n.alpha ?? 0.1, costPerValue: 4 });
        break;
      case 'pad': {
        const [[pt], [pl]] = n.pads;
        steps.push({
          kernel: 'pad2d',
          ...typed(PAD_PARAMS, (addr) => ({ ...spatialIO(addr, x, y), padTop: pt, padLeft: pl, value: n.value })),
          total: y.H,
          grain: 1,
          cost: pixelsOf(y) * y.C,
          reads: [x],
          writes: [y],
          layer,
        });
        break;
      }
      case 'maxPool': {
        const [[pt], [pl]] = explicitPadding(n.pad, [x.H, x.W], n.size, n.strides);
        steps.push({
          kernel: 'maxpool2d',
          ...typed(POOL_PARAMS, (addr) => ({ ...spatialIO(addr, x, y), kh: n.size[0], kw: n.size[1], sh: n.strides[0], sw: n.strides[1], padTop: pt, padLeft: pl })),
          total: y.H,
          grain: 1,
          cost: pixelsOf(y) * y.C * n.size[0] * n.size[1],
          reads: [x],
          writes: [y],
          layer,
        });
        break;
      }
      case 'add':
        chain([[ins[0], ins[1], BINARY_OP.axpby, 1, 1], ...ins.slice(2).map((v): [View, View, number, number, number] => [y, v, BINARY_OP.axpby, 1, 1])]);
        break;
      case 'weightedSum':
        if (ins.length === 1) chain([[ins[0], ins[0], BINARY_OP.axpby, n.weights[0], 0]]);
        else chain([[ins[0], ins[1], BINARY_OP.axpby, n.weights[0], n.weights[1]], ...ins.slice(2).map((v, k): [View, View, number, number, number] => [y, v, BINARY_OP.axpby, 1, n.weights[k + 2]])]);
        break;
      case 'mul':
        chain([[ins[0], ins[1], BINARY_OP.mul, 1, 1]]);
        break;
      case 'concat': {
        const rank = g.shapes[n.outputs[0]].length;
        let off = 0;
        n.inputs.forEach((u, k) => {
          const src = ins[k];
          const s = g.shapes[u];
          const size = n.axis === rank ? s[s.length - 1] : s.reduce((a, b) => a * b, 1);
          const target: View =
            n.axis === rank ? { storage: y.storage, offset: y.offset + off, H: y.H, W: y.W, C: src.C, stride: y.stride } : { ...src, storage: y.storage, offset: y.offset + off, stride: src.C };
          off += size;
          const already = src.storage === target.storage && src.offset === target.offset && src.stride === target.stride;
          if (!already) copy(src, target, layer);
        });
        break;
      }
      case 'upsample':
        steps.push({
          kernel: 'upsampleNearest',
          ...typed(UPSAMPLE_PARAMS, (addr) => ({ in: addr(x), H: x.H, W: x.W, C: x.C, inStride: x.stride, out: addr(y), outStride: y.stride, fy: n.scale[0], fx: n.scale[1] })),
          total: y.H,
          grain: 1,
          cost: pixelsOf(y) * y.C,
          reads: [x],
          writes: [y],
          layer,
        });
        break;
      case 'channelSlice':
        if (y.storage !== x.storage) copy({ ...x, offset: x.offset + n.begin, C: n.size }, y, layer);
        break;
      case 'channelSplit':
        n.outputs.forEach((v, j) => {
          if (n.folded[j] || !(consumers.get(v) ?? []).length) return;
          copy({ ...x, offset: x.offset + j, C: x.C }, outs[j], layer, n.groups);
        });
        break;
      case 'reshape':
      case 'identity':
        if (y.storage !== x.storage || y.offset !== x.offset) {
          if (isCompact(x)) copy({ ...x, H: y.H, W: y.W, C: y.C, stride: y.C }, y, layer);
          else if (x.C === y.C && pixelsOf(x) === pixelsOf(y)) copy(x, y, layer);
          else throw new UnsupportedGraphError(`layer '${layer}': reshape of a strided view`);
        }
        break;
      case 'globalAvgPool': {
        if (!isCompact(y)) throw new Error(`planInference: global pool into a strided view (${layer})`);
        steps.push({
          kernel: 'globalAvgPool',
          ...typed(GLOBAL_POOL_PARAMS, (addr) => ({ in: addr(x), pixels: pixelsOf(x), C: x.C, inStride: x.stride, out: addr(y) })),
          total: x.C,
          grain: 4,
          cost: pixelsOf(x) * x.C,
          reads: [x],
          writes: [y],
          layer,
        });
        break;
      }
      case 'custom':
        throw new UnsupportedGraphError(`layer '${n.layer}' (${n.className}) has no wasm kernel`);
    }
  }
  zero.data = new Float32Array(zeroFloats);
  return {
    storages,
    consts,
    steps,
    input: viewOf(g.input),
    outputs: g.outputs.map((v) => ({ view: viewOf(v), shape: g.shapes[v] })),
    zeroFloats,
  };
}

/** Packs a filter for a kernel (see packConvWeights / packDepthwiseWeights). */
export type PackFn = (filter: Float32Array, shape: readonly [number, number, number, number], bias: Float32Array | null) => { weights: Float32Array; bias: Float32Array };

function checkSupported(n: IRNode, g: IRGraph): void {
  const fail = (why: string) => {
    throw new UnsupportedGraphError(`layer '${n.layer}' (${n.op}): ${why}`);
  };
  const rank3 = (v: number) => g.shapes[v].length === 3;
  switch (n.op) {
    case 'conv':
      if (!rank3(n.inputs[0])) fail('input is not [H, W, C]');
      if (n.depthwise && n.filterShape[3] !== 1) fail(`depthwise channel multiplier ${n.filterShape[3]}`);
      break;
    case 'maxPool':
    case 'pad':
    case 'upsample':
      if (!rank3(n.inputs[0])) fail('input is not [H, W, C]');
      break;
    case 'mul': {
      const [a, b] = n.inputs.map((v) => g.shapes[v]);
      const pa = a.slice(0, -1).reduce((x, y) => x * y, 1);
      const pb = b.slice(0, -1).reduce((x, y) => x * y, 1);
      if (a[a.length - 1] !== b[b.length - 1] || (pa !== pb && pa !== 1 && pb !== 1)) fail(`broadcast of [${a}] * [${b}]`);
      break;
    }
    case 'add':
    case 'weightedSum': {
      const s = n.inputs.map((v) => g.shapes[v].join('x'));
      if (s.some((x) => x !== s[0])) fail(`inputs of different shapes ${s.join(', ')}`);
      break;
    }
    case 'concat': {
      const rank = g.shapes[n.outputs[0]].length;
      if (n.axis !== rank && n.axis !== 1) fail(`concat along axis ${n.axis} of a rank-${rank + 1} tensor`);
      break;
    }
    case 'custom':
      fail(`custom layer ${n.className} has no wasm kernel`);
  }
}
