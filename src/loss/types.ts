/**
 * Types shared by the detection losses.
 */
import * as tf from '@tensorflow/tfjs';

/** A ground-truth box in network-input pixels (after letterbox/resize), with its class. */
export interface GroundTruthBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Class index, 0 <= classId < numClasses. */
  classId: number;
}

/**
 * A loss value and its terms (scalars). `total` is what is minimised; `box`, `obj`, `cls` are
 * the terms with the upstream weights already applied, so `total = box + obj + cls`
 * (`obj` is 0 for losses without an objectness term).
 */
export interface LossTerms {
  total: tf.Scalar;
  box: tf.Scalar;
  obj: tf.Scalar;
  cls: tf.Scalar;
}

/** Checks ground-truth boxes, throwing an error that names the image and box at fault. */
export function checkGroundTruth(gt: GroundTruthBox[][], batch: number, numClasses: number, who: string): void {
  if (!Array.isArray(gt) || gt.length !== batch) {
    throw new Error(`${who}: expected ground truth for ${batch} image(s) (one array per image), got ${Array.isArray(gt) ? gt.length : typeof gt}`);
  }
  gt.forEach((boxes, i) => {
    if (!Array.isArray(boxes)) throw new Error(`${who}: ground truth of image ${i} is not an array of boxes`);
    boxes.forEach((b, j) => {
      const at = `${who}: image ${i} box ${j}`;
      if (![b.x1, b.y1, b.x2, b.y2].every(Number.isFinite)) throw new Error(`${at} has non-finite coordinates`);
      if (!Number.isInteger(b.classId) || b.classId < 0 || b.classId >= numClasses) {
        throw new Error(`${at} has classId ${b.classId}, expected an integer in [0, ${numClasses})`);
      }
    });
  });
}

/**
 * Checks raw head outputs as every anchor-based loss needs them: a non-empty list of rank-4
 * NHWC tensors of one batch size. Returns the batch size.
 */
export function checkHeadOutputs(outputs: tf.Tensor[], who: string): number {
  if (!Array.isArray(outputs) || outputs.length === 0) throw new Error(`${who}: outputs must be a non-empty list of tensors`);
  const n = outputs[0].shape[0];
  outputs.forEach((o, l) => {
    if (o.rank !== 4) throw new Error(`${who}: output ${l} must be NHWC rank 4, got shape [${o.shape}]`);
    if (o.shape[0] !== n) throw new Error(`${who}: output ${l} has batch ${o.shape[0]}, output 0 has ${n}`);
  });
  return n;
}

/**
 * Checks that output `l` has `expected(l).count` channels; `formula` says how the count is made
 * (the family's channel layout) in the error.
 */
export function checkHeadChannels(outputs: tf.Tensor[], who: string, expected: (level: number) => { count: number; formula: string }): void {
  outputs.forEach((o, l) => {
    const { count, formula } = expected(l);
    if (o.shape[3] !== count) throw new Error(`${who}: output ${l} has ${o.shape[3]} channels, expected ${formula} = ${count}`);
  });
}

/** Checks that anchors are given for each of the outputs' levels (`levelWord`: 'scales', 'levels'). */
export function checkAnchorLevels(outputs: tf.Tensor[], anchors: unknown, who: string, levelWord: string): void {
  if (!Array.isArray(anchors) || anchors.length !== outputs.length) {
    throw new Error(`${who}: ${outputs.length} outputs but anchors are given for ${Array.isArray(anchors) ? anchors.length : anchors} ${levelWord}`);
  }
}

/** Checks a class count (an integer >= 1). */
export function checkNumClasses(numClasses: number, who: string): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${who}: numClasses must be an integer >= 1, got ${numClasses}`);
}
