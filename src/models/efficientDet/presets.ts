/** The published EfficientDet-D0..D7 COCO weights (zylo117), converted by `loadPytorch`. */
import { ModelPreset } from '../preset';
import { EFFICIENTDET_COCO_CLASSES } from './efficientDet';

function efficientDetPreset(phi: number): ModelPreset {
  const release = phi === 7 ? '1.2' : '1.0';
  return {
    name: `efficientdet-d${phi}`,
    description: `EfficientDet-D${phi}, COCO (zylo117/Yet-Another-EfficientDet-Pytorch)`,
    source: 'https://github.com/zylo117/Yet-Another-EfficientDet-Pytorch',
    files: [
      {
        url: `https://github.com/zylo117/Yet-Another-Efficient-Pytorch/releases/download/${release}/efficientdet-d${phi}.pth`,
        filename: `efficientdet-d${phi}.pth`,
      },
    ],
    converter: { kind: 'pytorch', arch: `efficientdet-d${phi}`, weights: `efficientdet-d${phi}.pth` },
    classNames: EFFICIENTDET_COCO_CLASSES.slice(),
  };
}

/** The EfficientDet presets D0..D7, in registry order. */
export const EFFICIENTDET_PRESETS: readonly ModelPreset[] = Array.from({ length: 8 }, (_, phi) => efficientDetPreset(phi));
