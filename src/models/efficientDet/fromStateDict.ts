/**
 * EfficientDet from zylo117's PyTorch state dict: the class count it implies, assigning it
 * through the key table of `keyMap.ts`, and building the Detector.
 */
import * as tf from '@tensorflow/tfjs';
import { assignStateDict } from '../../weights/assignStateDict';
import { TensorMap } from '../../weights/tensorMap';
import { Detector } from '../../detector';
import { efficientDetGraph, EFFICIENTDET_RATIOS, EFFICIENTDET_SCALES } from './efficientDet';
import { efficientDetKeyTable } from './keyMap';
import { disposeLayersModel } from '../../layers/disposeLayersModel';

/** Options of {@link efficientDetFromStateDict}. */
export interface EfficientDetLoadOptions {
  /** Compound coefficient 0..7 of the weights. */
  phi: number;
  /** Class count; default: read from `classifier.header.pointwise_conv.conv.bias` (9 * C values). */
  numClasses?: number;
  classNames?: string[];
  /** Network input side override (multiple of 128); default the variant's. */
  inputSize?: number;
}

/** Class count implied by a state dict's classifier header (its bias has A * C entries). */
export function efficientDetNumClasses(sd: TensorMap): number {
  const key = 'classifier.header.pointwise_conv.conv.bias';
  const t = sd.get(key);
  if (!t) throw new Error(`not an EfficientDet state dict: missing key '${key}'`);
  const A = EFFICIENTDET_SCALES.length * EFFICIENTDET_RATIOS.length;
  if (t.shape.length !== 1 || t.shape[0] % A !== 0) throw new Error(`'${key}' has shape [${t.shape.join(', ')}], expected [${A} * numClasses]`);
  return t.shape[0] / A;
}

/** Assign zylo117's state dict to an EfficientDet-D{phi} LayersModel built by `efficientDetGraph`. */
export function assignEfficientDetStateDict(model: tf.LayersModel, sd: TensorMap, phi: number): void {
  try {
    assignStateDict(model, sd, efficientDetKeyTable(phi));
  } catch (e) {
    throw new Error(`efficientdet-d${phi}: ${(e as Error).message}`);
  }
}

/**
 * Build EfficientDet-D{phi} and load zylo117's state dict into it (every key checked: missing,
 * unexpected or mis-shaped keys throw an error naming them).
 */
export function efficientDetFromStateDict(sd: TensorMap, o: EfficientDetLoadOptions): Detector {
  const numClasses = o.numClasses ?? o.classNames?.length ?? efficientDetNumClasses(sd);
  const g = efficientDetGraph({ phi: o.phi, numClasses, classNames: o.classNames, inputSize: o.inputSize, init: 'zeros' });
  try {
    assignEfficientDetStateDict(g.model, sd, o.phi);
  } catch (e) {
    disposeLayersModel(g.model);
    throw e;
  }
  return new Detector(g.model, g.spec);
}
