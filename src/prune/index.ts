/**
 * `yolo-tfjs/prune`: channel pruning of Darknet-cfg detectors (network slimming: sparsity
 * training with `train({sparsity})`, prune, fine-tune).
 */
export { prune } from './prune';
export type { PruneDetectorOptions, PruneResult } from './prune';
export { pruneDarknet, formatPruneReport } from './pruneDarknet';
export type { PruneOptions, PruneReport, PrunedLayerReport, PruneDarknetResult } from './pruneDarknet';
export { planPruning } from './planPruning';
export type { PruneAmount, PruneMode, PrunePlan } from './planPruning';
export { darknetCost } from './darknetCost';
export type { DarknetCost, ConvCost } from './darknetCost';
export { getDarknetWeights } from '../models/darknet/getDarknetWeights';
export { writeDarknetWeights } from '../weights/writeDarknetWeights';
