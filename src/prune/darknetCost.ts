/**
 * Size and cost of a Darknet cfg, per conv layer: channels, trainable parameters (kernel plus
 * bias, or BN gamma and beta) and FLOPs counted as Darknet counts its BFLOPs
 * (2 x multiply-adds of the convs), at the cfg's input size or an override.
 */
import { DarknetCfg } from '../weights/parseDarknetCfg';
import { darknetLayerShapes } from '../weights/darknetLayerShapes';
import { darknetConvWeightsLayout, darknetWeightsFloatCount } from '../weights/readDarknetWeights';

/** One conv layer's cost. */
export interface ConvCost {
  index: number;
  inChannels: number;
  filters: number;
  groups: number;
  size: number;
  params: number;
  flops: number;
}

/** A cfg's cost. */
export interface DarknetCost {
  convs: ConvCost[];
  params: number;
  flops: number;
  /** Bytes of the `.weights` file (20-byte header + every stored float, BN statistics included). */
  weightsBytes: number;
  /** The input size the FLOPs are for, `[height, width]`. */
  inputSize: [number, number];
}

/** Cost of `cfg` at `inputSize` (default the cfg's `[net]` size). */
export function darknetCost(cfg: DarknetCfg, inputSize?: [number, number]): DarknetCost {
  const size: [number, number] = inputSize ?? [cfg.net.height, cfg.net.width];
  const shapes = darknetLayerShapes(cfg, size);
  const convs = darknetConvWeightsLayout(cfg).map((info): ConvCost => {
    const l = info.layer;
    const out = shapes.layers[l.index];
    const perChannel = l.batchNormalize ? 2 : 1;
    return {
      index: l.index,
      inChannels: info.inChannels,
      filters: l.filters,
      groups: l.groups,
      size: l.size,
      params: info.kernelFloats + perChannel * l.filters,
      flops: 2 * info.kernelFloats * out.h * out.w,
    };
  });
  return {
    convs,
    params: convs.reduce((s, c) => s + c.params, 0),
    flops: convs.reduce((s, c) => s + c.flops, 0),
    weightsBytes: 20 + 4 * darknetWeightsFloatCount(cfg),
    inputSize: size,
  };
}
