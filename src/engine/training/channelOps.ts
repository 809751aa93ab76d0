/**
 * Forward and backward of the training engine's broadcast channel ops (EfficientDet's): zero
 * padding as its own op, the spatial mean and channel product of squeeze-excitation, the fast
 * normalised fusion (with the gradient of its weights) and drop-connect. Kept apart from
 * trainingEngine.ts, which calls them through {@link ChannelOpContext}.
 *
 * Kernels: pad2d (forward, and with negative pads the crop of the backward), globalAvgPool,
 * scaleChannels and channelDot (native/channel_ops.c).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelName } from '../kernelModule';
import { CHANNEL_DOT_PARAMS, GLOBAL_POOL_PARAMS, PAD_PARAMS, ParamValues, SCALE_CHANNELS_PARAMS } from '../kernelParams';
import { TrainChannelMul, TrainDropConnect, TrainingGraph, TrainNode, TrainPad, TrainSpatialMean, TrainWeightedSum } from './trainingGraph';
import { Rng } from '../../util/random';

/** What the channel ops need from the engine. */
export interface ChannelOpContext {
  /** Images in the current batch. */
  readonly n: number;
  readonly graph: TrainingGraph;
  valueAt(v: number): number;
  /** A value's gradient buffer is planned (something upstream trains). */
  wantDx(v: number): boolean;
  /** Where to write the gradient of v and whether to add (see TrainingEngine.gradTarget). */
  gradTarget(v: number): { at: number; accumulate: 0 | 1 };
  gradAt(v: number): number;
  run<L extends readonly string[]>(kernel: KernelName, layout: L, values: ParamValues<L>, total: number, grain: number, cost: number): void;
  f32(ptr: number, floats: number): Float32Array;
  /** Byte offset of the engine's master copy / gradient (-1: none) of a variable. */
  master(v: tf.Variable): number;
  gradOf(v: tf.Variable): number;
  /** Scratch of {@link channelOpScratchFloats} floats. */
  readonly scratch: number;
  /** Uniform [0, 1) numbers for drop-connect. */
  readonly rng: Rng;
  /** Drop-connect factors of the current step, per node (0 or 1 / keep per image). */
  readonly dropFactors: Map<TrainNode, Float32Array>;
}

export type ChannelOpNode = (TrainPad | TrainSpatialMean | TrainChannelMul | TrainWeightedSum | TrainDropConnect) & { inputs: number[]; outputs: number[]; layer: string };

const CHANNEL_OPS = new Set(['pad', 'spatialMean', 'channelMul', 'weightedSum', 'dropConnect']);

/** Whether the node is one of this file's ops. */
export function isChannelOp(n: TrainNode): n is ChannelOpNode {
  return CHANNEL_OPS.has(n.op);
}

/** Scratch floats the channel ops need (a padded op's cropped gradient of one image; the fusion's channel dots). */
export function channelOpScratchFloats(g: TrainingGraph): number {
  let f = 16;
  for (const n of g.nodes) {
    const [H, W, C] = g.shapes[n.inputs[0]];
    if (n.op === 'pad') f = Math.max(f, H * W * C);
    if (n.op === 'weightedSum') f = Math.max(f, C);
  }
  return f;
}

/** The fusion weights `relu(v) / (sum relu(v) + eps)` in float32 as the layer computes them, and the pieces for the backward. */
function fusionWeights(v: Float32Array, eps: number): { w: number[]; r: number[]; denom: number } {
  const r = Array.from(v, (x) => Math.max(0, x));
  const denom = Math.fround(r.reduce((a, x) => Math.fround(a + x), 0) + eps);
  return { w: r.map((x) => Math.fround(x / denom)), r, denom };
}

const imgFloats = (s: [number, number, number]) => s[0] * s[1] * s[2];

/** out (+)= x * s * k over `pixels` rows of C (x stride 0: broadcast; s 0: none). */
function scale(ctx: ChannelOpContext, o: { x: number; xStride: number; s: number; out: number; pixels: number; C: number; k: number; accumulate: 0 | 1 }): void {
  ctx.run('scaleChannels', SCALE_CHANNELS_PARAMS, { ...o, outStride: o.C }, o.pixels, 64, o.pixels * o.C);
}

