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
