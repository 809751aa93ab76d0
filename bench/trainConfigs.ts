/**
 * The training-step configurations of the benchmark and the profile (issue 15): which model
 * (an entry of bench/models.ts), at which batch, and which of our PyTorch scripts
 * (bench/pytorch/) computes the same step on PyTorch CPU, if any.
 */

export interface TrainConfig {
  /** An entry of `MODELS` (bench/models.ts); its name carries the input size. */
  model: string;
  batch: number;
  /**
   * Our PyTorch equivalent (bench/pytorch/train_step.py `--model <value>`), or undefined when
   * there is none.
   */
  pytorch?: string;
}

export const TRAIN_CONFIGS: TrainConfig[] = [
  { model: 'YOLO-FastestV2 352', batch: 8, pytorch: 'yolo-fastestv2' },
  { model: 'tiny YOLOv3 416', batch: 8, pytorch: 'tiny-yolov3' },
  // batch 1: the tfjs path runs out of wasm memory (XNNPACK) from batch 2 at 512 px, and the
  // engine fits up to batch 4; batch 1 is where both paths can be compared
  { model: 'EfficientDet-D0 512', batch: 1 },
];

/** Configurations whose model name contains one of `filters` (case-insensitive); all when none. */
export function selectTrainConfigs(filters: string[]): TrainConfig[] {
  if (filters.length === 0) return TRAIN_CONFIGS;
  return TRAIN_CONFIGS.filter((c) => filters.some((f) => c.model.toLowerCase().includes(f.toLowerCase())));
}
