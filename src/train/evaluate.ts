/**
 * `evaluate(detector, dataset)`: run the detector over a dataset and score it with
 * `vocEvaluate` (mAP at an IoU threshold, default 0.5) and, when asked, `cocoEvaluate`
 * (mAP@[.5:.95] with COCO's rules).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { loadImage } from '../image/loadImage';
import { DatasetImage, DetectionDataset } from './data/dataset';
import { DatasetDetection, toCocoGt, toCocoResults } from './data/cocoConvert';
import { vocEvaluate, VocEvalResult } from '../eval/vocEvaluate';
import { cocoEvaluate, CocoEvalResult } from '../eval/cocoEvaluate';
import { ProgressBar } from '../util/progress';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** IoU for a VOC true positive. Default 0.5. */
  iouThreshold?: number;
  /** Also compute COCO mAP@[.5:.95] (and the other 11 COCO stats). Default false. */
  coco?: boolean;
  /** VOC 11-point interpolation instead of all-point. Default false. */
  elevenPoint?: boolean;
  /** Detection score threshold (low, as mAP needs the whole PR curve). Default 0.001. */
  scoreThreshold?: number;
  /** Images per forward pass. Default 8. */
  batchSize?: number;
  /** Show a progress bar on stderr. Default false. */
  progress?: boolean;
  /** Image decoder (default: `loadImage(image.file)`). The result is disposed after use. */
  readImage?: (image: DatasetImage) => Promise<tf.Tensor3D>;
  /** Label of the progress bar. */
  label?: string;
  /**
   * Detector class id -> dataset class id (-1: not in the dataset, dropped). Lets a detector
   * with more classes (e.g. COCO's 80) be scored on a dataset of some of them. Default: the
   * identity, which needs the same classes in the same order.
   */
  classMap?: number[];
  /** NMS IoU threshold of the detector (default: the model's). */
  nmsIouThreshold?: number;
}

/** What {@link evaluate} returns. */
export interface EvaluateResult {
  /** VOC mAP at `iouThreshold` (0.5 by default), continuous IoU. */
  mAP50: number;
  voc: VocEvalResult;
  /** COCO mAP@[.5:.95] (when `coco` was asked). */
  mAP?: number;
  coco?: CocoEvalResult;
  /** Every detection (original pixels). */
  detections: DatasetDetection[];
}

/**
 * Detect on every image of `dataset` (classes must match the detector's, in order) and return
 * VOC mAP@`iouThreshold` and, with `coco: true`, COCO's stats. Disposes every tensor it makes.
 */
export async function evaluate(detector: Detector, dataset: DetectionDataset, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const nc = detector.spec.classNames.length;
  const classMap = opts.classMap;
  if (classMap) {
    if (classMap.length !== nc) throw new Error(`evaluate: classMap has ${classMap.length} entries but the detector ${nc} classes`);
    const bad = classMap.find((c) => !(Number.isInteger(c) && c >= -1 && c < dataset.classNames.length));
    if (bad !== undefined) throw new Error(`evaluate: classMap entry ${bad} is not a dataset class id (0..${dataset.classNames.length - 1}) or -1`);
  } else if (dataset.classNames.length !== nc) {
    throw new Error(`evaluate: the dataset has ${dataset.classNames.length} classes but the detector ${nc}; use withClasses first`);
  }
  if (dataset.images.length === 0) throw new Error('evaluate: the dataset has no images');
  const batchSize = opts.batchSize ?? 8;
  const scoreThreshold = opts.scoreThreshold ?? 0.001;
  const read = opts.readImage ?? (async (im: DatasetImage) => (await loadImage(im.file)).tensor);
  const bar = new ProgressBar({ total: dataset.images.length, label: opts.label ?? 'eval', silent: !opts.progress });
  const detections: DatasetDetection[] = [];
  for (let i = 0; i < dataset.images.length; i += batchSize) {
    const chunk = dataset.images.slice(i, i + batchSize);
    const tensors = await Promise.all(chunk.map(read));
    try {
      const dets = await detector.detect(tensors, { scoreThreshold, iouThreshold: opts.nmsIouThreshold });
      dets.forEach((list, k) => {
        for (const d of list) {
          const classId = classMap ? classMap[d.classId] : d.classId;
          if (classId < 0) continue;
          detections.push({ imageId: chunk[k].id, x1: d.box[0], y1: d.box[1], x2: d.box[2], y2: d.box[3], classId, score: d.score });
        }
      });
    } finally {
      tf.dispose(tensors);
    }
    bar.tick(chunk.length);
  }
  const gt = toCocoGt(dataset);
  const results = toCocoResults(dataset, detections);
  const voc = vocEvaluate(gt, results, { iouThreshold: opts.iouThreshold ?? 0.5, elevenPoint: opts.elevenPoint, iouConvention: 'continuous' });
  const out: EvaluateResult = { mAP50: voc.mAP, voc, detections };
  if (opts.coco) {
    out.coco = cocoEvaluate(gt, results);
    out.mAP = out.coco.AP;
  }
  return out;
}
