/**
 * Which channels of a Darknet cfg to prune, from the BatchNorm gammas (Liu et al.'s network
 * slimming as Lam1360/YOLOv3-model-pruning applies it to Darknet cfgs).
 *
 * The cfg is walked once to learn which channels must live or die together, with one node per
 * output channel of every conv (and of the input image) and a union-find over them:
 * - `[shortcut]` adds channel c of its inputs, so those channels are one group ("shortcut"
 *   mode) or, in "normal" mode (Lam1360's `normal_prune`), are never pruned;
 * - a depthwise conv's output channel follows its input channel (pruning an input channel of a
 *   depthwise conv removes that depthwise channel too); it does not vote, since once its input
 *   is constant its own gamma says nothing;
 * - a general grouped conv (1 < groups < channels) keeps all its input and output channels;
 * - the channels feeding a `[yolo]` (the head convs), convs without batch_normalize and the
 *   image channels are never pruned;
 * - `[route]` concatenation just concatenates; a `[route]` with `groups` needs the same number
 *   of kept channels in every group of its input, so groups short of channels get back their
 *   highest-gamma ones.
 * A group's score is the largest |gamma| of its voting channels (kept if any member is above the
 * threshold). `ratio` prunes that fraction of the prunable groups, smallest scores first (with
 * single channels this is Lam1360's `sorted_bn[int(n * ratio)]` threshold); `threshold` prunes
 * the groups scoring below it. Every conv keeps at least its best channel.
 */
import { DarknetCfg } from '../weights/parseDarknetCfg';
import { darknetTensorName } from '../weights/readDarknetWeights';
import { TensorMap } from '../weights/tensorMap';

/** `normal`: channels joined by a `[shortcut]` are kept; `shortcut`: they are pruned together. */
export type PruneMode = 'normal' | 'shortcut';

/** How much to prune: exactly one of `ratio` or `threshold`. */
export interface PruneAmount {
  /** Fraction in [0, 1) of the prunable channel groups to remove, smallest |gamma| first. */
  ratio?: number;
  /** Remove the channel groups whose largest |gamma| is below this value. */
  threshold?: number;
  /** Default 'shortcut' (prunes more on residual cfgs; identical without shortcuts). */
  mode?: PruneMode;
}

/** The decision: a keep mask of every layer's output channels. */
export interface PrunePlan {
  /** `keep[i][c]` = 1 when channel c of layer i's output survives (index = Darknet layer index). */
  keep: Uint8Array[];
  /** Prunable channel groups (candidates) and how many were pruned. */
  candidates: number;
  pruned: number;
  /** The |gamma| threshold in effect (groups scoring below it were pruned). */
  threshold: number;
  mode: PruneMode;
}

