/**
 * The published Scaled-YOLOv4 checkpoints (WongKinYiu/ScaledYOLOv4 README): yolov4-p5 / p6 /
 * p7 of the yolov4-large branch (whole pickled models, legacy format) and yolov4-csp of the
 * yolov4-csp branch (a cfg + a state dict). They are hosted on Google Drive, which serves them
 * only through a browser confirmation page: the files are the user's to download (`manual`),
 * and `load(name)` says where to put them.
 */
import { COCO_CLASSES } from '../../spec';
import type { ModelPreset as RegistryEntry } from '../preset';

const SOURCE = 'https://github.com/WongKinYiu/ScaledYOLOv4';

function large(name: 'yolov4-p5' | 'yolov4-p6' | 'yolov4-p7', driveId: string, size: number, ap: string): RegistryEntry {
  return {
    name,
    description: `Scaled-YOLOv4 ${name.slice(7).toUpperCase()}, COCO, ${size}x${size}, ${ap} AP val (WongKinYiu/ScaledYOLOv4 yolov4-large)`,
    source: `${SOURCE}/tree/yolov4-large`,
    files: [{ url: `https://drive.google.com/file/d/${driveId}/view`, filename: `${name}.pt`, manual: true }],
    converter: { kind: 'pytorch', arch: 'scaled-yolov4', weights: `${name}.pt`, inputSize: size },
    classNames: COCO_CLASSES.slice(),
  };
}

/** The family's registry entries. */
export const SCALED_YOLOV4_PRESETS: readonly RegistryEntry[] = [
  large('yolov4-p5', '1aXZZE999sHMP1gev60XhNChtHPRMH3Fz', 896, '51.2%'),
  large('yolov4-p6', '1aB7May8oPYzBqbgwYSZHuATPXyxh9xnf', 1280, '53.9%'),
  large('yolov4-p7', '18fGlzgEJTkUEiBG4hW00pyedJKNnYLP3', 1536, '55.0%'),
  {
    name: 'yolov4-csp',
    description: 'Scaled-YOLOv4 CSP, COCO, 512x512 (WongKinYiu/ScaledYOLOv4 yolov4-csp, PyTorch checkpoint + cfg)',
    source: `${SOURCE}/tree/yolov4-csp`,
    files: [
      { url: 'https://raw.githubusercontent.com/WongKinYiu/ScaledYOLOv4/yolov4-csp/models/yolov4-csp.cfg', filename: 'yolov4-csp.cfg' },
      { url: `${SOURCE}/tree/yolov4-csp#pretrained-models`, filename: 'yolov4-csp.pt', manual: true },
    ],
    converter: { kind: 'pytorch', arch: 'darknet', weights: 'yolov4-csp.pt', cfg: 'yolov4-csp.cfg', inputSize: 512 },
    classNames: COCO_CLASSES.slice(),
  },
];
