/**
 * The training loss of a detector: its family's loss (see the families table), bound to the
 * spec. Each takes the raw outputs of `model.apply(x, {training: true})` and the batch's boxes
 * in network-input pixels (`TrainBox`, the losses' `GroundTruthBox`), and returns scalar terms.
 * The reference losses live with their families (`src/models/<family>/`).
 */
import { ModelSpec } from '../spec';
import { familyOfSpec } from '../models/families';
import type { LossForSpecOptions, TrainLoss } from '../loss/trainLoss';

export type { LossTerms } from '../loss/types';
export type { LossForSpecOptions, TrainLoss } from '../loss/trainLoss';
export { darknetAnchorsFromSpec } from '../models/darknet/loss';

/**
 * The loss of the spec's family. The returned function is bound to this spec's geometry (input
 * size, anchors); build a new one when the spec changes.
 */
export function lossForSpec(spec: ModelSpec, opts: LossForSpecOptions = {}): TrainLoss {
  const family = familyOfSpec(spec);
  if (!family.lossTakesAnchorOptions && (opts.anchors || opts.anchorMask || opts.boxLoss)) {
    throw new Error(`lossForSpec: anchors, anchorMask and boxLoss apply to darknet heads, not ${spec.heads[0].kind}`);
  }
  if (!family.loss) throw new Error(`lossForSpec: the ${family.name} family has no training loss`);
  return family.loss(spec, opts);
}