class UnionFind {
  readonly parent: number[] = [];
  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r];
    while (this.parent[x] !== r) {
      const n = this.parent[x];
      this.parent[x] = r;
      x = n;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** Check the amount options; returns the validated mode. */
export function checkPruneAmount(opts: PruneAmount): PruneMode {
  const hasRatio = opts.ratio !== undefined;
  const hasThreshold = opts.threshold !== undefined;
  if (hasRatio === hasThreshold) throw new Error('prune: give exactly one of ratio or threshold');
  if (hasRatio && !(typeof opts.ratio === 'number' && opts.ratio >= 0 && opts.ratio < 1)) {
    throw new Error(`prune: ratio must be a number in [0, 1), got ${String(opts.ratio)}`);
  }
  if (hasThreshold && !(typeof opts.threshold === 'number' && opts.threshold >= 0 && Number.isFinite(opts.threshold))) {
    throw new Error(`prune: threshold must be a finite number >= 0, got ${String(opts.threshold)}`);
  }
  const mode = opts.mode ?? 'shortcut';
  if (mode !== 'normal' && mode !== 'shortcut') throw new Error(`prune: mode must be 'normal' or 'shortcut', got '${String(mode)}'`);
  return mode;
}

/** Decide which channels to prune (see the file comment). `tensors` as `readDarknetWeights` gives. */
export function planPruning(cfg: DarknetCfg, tensors: TensorMap, opts: PruneAmount): PrunePlan {
  const mode = checkPruneAmount(opts);
  const uf = new UnionFind();
  const fixed: boolean[] = [];
  const score: number[] = [];
  const fresh = (n: number, isFixed: boolean, gamma?: ArrayLike<number>): number[] =>
    Array.from({ length: n }, (_, c) => {
      const id = uf.add();
      fixed.push(isFixed);
      score.push(gamma ? Math.abs(gamma[c]) : -Infinity);
      return id;
    });
  const input = fresh(cfg.net.channels, true);
  const spaces: number[][] = [];
  const convSpaces: number[][] = [];
  const groupedRoutes: { nodes: number[]; groups: number }[] = [];
  for (const l of cfg.layers) {
    const prev = l.index === 0 ? input : spaces[l.index - 1];
    switch (l.type) {
      case 'convolutional': {
        const cin = prev.length;
        let out: number[];
        if (l.groups === 1) {
          const gamma = l.batchNormalize ? tensors.get(darknetTensorName(l.index, 'scales'))?.data : undefined;
          if (l.batchNormalize && !gamma) throw new Error(`prune: tensor ${darknetTensorName(l.index, 'scales')} is missing`);
          out = fresh(l.filters, !l.batchNormalize, gamma as ArrayLike<number> | undefined);
        } else if (l.groups === cin) {
          const m = l.filters / cin;
          out = fresh(l.filters, false);
          out.forEach((node, o) => uf.union(node, prev[Math.floor(o / m)]));
        } else {
          for (const n of prev) fixed[n] = true;
          out = fresh(l.filters, true);
        }
        spaces.push(out);
        convSpaces.push(out);
        break;
      }
      case 'route': {
        const out: number[] = [];
        for (const r of l.layers) {
          const s = spaces[r];
          if (l.groups > 1) {
            groupedRoutes.push({ nodes: s, groups: l.groups });
            const size = s.length / l.groups;
            out.push(...s.slice(l.groupId * size, (l.groupId + 1) * size));
          } else out.push(...s);
        }
        spaces.push(out);
        break;
      }
      case 'shortcut':
        for (const f of l.from) {
          spaces[f].forEach((node, c) => {
            uf.union(prev[c], node);
            if (mode === 'normal') fixed[node] = fixed[prev[c]] = true;
          });
        }
        spaces.push(prev.slice());
        break;
      case 'yolo':
        for (const n of prev) fixed[n] = true;
        spaces.push([]);
        break;
      default:
        spaces.push(prev.slice());
    }
  }

  // Collapse to groups: fixed if any member is, score = best voting member.
  const root = uf.parent.map((_, i) => uf.find(i));
  const rootFixed = new Map<number, boolean>();
  const rootScore = new Map<number, number>();
  root.forEach((r, i) => {
    rootFixed.set(r, (rootFixed.get(r) ?? false) || fixed[i]);
    rootScore.set(r, Math.max(rootScore.get(r) ?? -Infinity, score[i]));
  });
  const candidates = [...rootFixed.keys()].filter((r) => !rootFixed.get(r) && Number.isFinite(rootScore.get(r)));
  const pruned = new Set<number>();
  let threshold: number;
  if (opts.ratio !== undefined) {
    const sorted = candidates.slice().sort((a, b) => (rootScore.get(a) as number) - (rootScore.get(b) as number) || a - b);
    const n = Math.floor(sorted.length * opts.ratio);
    sorted.slice(0, n).forEach((r) => pruned.add(r));
    threshold = n < sorted.length ? (rootScore.get(sorted[n]) as number) : Infinity;
  } else {
    threshold = opts.threshold as number;
    for (const r of candidates) if ((rootScore.get(r) as number) < threshold) pruned.add(r);
  }

  // Repairs, until stable (they only ever un-prune, so this ends).
  const best = (nodes: number[]): number | undefined => {
    let pick: number | undefined;
    for (const n of nodes) {
      const r = root[n];
      if (pruned.has(r) && (pick === undefined || (rootScore.get(r) as number) > (rootScore.get(pick) as number))) pick = r;
    }
    return pick;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of convSpaces) {
      if (s.length > 0 && s.every((n) => pruned.has(root[n]))) {
        pruned.delete(best(s) as number);
        changed = true;
      }
    }
    for (const { nodes, groups } of groupedRoutes) {
      const size = nodes.length / groups;
      const slices = Array.from({ length: groups }, (_, g) => nodes.slice(g * size, (g + 1) * size));
      const kept = slices.map((s) => s.filter((n) => !pruned.has(root[n])).length);
      const want = Math.max(...kept);
      slices.forEach((s, g) => {
        for (let k = kept[g]; k < want; k = s.filter((n) => !pruned.has(root[n])).length) {
          pruned.delete(best(s) as number);
          changed = true;
        }
      });
    }
  }
  const keep = spaces.map((s) => Uint8Array.from(s, (n) => (pruned.has(root[n]) ? 0 : 1)));
  return { keep, candidates: candidates.length, pruned: pruned.size, threshold, mode };
}
