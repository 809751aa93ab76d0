/**
 * The default training augmentation of a detector: SSD's pipeline (random crop, photometric
 * distortion, zoom out, mirror) for SSD heads, as the SSD / RFBNet trainers do, and
 * `DEFAULT_AUGMENT` (scale, translate, flip, hsv) for the YOLO-style and EfficientDet heads.
 */
import { ModelSpec } from '../spec';
import { AugmentOptions, DEFAULT_AUGMENT } from './augment';

/** A fresh copy of the default augmentation for `spec` (mosaic probability `mosaic`, YOLO-style only). */
export function defaultAugmentForSpec(spec: ModelSpec, mosaic?: number): AugmentOptions {
  if (spec.heads.length > 0 && spec.heads.every((h) => h.kind === 'ssd')) return { ssd: true };
  return { ...DEFAULT_AUGMENT, ...(mosaic !== undefined ? { mosaic } : {}) };
}
