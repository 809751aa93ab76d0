/** The training loss of YOLO-FastestV2 ({@link yoloFastestV2Loss}) bound to a spec. */
import { ModelSpec, Yolov5HeadSpec } from '../../spec';
import type { TrainLoss } from '../../loss/trainLoss';
import { yoloFastestV2Loss } from './yoloFastestV2Loss';

/** YOLO-FastestV2's loss for a spec of softmax-class yolov5 heads. */
export function yoloFastestV2TrainLoss(spec: ModelSpec): TrainLoss {
  const heads = spec.heads as Yolov5HeadSpec[];
  const bad = heads.findIndex((h) => h.classActivation !== 'softmax');
  if (bad >= 0) {
    throw new Error(`lossForSpec: head ${bad} of '${spec.name}' has ${heads[bad].classActivation} classes; YOLO-FastestV2's loss is for softmax class heads`);
  }
  const opts = { inputSize: spec.input.size, anchors: heads.map((h) => h.anchors), numClasses: spec.classNames.length };
  return (outputs, boxes) => yoloFastestV2Loss(heads.map((h) => outputs[h.output]), boxes, opts);
}
