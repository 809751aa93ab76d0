/**
 * The YOLO-FastestV2 family (dog-qiuqiu/Yolo-FastestV2): ShuffleNetV2 backbone, light FPN,
 * YOLOv5-style heads with softmax classes; PyTorch weights through its key map.
 */
import { TensorMap } from '../../weights/tensorMap';
import { Family } from '../family';
import { yoloFastestV2FromStateDict } from './fromStateDict';
import { YOLO_FASTESTV2_PARTS } from './parts';
import { yoloFastestV2TrainLoss } from './loss';
import { YOLO_FASTESTV2_PRESETS } from './presets';

/** Class count of an upstream state dict: the output channels of `output_cls_layers`. */
export function yoloFastestV2ClassCount(sd: TensorMap): number {
  const key = 'output_cls_layers.weight';
  const t = sd.get(key);
  if (!t) throw new Error(`not a YOLO-FastestV2 state dict: missing key '${key}'`);
  return t.shape[0];
}

export const yoloFastestV2Family: Family = {
  name: 'yolo-fastestv2',
  description: 'YOLO-FastestV2 (dog-qiuqiu), PyTorch weights',
  matchesSpec: (spec) => spec.heads.every((h) => h.kind === 'yolov5' && h.layout !== 'anchor-major'),
  parts: YOLO_FASTESTV2_PARTS,
  pytorchArchs: ['yolo-fastestv2'],
  classCount: (_arch, sd) => yoloFastestV2ClassCount(sd),
  fromStateDict(_arch, sd, opts) {
    const numClasses = opts.classNames?.length ?? yoloFastestV2ClassCount(sd);
    return yoloFastestV2FromStateDict(sd, { numClasses, classNames: opts.classNames, inputSize: opts.inputSize });
  },
  loss: (spec) => yoloFastestV2TrainLoss(spec),
  presets: YOLO_FASTESTV2_PRESETS,
};
