/**
 * Prune a Darknet network given as cfg text + tensors: plan from the BN gammas, apply, and
 * report what changed. Pure data in, pure data out (no tfjs): the CLI and `prune(detector)`
 * both use it.
 */
import { DarknetCfg, parseDarknetCfg } from '../weights/parseDarknetCfg';
import { TensorMap } from '../weights/tensorMap';
import { applyPrunePlan } from './applyPrunePlan';
import { ConvCost, darknetCost } from './darknetCost';
import { PruneAmount, PruneMode, planPruning } from './planPruning';

/** Options of {@link pruneDarknet}. */
export type PruneOptions = PruneAmount & {
  /** Input size `[height, width]` for the FLOPs (default the cfg's). */
  inputSize?: [number, number];
};

/** One conv layer before and after. */
export interface PrunedLayerReport {
  index: number;
  before: ConvCost;
  after: ConvCost;
}

/** What pruning did. */
export interface PruneReport {
  mode: PruneMode;
  /** The |gamma| threshold in effect. */
  threshold: number;
  /** Prunable channel groups, and how many were pruned. */
  candidates: number;
  prunedGroups: number;
  params: { before: number; after: number };
  flops: { before: number; after: number };
  weightsBytes: { before: number; after: number };
  inputSize: [number, number];
  layers: PrunedLayerReport[];
}

/** Result of {@link pruneDarknet}. */
export interface PruneDarknetResult {
  cfgText: string;
  cfg: DarknetCfg;
  tensors: TensorMap;
  report: PruneReport;
}

/** Prune `tensors` of the cfg `cfgText` (see `planPruning` and `applyPrunePlan`). */
export function pruneDarknet(cfgText: string, tensors: TensorMap, opts: PruneOptions): PruneDarknetResult {
  const cfg = parseDarknetCfg(cfgText);
  const plan = planPruning(cfg, tensors, opts);
  const pruned = applyPrunePlan(cfgText, cfg, tensors, plan);
  const newCfg = parseDarknetCfg(pruned.cfgText);
  const before = darknetCost(cfg, opts.inputSize);
  const after = darknetCost(newCfg, opts.inputSize);
  return {
    cfgText: pruned.cfgText,
    cfg: newCfg,
    tensors: pruned.tensors,
    report: {
      mode: plan.mode,
      threshold: plan.threshold,
      candidates: plan.candidates,
      prunedGroups: plan.pruned,
      params: { before: before.params, after: after.params },
      flops: { before: before.flops, after: after.flops },
      weightsBytes: { before: before.weightsBytes, after: after.weightsBytes },
      inputSize: before.inputSize,
      layers: before.convs.map((b, k) => ({ index: b.index, before: b, after: after.convs[k] })),
    },
  };
}

function pct(before: number, after: number): string {
  return before > 0 ? `${(((after - before) / before) * 100).toFixed(1)}%` : '-';
}

/** The report as a text table: totals, then each conv's channels, params and FLOPs. */
export function formatPruneReport(r: PruneReport): string {
  const m = (n: number) => (n / 1e6).toFixed(3);
  const lines = [
    `pruned ${r.prunedGroups} of ${r.candidates} prunable channel groups (${r.mode} mode, |gamma| threshold ${r.threshold.toPrecision(4)})`,
    `params   ${m(r.params.before)}M -> ${m(r.params.after)}M (${pct(r.params.before, r.params.after)})`,
    `FLOPs    ${(r.flops.before / 1e9).toFixed(3)}G -> ${(r.flops.after / 1e9).toFixed(3)}G (${pct(r.flops.before, r.flops.after)}) at ${r.inputSize[1]}x${r.inputSize[0]}`,
    `weights  ${(r.weightsBytes.before / 1048576).toFixed(2)} MiB -> ${(r.weightsBytes.after / 1048576).toFixed(2)} MiB`,
    '',
    'layer  in before->after  filters before->after  params before->after',
  ];
  for (const l of r.layers) {
    lines.push(
      `${String(l.index).padStart(5)}  ${`${l.before.inChannels}->${l.after.inChannels}`.padStart(16)}  ` +
        `${`${l.before.filters}->${l.after.filters}`.padStart(21)}  ${`${l.before.params}->${l.after.params}`.padStart(20)}`,
    );
  }
  return lines.join('\n');
}
