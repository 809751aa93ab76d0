/**
 * The shape of a training loss as the trainer calls it, and the options a family's loss may
 * take. Families bind their reference loss (src/models/<family>/) to a spec through this type.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../spec';
import type { GroundTruthBox, LossTerms } from './types';

/** A training loss: raw outputs (training mode) + boxes (network pixels) -> terms. */
export type TrainLoss = (outputs: tf.Tensor[], boxes: GroundTruthBox[][], spec: ModelSpec) => LossTerms;

/** Options of `lossForSpec`. Only families whose loss takes anchor options accept them. */
export interface LossForSpecOptions {
  /**
   * Darknet heads: the cfg's FULL anchor list `[w, h]` (input pixels, cfg order). Default: the
   * union of the spec heads' anchors (see `darknetAnchorsFromSpec`).
   */
  anchors?: [number, number][];
  /** Darknet heads: anchor indices of each head, in head order (the cfg's masks). Required with `anchors`. */
  anchorMask?: number[][];
  /** Darknet heads: box term, keras-yolo3's (default) or CIoU. */
  boxLoss?: 'keras' | 'ciou';
}
