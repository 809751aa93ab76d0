/**
 * The training loss of a detector, chosen from its spec's head kind:
 * darknet -> keras-yolo3's loss, yolov5 -> YOLO-FastestV2's loss, anchor-deltas -> EfficientDet's
 * focal + smooth-L1 loss. Each takes the raw outputs of `model.apply(x, {training: true})` and
 * the batch's boxes in network-input pixels, and returns scalar terms.
 *
 * ADAPTER NOTE: the project's reference losses live in `src/train/losses/` (another engineer).
 * Until they are wired in here, this file uses the compact implementations in
 * `fallbackLosses.ts`, written from the same upstream formulas.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../spec';
import { TrainBox } from './augment';
import { modelFamily } from './modelParts';
import { darknetYoloLoss, efficientDetFocalLoss, yoloFastestV2StyleLoss } from './fallbackLosses';

/** Scalar loss terms; `total` is what is minimised. */
export interface LossTerms {
  total: tf.Scalar;
  box: tf.Scalar;
  obj: tf.Scalar;
  cls: tf.Scalar;
}

/** A training loss: raw outputs (training mode) + boxes (network pixels) -> terms. */
export type TrainLoss = (outputs: tf.Tensor[], boxes: TrainBox[][], spec: ModelSpec) => LossTerms;

/** The loss for a spec's head kind. */
export function lossForSpec(spec: ModelSpec): TrainLoss {
  const family = modelFamily(spec);
  if (family === 'yolov5') return yoloFastestV2StyleLoss;
  if (family === 'darknet') return darknetYoloLoss;
  return efficientDetFocalLoss;
}
