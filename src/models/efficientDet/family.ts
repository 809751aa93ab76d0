/**
 * The EfficientDet family (zylo117/Yet-Another-EfficientDet-Pytorch), D0..D7: EfficientNet
 * backbone, BiFPN, anchor + delta heads; PyTorch weights through its key map.
 */
import { Family } from '../family';
import { efficientDetFromStateDict, efficientDetNumClasses } from './fromStateDict';
import { EFFICIENTDET_PARTS } from './parts';
import { efficientDetTrainLoss } from './loss';
import { EFFICIENTDET_PRESETS } from './presets';

const ARCH_PREFIX = 'efficientdet-d';

/** Compound coefficient of an `efficientdet-d{phi}` architecture name. */
const phiOf = (arch: string): number => Number(arch.slice(ARCH_PREFIX.length));

export const efficientDetFamily: Family = {
  name: 'efficientdet',
  description: 'EfficientDet D0..D7 (zylo117), PyTorch weights',
  matchesSpec: (spec) => spec.heads.every((h) => h.kind === 'anchor-deltas'),
  parts: EFFICIENTDET_PARTS,
  pytorchArchs: Array.from({ length: 8 }, (_, phi) => `${ARCH_PREFIX}${phi}`),
  pytorchArchsHelp: `${ARCH_PREFIX}0..d7`,
  classCount: (_arch, sd) => efficientDetNumClasses(sd),
  fromStateDict: (arch, sd, opts) => efficientDetFromStateDict(sd, { phi: phiOf(arch), classNames: opts.classNames, inputSize: opts.inputSize }),
  loss: (spec) => efficientDetTrainLoss(spec),
  presets: EFFICIENTDET_PRESETS,
};
