/**
 * Compile-time rewrites of the inference IR, each exact (up to float rounding):
 * - identities (dropout, drop-connect) removed;
 * - zero padding absorbed into the following conv's padding;
 * - BatchNorm (an `affine` node) folded into the preceding conv: w' = w * s, b' = b * s + t
 *   with s = gamma / sqrt(var + eps), t = beta - mean * s (each BN's own epsilon);
 * - an activation absorbed into the preceding conv (run fused where the backend can);
 * - an activation of a concatenation of (reshaped) convs moved into those convs (EfficientDet's
 *   class sigmoid over all levels: elementwise, so it commutes with reshape and concat);
 * - ShuffleNet's interleaved channel split folded into the weights of the plain convs that read
 *   it (zero weights for the channels of the other part), so those parts are never computed.
 * Each rewrite only applies when the intermediate value has no other reader.
 */
import { ConvNode, IRGraph, IRNode, useCounts } from './ir';

/** Options of {@link optimizeGraph}. */
export interface OptimizeOptions {
  /** Fold BatchNorm into convs (default true). */
  foldBatchNorm?: boolean;
  /** Absorb activations into convs (default true). */
  fuseActivations?: boolean;
  /** Absorb zero padding into convs (default true). */
  foldPadding?: boolean;
  /** Fold channel-split parts into the convs that read them (default true). */
  foldChannelSplit?: boolean;
}

type Conv = ConvNode & IRNode;

/** Rewrite `g` in place and return it. */
export function optimizeGraph(g: IRGraph, opts: OptimizeOptions = {}): IRGraph {
  removeIdentities(g);
  if (opts.foldPadding ?? true) foldPadding(g);
  if (opts.foldBatchNorm ?? true) foldAffine(g);
  if (opts.fuseActivations ?? true) {
    fuseActivations(g);
    pushActivationsIntoConcat(g);
  }
  if (opts.foldChannelSplit ?? true) foldChannelSplit(g);
  removeDead(g);
  return g;
}

/** Replace every read of value `from` by `to`. */
function rename(g: IRGraph, from: number, to: number): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((v) => (v === from ? to : v));
  g.outputs = g.outputs.map((v) => (v === from ? to : v));
}

function producers(g: IRGraph): Map<number, IRNode> {
  const m = new Map<number, IRNode>();
  for (const n of g.nodes) for (const v of n.outputs) m.set(v, n);
  return m;
}

function removeIdentities(g: IRGraph): void {
  for (const n of g.nodes.filter((x) => x.op === 'identity')) {
    rename(g, n.outputs[0], n.inputs[0]);
    g.nodes.splice(g.nodes.indexOf(n), 1);
  }
}

function foldPadding(g: IRGraph): void {
  const prod = producers(g);
  for (const n of g.nodes) {
    if (n.op !== 'conv' || n.pad !== 'valid') continue;
    const p = prod.get(n.inputs[0]);
    if (!p || p.op !== 'pad' || p.value !== 0) continue;
    const [[t, bo], [l, r]] = p.pads;
    // Depthwise fused convs take 'same' | 'valid' | a symmetric number only.
    if (n.depthwise && !(t === bo && t === l && t === r)) continue;
    n.pad = p.pads.map((x) => x.slice()) as [[number, number], [number, number]];
    n.inputs = [p.inputs[0]];
  }
}

/** Output channel of each flat filter index is `index % outChannels` (HWIO and HW C M alike). */
function outChannels(c: ConvNode): number {
  return c.depthwise ? c.filterShape[2] * c.filterShape[3] : c.filterShape[3];
}