export function forwardChannelOp(ctx: ChannelOpContext, node: ChannelOpNode): void {
  const n = ctx.n;
  const S = ctx.graph.shapes;
  const y = node.outputs[0];
  const yAt = ctx.valueAt(y);
  switch (node.op) {
    case 'pad': {
      const x = node.inputs[0];
      const [H, W, C] = S[x];
      const [OH, OW] = S[y];
      for (let b = 0; b < n; b++) {
        ctx.run(
          'pad2d', PAD_PARAMS,
          { in: ctx.valueAt(x) + b * imgFloats(S[x]) * 4, H, W, C, inStride: C, out: yAt + b * imgFloats(S[y]) * 4, OH, OW, outStride: C, padTop: node.pads[0][0], padLeft: node.pads[1][0], value: 0 },
          OH, 1, OH * OW * C,
        );
      }
      return;
    }
    case 'spatialMean': {
      const x = node.inputs[0];
      const [H, W, C] = S[x];
      for (let b = 0; b < n; b++) {
        ctx.run('globalAvgPool', GLOBAL_POOL_PARAMS, { in: ctx.valueAt(x) + b * H * W * C * 4, pixels: H * W, C, inStride: C, out: yAt + b * C * 4 }, C, 4, H * W * C);
      }
      return;
    }
    case 'channelMul': {
      const [s, x] = node.inputs;
      const [H, W, C] = S[x];
      for (let b = 0; b < n; b++) {
        scale(ctx, { x: ctx.valueAt(x) + b * H * W * C * 4, xStride: C, s: ctx.valueAt(s) + b * C * 4, out: yAt + b * H * W * C * 4, pixels: H * W, C, k: 1, accumulate: 0 });
      }
      return;
    }
    case 'weightedSum': {
      const [H, W, C] = S[y];
      const { w } = fusionWeights(ctx.f32(ctx.master(node.weight), node.weight.size), node.epsilon);
      // (x0 w0) + (x1 w1) + ...: each product rounded, then added, as the layer's tf.mul / tf.add.
      node.inputs.forEach((u, i) => scale(ctx, { x: ctx.valueAt(u), xStride: C, s: 0, out: yAt, pixels: n * H * W, C, k: w[i], accumulate: i > 0 ? 1 : 0 }));
      return;
    }
    case 'dropConnect': {
      const x = node.inputs[0];
      const img = imgFloats(S[x]);
      const keep = 1 - node.rate;
      // As DropConnect.call: mask = floor(u + keep) per image, then x / keep * mask.
      const f = new Float32Array(n);
      for (let b = 0; b < n; b++) f[b] = Math.floor(ctx.rng() + keep) > 0 ? Math.fround(1 / keep) : 0;
      ctx.dropFactors.set(node, f);
      for (let b = 0; b < n; b++) scale(ctx, { x: ctx.valueAt(x) + b * img * 4, xStride: S[x][2], s: 0, out: yAt + b * img * 4, pixels: S[x][0] * S[x][1], C: S[x][2], k: f[b], accumulate: 0 });
      return;
    }
  }
}

