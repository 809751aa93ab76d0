/**
 * The training loss of EfficientDet: focal + smooth-L1 ({@link efficientDetLoss}) with the
 * anchors of `generateAnchors` (the same grid decode uses).
 */
import * as tf from '@tensorflow/tfjs';
import { AnchorDeltasHeadSpec, ModelSpec } from '../../spec';
import { generateAnchors } from '../../decode/anchors';
import type { TrainLoss } from '../../loss/trainLoss';
import { efficientDetLoss } from './efficientDetLoss';

/** EfficientDet's loss for a spec with one anchor-deltas head. */
export function efficientDetTrainLoss(spec: ModelSpec): TrainLoss {
  const head = spec.heads[0] as AnchorDeltasHeadSpec;
  if (spec.heads.length !== 1) throw new Error(`lossForSpec: '${spec.name}' has ${spec.heads.length} anchor-deltas heads; expected one`);
  const anchors = generateAnchors(head, spec.input.size);
  return (outputs, boxes) => efficientDetLoss(
    outputs[head.regressionOutput] as tf.Tensor3D, outputs[head.classificationOutput] as tf.Tensor3D, anchors, boxes,
  );
}
