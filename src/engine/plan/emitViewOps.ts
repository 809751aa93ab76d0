/**
 * Emitters of the data-movement ops that are usually free views (phase 2): `channelSlice`,
 * `channelSplit`, `reshape` / `identity`. They emit a copy only where the view could not alias
 * its input.
 */
import type { Emitter, NodeOf } from './emitter';
import { UnsupportedGraphError } from './types';
import { isCompact, pixelsOf } from './views';

export const emitChannelSlice: Emitter<NodeOf<'channelSlice'>> = ({ n, ins: [x], outs: [y], layer }, { out }) => {
  if (y.storage !== x.storage) out.copy({ ...x, offset: x.offset + n.begin, C: n.size }, y, layer);
};

export const emitChannelSplit: Emitter<NodeOf<'channelSplit'>> = ({ n, ins: [x], outs, layer }, { out, consumers }) => {
  n.outputs.forEach((v, j) => {
    if (n.folded[j] || !(consumers.get(v) ?? []).length) return;
    out.copy({ ...x, offset: x.offset + j, C: x.C }, outs[j], layer, n.groups);
  });
};

export const emitReshape: Emitter<NodeOf<'reshape' | 'identity'>> = ({ ins: [x], outs: [y], layer }, { out }) => {
  if (y.storage !== x.storage || y.offset !== x.offset) {
    if (isCompact(x)) out.copy({ ...x, H: y.H, W: y.W, C: y.C, stride: y.C }, y, layer);
    else if (x.C === y.C && pixelsOf(x) === pixelsOf(y)) out.copy(x, y, layer);
    else throw new UnsupportedGraphError(`layer '${layer}': reshape of a strided view`);
  }
};