export function backwardChannelOp(ctx: ChannelOpContext, node: ChannelOpNode): void {
  const n = ctx.n;
  const S = ctx.graph.shapes;
  const y = node.outputs[0];
  const dyAt = ctx.gradAt(y);
  switch (node.op) {
    case 'pad': {
      const x = node.inputs[0];
      if (!ctx.wantDx(x)) return;
      const [H, W, C] = S[x];
      const [OH, OW] = S[y];
      const t = ctx.gradTarget(x);
      for (let b = 0; b < n; b++) {
        // The crop: pad2d with negative pads; added through the scratch when x has another reader.
        const dst = t.accumulate ? ctx.scratch : t.at + b * H * W * C * 4;
        ctx.run('pad2d', PAD_PARAMS, { in: dyAt + b * OH * OW * C * 4, H: OH, W: OW, C, inStride: C, out: dst, OH: H, OW: W, outStride: C, padTop: -node.pads[0][0], padLeft: -node.pads[1][0], value: 0 }, H, 1, H * W * C);
        if (t.accumulate) scale(ctx, { x: ctx.scratch, xStride: C, s: 0, out: t.at + b * H * W * C * 4, pixels: H * W, C, k: 1, accumulate: 1 });
      }
      return;
    }
    case 'spatialMean': {
      const x = node.inputs[0];
      if (!ctx.wantDx(x)) return;
      const [H, W, C] = S[x];
      const t = ctx.gradTarget(x);
      for (let b = 0; b < n; b++) {
        scale(ctx, { x: dyAt + b * C * 4, xStride: 0, s: 0, out: t.at + b * H * W * C * 4, pixels: H * W, C, k: 1 / (H * W), accumulate: t.accumulate });
      }
      return;
    }
    case 'channelMul': {
      const [s, x] = node.inputs;
      const [H, W, C] = S[x];
      const img = H * W * C * 4;
      if (ctx.wantDx(s)) {
        const t = ctx.gradTarget(s);
        for (let b = 0; b < n; b++) {
          ctx.run('channelDot', CHANNEL_DOT_PARAMS, { x: dyAt + b * img, xStride: C, y: ctx.valueAt(x) + b * img, yStride: C, pixels: H * W, C, out: t.at + b * C * 4, accumulate: t.accumulate }, C, 8, H * W * C);
        }
      }
      if (ctx.wantDx(x)) {
        const t = ctx.gradTarget(x);
        for (let b = 0; b < n; b++) scale(ctx, { x: dyAt + b * img, xStride: C, s: ctx.valueAt(s) + b * C * 4, out: t.at + b * img, pixels: H * W, C, k: 1, accumulate: t.accumulate });
      }
      return;
    }
    case 'weightedSum': {
      const [H, W, C] = S[y];
      const pixels = n * H * W;
      const v = ctx.f32(ctx.master(node.weight), node.weight.size);
      const { w, r, denom } = fusionWeights(v, node.epsilon);
      const dvAt = node.trainable ? ctx.gradOf(node.weight) : -1;
      if (dvAt >= 0) {
        // dL/dw_i = sum(dy * x_i); w = r / D with D = sum r + eps: dL/dr_j = g_j / D - sum_i g_i r_i / D^2;
        // dL/dv_j = dL/dr_j where v_j > 0 (relu's gradient, tf.step: 0 at 0).
        const g = node.inputs.map((u) => {
          ctx.run('channelDot', CHANNEL_DOT_PARAMS, { x: dyAt, xStride: C, y: ctx.valueAt(u), yStride: C, pixels, C, out: ctx.scratch, accumulate: 0 }, C, 8, pixels * C);
          return ctx.f32(ctx.scratch, C).reduce((a, q) => a + q, 0);
        });
        const gr = g.reduce((a, gi, i) => a + gi * r[i], 0);
        const dv = ctx.f32(dvAt, node.weight.size);
        for (let j = 0; j < g.length; j++) if (v[j] > 0) dv[j] += g[j] / denom - gr / (denom * denom);
      }
      node.inputs.forEach((u, i) => {
        if (!ctx.wantDx(u)) return;
        const t = ctx.gradTarget(u);
        scale(ctx, { x: dyAt, xStride: C, s: 0, out: t.at, pixels, C, k: w[i], accumulate: t.accumulate });
      });
      return;
    }
    case 'dropConnect': {
      const x = node.inputs[0];
      if (!ctx.wantDx(x)) return;
      const f = ctx.dropFactors.get(node);
      if (!f) throw new Error(`TrainingEngine: internal error, no drop-connect mask for '${node.layer}'`);
      const [H, W, C] = S[x];
      const t = ctx.gradTarget(x);
      for (let b = 0; b < n; b++) scale(ctx, { x: dyAt + b * H * W * C * 4, xStride: C, s: 0, out: t.at + b * H * W * C * 4, pixels: H * W, C, k: f[b], accumulate: t.accumulate });
      return;
    }
  }
}
