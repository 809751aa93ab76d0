/**
 * `prune(detector, {ratio} | {threshold})`: channel pruning of a Darknet-cfg detector (see
 * `planPruning` and `applyPrunePlan`). Returns a new, smaller Detector, its cfg text and
 * `.weights` bytes (what `loadDarknet` and Darknet read), and a report.
 */
import { Detector } from '../detector';
import { loadDarknet } from '../models/darknet/loadDarknet';
import { getDarknetWeights } from '../models/darknet/getDarknetWeights';
import { darknetSourceOf } from '../models/darknet/darknetSource';
import { parseDarknetCfg } from '../weights/parseDarknetCfg';
import { writeDarknetWeights } from '../weights/writeDarknetWeights';
import { PruneOptions, PruneReport, pruneDarknet } from './pruneDarknet';

/** Options of {@link prune}. */
export type PruneDetectorOptions = Omit<PruneOptions, 'inputSize'> & {
  /**
   * The Darknet cfg text the detector was built from. Optional for detectors from
   * `loadDarknet` (it remembers the cfg); required for models built with `buildDarknetModel`.
   */
  cfg?: string;
};

/** Result of {@link prune}. */
export interface PruneResult {
  /** The pruned detector (same spec: classes, input size, heads); the caller disposes it. */
  detector: Detector;
  /** The pruned cfg (the original text with `filters`/`groups` changed). */
  cfgText: string;
  /** The pruned `.weights` file. */
  weights: Uint8Array;
  report: PruneReport;
}

/**
 * Prune the channels of `detector` whose BatchNorm |gamma| is smallest (globally ranked), fold
 * their constant output into the next layers, and rebuild. The input detector is unchanged.
 */
export function prune(detector: Detector, opts: PruneDetectorOptions): PruneResult {
  const cfgText = opts.cfg ?? darknetSourceOf(detector);
  if (cfgText === undefined) {
    throw new Error('prune: this detector was not loaded with loadDarknet; pass the Darknet cfg text it was built from as opts.cfg');
  }
  const cfg = parseDarknetCfg(cfgText);
  const tensors = getDarknetWeights(detector.model, cfg);
  const size = detector.spec.input.size;
  const result = pruneDarknet(cfgText, tensors, { ...opts, inputSize: [size[0], size[1]] });
  const weights = writeDarknetWeights(result.cfg, result.tensors);
  const pruned = loadDarknet(result.cfgText, weights, {
    classNames: detector.spec.classNames,
    inputSize: [size[0], size[1]],
    name: detector.spec.name,
  });
  return { detector: pruned, cfgText: result.cfgText, weights, report: result.report };
}
