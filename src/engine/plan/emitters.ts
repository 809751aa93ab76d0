/** The emitter of every IR op (a new op fails to compile until it has one). */
import type { Emitter, NodeOf } from './emitter';
import type { IRNode } from '../../infer/ir';
import { UnsupportedGraphError } from './types';
import { emitConv } from './emitConv';
import { emitActivation, emitAffine } from './emitUnary';
import { emitPad } from './emitPad';
import { emitMaxPool } from './emitMaxPool';
import { emitAdd, emitMul, emitWeightedSum } from './emitBinary';
import { emitConcat } from './emitConcat';
import { emitUpsample } from './emitUpsample';
import { emitGlobalAvgPool } from './emitGlobalAvgPool';
import { emitChannelSlice, emitChannelSplit, emitReshape } from './emitViewOps';

const emitCustom: Emitter<NodeOf<'custom'>> = ({ n }) => {
  throw new UnsupportedGraphError(`layer '${n.layer}' (${n.className}) has no wasm kernel`);
};

export const EMITTERS: { [K in IRNode['op']]: Emitter<NodeOf<K>> } = {
  conv: emitConv,
  affine: emitAffine,
  activation: emitActivation,
  pad: emitPad,
  maxPool: emitMaxPool,
  add: emitAdd,
  weightedSum: emitWeightedSum,
  mul: emitMul,
  concat: emitConcat,
  upsample: emitUpsample,
  channelSlice: emitChannelSlice,
  channelSplit: emitChannelSplit,
  reshape: emitReshape,
  identity: emitReshape,
  globalAvgPool: emitGlobalAvgPool,
  custom: emitCustom,
};
