/**
 * `loadPytorch('scaled-yolov4', bytes)`: a yolov4-large checkpoint as it is (zip or legacy,
 * float16, the whole pickled model) into a Detector. No YAML file is needed: the model dict,
 * the weights, the BatchNorm eps, the class names and the anchors all come from the pickle.
 */
import { Detector } from '../../detector';
import { assignStateDict } from '../../weights/assignStateDict';
import type { ReadPytorchOptions } from '../../weights/readPytorchStateDict';
import { disposeLayersModel } from '../../layers/disposeLayersModel';
import { yamlKeyTable } from './buildModel';
import { planModel } from './planModel';
import { readScaledYoloCheckpoint } from './readCheckpoint';
import { detectorFromPlan } from './scaledYolov4';

/** Options of {@link scaledYolov4FromCheckpoint}. */
export interface ScaledYoloCheckpointOptions {
  /** Class names (default the checkpoint's `names`, else COCO for 80 / class0..). */
  classNames?: string[];
  /** Square side or `[height, width]`, multiples of the largest stride (default the model's test size). */
  inputSize?: number | [number, number];
  /** Integrity and budget options of the PyTorch reader. */
  read?: ReadPytorchOptions;
}

/** Build the Detector of a yolov4-large `.pt` file. */
export function scaledYolov4FromCheckpoint(bytes: Uint8Array | ArrayBuffer, opts: ScaledYoloCheckpointOptions = {}): Detector {
  const ck = readScaledYoloCheckpoint(bytes, opts.read);
  const plan = planModel(ck.dict);
  if (ck.layerClasses.length !== plan.layers.length) {
    throw new Error(`checkpoint: the model has ${ck.layerClasses.length} layers but its model dict describes ${plan.layers.length}`);
  }
  plan.layers.forEach((l, i) => {
    if (ck.layerClasses[i] !== l.def.className) {
      throw new Error(`checkpoint: layer model.${i} is a ${ck.layerClasses[i]} but its model dict row says ${l.module} (${l.def.className})`);
    }
  });
  let anchors = plan.anchors;
  if (ck.anchors) {
    const same = ck.anchors.length === anchors.length && ck.anchors.every((a, l) => a.length === anchors[l].length);
    if (!same) throw new Error('checkpoint: Detect.anchor_grid does not match the anchors of the model dict');
    anchors = ck.anchors;
  }
  let classNames = opts.classNames;
  if (!classNames && ck.names && ck.names.length === plan.nc) classNames = ck.names;
  const name = ck.yamlFile ? ck.yamlFile.replace(/\.ya?ml$/i, '') : 'scaled-yolov4';
  const detector = detectorFromPlan({ ...plan, anchors }, name, {
    classNames,
    inputSize: opts.inputSize,
    kernelInitializer: 'zeros',
    bnEpsilon: (path) => ck.bnEpsilon.get(path) ?? 0.001,
  });
  try {
    assignStateDict(detector.model, ck.stateDict, yamlKeyTable(plan), {
      ignore: (k) => k.endsWith('num_batches_tracked') || /^model\.\d+\.anchor(s|_grid)$/.test(k),
    });
  } catch (e) {
    disposeLayersModel(detector.model);
    throw new Error(`scaled-yolov4 checkpoint: ${(e as Error).message}`);
  }
  return detector;
}
