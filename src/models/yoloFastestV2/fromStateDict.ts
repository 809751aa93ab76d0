/**
 * YOLO-FastestV2 from an upstream PyTorch state dict (e.g. `readPytorchStateDict` of
 * `coco2017-0.241078ap-model.pth`), and the inverse export.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../detector';
import { TensorMap } from '../../weights/tensorMap';
import { assignStateDict, exportStateDict } from '../../weights/assignStateDict';
import { yoloFastestV2BatchCounters, yoloFastestV2KeyTable } from './keyMap';
import { YoloFastestV2Options, yoloFastestV2 } from './yoloFastestV2';
import { disposeLayersModel } from '../../layers/disposeLayersModel';

/**
 * Builds a YOLO-FastestV2 Detector and loads `stateDict` into it. `numClasses` defaults to the
 * state dict's (`output_cls_layers.bias`); an explicit `numClasses` (or `classNames`) that
 * differs is an error naming the key and both shapes. The anchors must match the state dict's
 * per-scale anchor count (`output_obj_layers`). Ignores `num_batches_tracked`.
 */
export function yoloFastestV2FromStateDict(stateDict: TensorMap, opts: YoloFastestV2Options = {}): Detector {
  const clsBias = stateDict.get('output_cls_layers.bias');
  const numClasses = opts.numClasses ?? opts.classNames?.length ?? (clsBias && clsBias.shape.length === 1 ? clsBias.shape[0] : 80);
  const detector = yoloFastestV2({ ...opts, numClasses });
  try {
    assignStateDict(detector.model, stateDict, yoloFastestV2KeyTable());
  } catch (e) {
    disposeLayersModel(detector.model);
    throw new Error(`yoloFastestV2FromStateDict: ${(e as Error).message}`);
  }
  return detector;
}

/**
 * The Detector's weights as an upstream-layout state dict: the 371 tensors in upstream order
 * plus the 73 BN `num_batches_tracked` counters (0), i.e. upstream's 444 keys.
 */
export function exportYoloFastestV2StateDict(detector: Detector | tf.LayersModel): TensorMap {
  const model = detector instanceof Detector ? detector.model : detector;
  return exportStateDict(model, yoloFastestV2KeyTable(), { extra: yoloFastestV2BatchCounters() });
}
