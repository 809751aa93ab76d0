/**
 * The RFSong family (RFBNet300 on a VGG-like base with RFB blocks, SSD multibox heads, softmax
 * classes with a background channel); PyTorch weights through its key table; SSD's MultiBox
 * loss for training.
 */
import { SsdHeadSpec } from '../../spec';
import { Family } from '../family';
import { rfsong } from './rfsong';
import { rfsongClassCount, rfsongFromStateDict } from './fromStateDict';
import { RFSONG_PARTS } from './parts';
import { multiboxLoss } from './multiboxLoss';

export const rfsongFamily: Family = {
  name: 'rfsong',
  description: 'RFSong / RFBNet300 (SSD heads), PyTorch weights',
  matchesSpec: (spec) => spec.heads.every((h) => h.kind === 'ssd'),
  parts: RFSONG_PARTS,
  builders: { rfsong: (o = {}) => rfsong({ classNames: o.classNames, inputSize: o.inputSize }) },
  pytorchArchs: ['rfsong'],
  classCount: (_arch, sd) => rfsongClassCount(sd),
  fromStateDict: (_arch, sd, opts) => rfsongFromStateDict(sd, { classNames: opts.classNames, inputSize: opts.inputSize }),
  loss(spec) {
    if (spec.heads.length !== 1) throw new Error(`lossForSpec: '${spec.name}' has ${spec.heads.length} ssd heads; expected one`);
    const head = spec.heads[0] as SsdHeadSpec;
    return (outputs, boxes) => multiboxLoss(head, outputs, boxes, spec.input.size, spec.classNames.length);
  },
};
