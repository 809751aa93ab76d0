/**
 * The training table of the benchmark: one row per (model, threads), our step next to PyTorch
 * CPU's (pure functions, no tfjs).
 */

import { fmt } from './stats';

/** What the parent asks a training child to measure. */
export interface TrainJob {
  /** An entry of bench/models.ts. */
  model: string;
  batch: number;
  threads: number;
  steps: number;
  warmup: number;
  /** Ours: 'auto' (as train()), 'engine' or 'tfjs'. */
  path?: 'auto' | 'engine' | 'tfjs';
}

/** One measured training configuration (one child process). */
export interface TrainResult {
  model: string;
  batch: number;
  threads: number;
  /** `yolo-tfjs` or `pytorch`. */
  runner: 'yolo-tfjs' | 'pytorch';
  inputSize: [number, number];
  /** e.g. `tfjs-wasm`, `pytorch-cpu`. */
  backend?: string;
  /** Ours: which code ran the step (`tfjs` ops, or the engine). */
  path?: string;
  /** Ours, path 'auto': why the engine was not used. */
  engineFallback?: string;
  reportedThreads?: number;
  msPerStep?: number;
  firstStepMs?: number;
  minMs?: number;
  /** Process CPU time (all threads) per step, ms. */
  cpuMsPerStep?: number;
  timesMs?: number[];
  loss?: number;
  peakRssMB?: number;
  /** PyTorch version. */
  torch?: string;
  skipped?: string;
}

/** Markdown: model | batch | threads | ours | PyTorch | ours / PyTorch. */
export function trainMarkdownTable(results: TrainResult[]): string {
  const lines = [
    '| model | batch | threads | yolo-tfjs ms/step (path) | first step ms | CPU ms/step | PyTorch CPU ms/step | PyTorch CPU time ms/step | ours / PyTorch |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const config = (r: TrainResult): string => `${r.model}|${r.batch}|${r.threads}`;
  const rows: { o?: TrainResult; key: string }[] = [];
  for (const r of results) {
    if (r.runner === 'yolo-tfjs') rows.push({ o: r, key: config(r) });
    else if (!results.some((o) => o.runner === 'yolo-tfjs' && config(o) === config(r))) rows.push({ key: config(r) });
  }
  for (const { o, key } of rows) {
    const [model, batch, threads] = key.split('|');
    const p = results.find((r) => r.runner === 'pytorch' && config(r) === key);
    const oursCell = !o ? '-' : o.skipped ? `skipped: ${o.skipped}` : `${fmt(o.msPerStep, 0)} (${o.path ?? '?'})`;
    const ptCell = !p ? 'not compared' : p.skipped ? `skipped: ${p.skipped}` : fmt(p.msPerStep, 0);
    const ratio = o?.msPerStep !== undefined && p?.msPerStep !== undefined ? `${(o.msPerStep / p.msPerStep).toFixed(2)}x` : '-';
    lines.push(`| ${model} | ${batch} | ${threads} | ${oursCell} | ${fmt(o?.firstStepMs, 0)} | ${fmt(o?.cpuMsPerStep, 0)} | ${ptCell} | ${fmt(p?.cpuMsPerStep, 0)} | ${ratio} |`);
  }
  return lines.join('\n');
}
