/**
 * The steps and constants of a plan being built, with the step builders several emitters share:
 * `unary` (strided copy, affine, activation), `copy` and `binary` (add / mul with scales).
 */
import { ACT, BINARY_PARAMS, ParamValues, UNARY_PARAMS } from '../kernelParams';
import type { ConstRef, Layout, PlanStep, View } from './types';
import { pixelsOf } from './views';

/** A step's layout and its parameter builder, typed against the layout. */
export function typed<L extends Layout>(layout: L, f: (addr: (v: View) => number, constAddr: (c: ConstRef) => number) => ParamValues<L>) {
  return { layout, params: f as PlanStep['params'] };
}

/** Options of a `unary` step: dst = act(src * scale + shift), src read with a channel step. */
export interface UnaryOptions {
  channelStep?: number;
  scale?: ConstRef;
  shift?: ConstRef;
  act?: number;
  alpha?: number;
  costPerValue?: number;
}

export class StepList {
  readonly consts: ConstRef[] = [];
  readonly steps: PlanStep[] = [];
  /** Floats of zeros a conv may read for padded taps (grown by the convs that need more). */
  zeroFloats = 16;
  /** The zero buffer (its data is sized at the end, from `zeroFloats`). */
  readonly zero: ConstRef;

  constructor() {
    this.zero = this.addConst(new Float32Array(0));
  }

  addConst(data: Float32Array): ConstRef {
    const c = { data };
    this.consts.push(c);
    return c;
  }

  push(step: PlanStep): void {
    this.steps.push(step);
  }

  /** One `unary` call: dst = act(src * scale + shift), src read with a channel step. */
  unary(src: View, dst: View, layer: string, o: UnaryOptions = {}): void {
    const channelStep = o.channelStep ?? 1;
    if (src.H * src.W !== dst.H * dst.W || dst.C > src.C * channelStep) throw new Error(`planInference: unary of mismatched views in ${layer}`);
    this.steps.push({
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
  }

  /** A plain (strided) copy. */
  copy(src: View, dst: View, layer: string, channelStep = 1): void {
    this.unary(src, dst, layer, { channelStep });
  }

  /** One `binary` call: out = act(op(a * x, b * y)); a one-pixel operand is broadcast. */
  binary(x: View, y: View, out: View, op: number, a: number, b: number, layer: string, act: number = ACT.linear, alpha = 0): void {
    this.steps.push({
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
  }
}