function foldAffine(g: IRGraph): void {
  const uses = useCounts(g);
  const prod = producers(g);
  for (const n of g.nodes.slice()) {
    if (n.op !== 'affine') continue;
    const p = prod.get(n.inputs[0]);
    if (!p || p.op !== 'conv' || p.activation !== 'linear' || uses.get(n.inputs[0]) !== 1) continue;
    const conv = p as Conv;
    const co = outChannels(conv);
    if (n.scale.length !== co) continue;
    const w = conv.filter;
    for (let i = 0; i < w.length; i++) w[i] *= n.scale[i % co];
    const bias = new Float32Array(co);
    for (let c = 0; c < co; c++) bias[c] = (conv.bias ? conv.bias[c] : 0) * n.scale[c] + n.shift[c];
    conv.bias = bias;
    conv.outputs = n.outputs;
    prod.set(n.outputs[0], conv);
    g.nodes.splice(g.nodes.indexOf(n), 1);
  }
}

function fuseActivations(g: IRGraph): void {
  const uses = useCounts(g);
  const prod = producers(g);
  for (const n of g.nodes.slice()) {
    if (n.op !== 'activation') continue;
    const p = prod.get(n.inputs[0]);
    if (!p || p.op !== 'conv' || p.activation !== 'linear' || uses.get(n.inputs[0]) !== 1) continue;
    p.activation = n.fn;
    if (n.alpha !== undefined) p.alpha = n.alpha;
    p.outputs = n.outputs;
    prod.set(n.outputs[0], p);
    g.nodes.splice(g.nodes.indexOf(n), 1);
  }
}

function pushActivationsIntoConcat(g: IRGraph): void {
  const uses = useCounts(g);
  const prod = producers(g);
  for (const n of g.nodes.slice()) {
    if (n.op !== 'activation') continue;
    const cat = prod.get(n.inputs[0]);
    if (!cat || cat.op !== 'concat' || uses.get(n.inputs[0]) !== 1) continue;
    // The linear conv behind every concat input (directly or through one reshape), each read once.
    const convs: Conv[] = [];
    for (const v of cat.inputs) {
      let p = prod.get(v);
      if (uses.get(v) !== 1) break;
      if (p && p.op === 'reshape' && uses.get(p.inputs[0]) === 1) p = prod.get(p.inputs[0]);
      if (!p || p.op !== 'conv' || p.activation !== 'linear' || convs.includes(p as Conv)) break;
      convs.push(p as Conv);
    }
    if (convs.length !== cat.inputs.length) continue;
    for (const c of convs) {
      c.activation = n.fn;
      if (n.alpha !== undefined) c.alpha = n.alpha;
    }
    rename(g, n.outputs[0], cat.outputs[0]);
    g.nodes.splice(g.nodes.indexOf(n), 1);
  }
}

function foldChannelSplit(g: IRGraph): void {
  for (const split of g.nodes) {
    if (split.op !== 'channelSplit') continue;
    const full = g.shapes[split.inputs[0]];
    const cin = full[full.length - 1];
    split.outputs.forEach((v, j) => {
      if (g.outputs.includes(v)) return;
      const readers = g.nodes.filter((n) => n.inputs.includes(v));
      if (readers.length === 0 || !readers.every((r) => r.op === 'conv' && !r.depthwise && r.inputs[0] === v)) return;
      for (const r of readers as Conv[]) {
        const [kh, kw, ci, co] = r.filterShape;
        const w = new Float32Array(kh * kw * cin * co);
        for (let s = 0; s < kh * kw; s++) {
          for (let k = 0; k < ci; k++) {
            const src = (s * ci + k) * co;
            const dst = (s * cin + k * split.groups + j) * co;
            w.set(r.filter.subarray(src, src + co), dst);
          }
        }
        r.filter = w;
        r.filterShape = [kh, kw, cin, co];
        r.inputs = [split.inputs[0]];
      }
      split.folded[j] = true;
    });
  }
}

function removeDead(g: IRGraph): void {
  let changed = true;
  while (changed) {
    changed = false;
    const uses = useCounts(g);
    for (const n of g.nodes.slice()) {
      const live = n.outputs.some((v) => (uses.get(v) ?? 0) > 0);
      if (!live) {
        g.nodes.splice(g.nodes.indexOf(n), 1);
        changed = true;
      } else if (n.op === 'channelSplit') {
        n.outputs.forEach((v, j) => {
          if ((uses.get(v) ?? 0) === 0) n.folded[j] = true;
        });
      }
    }
  }
}
