/**
 * |gamma| of the BatchNorm layers during sparsity training (network slimming): which variables
 * are BN gammas, their per-epoch histogram and summary, and the plot (`gammas.png`: the
 * histogram of every epoch, light to dark, and the mean |gamma| per epoch) drawn with the
 * training-curve renderer.
 */
import * as tf from '@tensorflow/tfjs';
import { PlotPanel } from './plotCurves';

/** tfjs names a BatchNormalization layer's scale `<layer>/gamma` (maybe with a `_<n>` suffix). */
const GAMMA_NAME = /(^|\/)gamma(_\d+)?$/;

/** The BatchNorm gamma variables among `vars`. */
export function bnGammaVariables(vars: tf.Variable[]): tf.Variable[] {
  return vars.filter((v) => GAMMA_NAME.test(v.name) && v.shape.length === 1);
}

/** Per-epoch |gamma| summary (a field of the epoch log). */
export interface GammaStats {
  /** Histogram bin edges (bins + 1 values; the last bin also holds larger values). */
  edges: number[];
  counts: number[];
  mean: number;
  median: number;
  /** Fraction of channels with |gamma| < 0.01 (what a small pruning threshold would take). */
  below001: number;
}

/** All |gamma| values of `gammas`, concatenated. */
export function absGammas(gammas: tf.Variable[]): Float32Array {
  const parts = gammas.map((g) => g.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[at + i] = Math.abs(p[i]);
    at += p.length;
  }
  return out;
}

/** Summary of |gamma| values over `bins` equal bins from 0 to `top`. */
export function gammaStats(values: Float32Array, top: number, bins = 40): GammaStats {
  const edges = Array.from({ length: bins + 1 }, (_, i) => (top * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  let sum = 0;
  let small = 0;
  for (const v of values) {
    counts[Math.min(bins - 1, Math.floor((v / top) * bins))]++;
    sum += v;
    if (v < 0.01) small++;
  }
  const sorted = Float32Array.from(values).sort();
  return {
    edges,
    counts,
    mean: values.length ? sum / values.length : NaN,
    median: sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN,
    below001: values.length ? small / values.length : NaN,
  };
}

/** The panels of the |gamma| plot; `history[k]` is the state after k epochs (0 = before training). */
export function gammaPanels(history: GammaStats[]): PlotPanel[] {
  const last = Math.max(1, history.length - 1);
  const shade = (k: number): [number, number, number] => {
    const t = k / last;
    return [Math.round(200 - 170 * t), Math.round(210 - 150 * t), Math.round(255 - 75 * t)];
  };
  const centres = (s: GammaStats) => s.counts.map((_, i) => (s.edges[i] + s.edges[i + 1]) / 2);
  return [
    {
      title: '|gamma| histogram per epoch (light: start, dark: end)',
      series: history.map((s, k) => ({ label: k === 0 ? 'start' : k === last ? `epoch ${k}` : '', x: centres(s), y: s.counts, color: shade(k) })),
    },
    {
      title: 'mean |gamma| and fraction < 0.01 per epoch',
      series: [
        { label: 'mean |gamma|', x: history.map((_, k) => k), y: history.map((s) => s.mean), color: [31, 119, 180] },
        { label: 'fraction < 0.01', x: history.map((_, k) => k), y: history.map((s) => s.below001), color: [214, 39, 40] },
      ],
    },
  ];
}

/**
 * The |gamma| history of one sparsity run: the state before training, then one entry per
 * epoch, all on fixed bins from 0 to the starting maximum (so the epochs are comparable).
 * With no gammas to follow it records nothing.
 */
export class GammaTracker {
  /** `history[k]`: the state after k epochs (0 = before training). */
  readonly history: GammaStats[] = [];
  private readonly top: number = 1;

  constructor(private readonly gammas: tf.Variable[]) {
    if (gammas.length === 0) return;
    const start = absGammas(gammas);
    this.top = start.reduce((m, v) => Math.max(m, v), 1e-6);
    this.history.push(gammaStats(start, this.top));
  }

  /** Record the current state (after an epoch); undefined when there are no gammas. */
  record(): GammaStats | undefined {
    if (this.gammas.length === 0) return undefined;
    const s = gammaStats(absGammas(this.gammas), this.top);
    this.history.push(s);
    return s;
  }
}
