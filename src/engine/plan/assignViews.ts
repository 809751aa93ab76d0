/**
 * Planner phase 2: the view of every value. Placed values live in their concat's buffer, a
 * channel slice is a view of its input, a reshape / identity of a compact view is the same
 * memory; everything else owns a new buffer. Views are made on first use.
 */
import type { IRGraph, IRNode } from '../../infer/ir';
import type { StorageInfo, View } from './types';
import type { Placement } from './placeConcatInputs';
import { hwc, isCompact } from './views';

/** `viewOf(value)`, creating buffers into `storages` as needed. */
export function viewAssigner(g: IRGraph, producer: Map<number, IRNode>, placed: Map<number, Placement>, storages: StorageInfo[]): (v: number) => View {
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
  return viewOf;
}
