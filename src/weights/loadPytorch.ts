/**
 * `loadPytorch(arch, pth)`: a PyTorch state dict (zip or legacy `.pth`, or `.safetensors`) of a
 * supported architecture, mapped by that architecture's declarative key table into a Detector.
 */
import { Detector } from '../detector';
import { TensorMap } from './tensorMap';
import { readPytorchStateDict, ReadPytorchOptions } from './readPytorchStateDict';
import { readSafetensors, looksLikeSafetensors } from './readSafetensors';
import { yoloFastestV2FromStateDict } from '../models/yoloFastestV2FromStateDict';
import { efficientDetFromStateDict } from './keymaps/efficientDet';
import { rfsongFromStateDict } from '../models/rfsong/fromStateDict';
import { scaledYolov4FromCheckpoint } from '../models/scaledYolov4/fromCheckpoint';
import { darknetFromPytorchCheckpoint } from '../models/scaledYolov4/darknetCheckpoint';

/** Options of {@link loadPytorch}. */
export interface LoadPytorchOptions {
  /** Class names; their count must match the weights' class count. */
  classNames?: string[];
  /** Input size override (square side). */
  inputSize?: number;
  /**
   * How the file is read: integrity and budget options of {@link readPytorchStateDict}
   * (`allowNonFinite`, `skipChecksums`, `allowExpandedViews`, `maxOutputBytes`, `key`, ...).
   */
  read?: ReadPytorchOptions;
  /** `darknet`: the cfg text the checkpoint's network was defined by. */
  cfg?: string;
}

/** Architectures `loadPytorch` understands. */
export const PYTORCH_ARCHS = ['yolo-fastestv2', 'rfsong', 'scaled-yolov4', 'darknet', ...Array.from({ length: 8 }, (_, i) => `efficientdet-d${i}`)];

/**
 * Build a Detector of architecture `arch` (`yolo-fastestv2`, `efficientdet-d0` .. `d7`) from
 * PyTorch weights: the bytes of a `.pth` (zip or legacy format) or `.safetensors` file, or an
 * already-read TensorMap. Synchronous. Missing, unexpected or mis-shaped keys are errors naming
 * the key.
 */
export function loadPytorch(arch: string, pth: Uint8Array | ArrayBuffer | TensorMap, opts: LoadPytorchOptions = {}): Detector {
  const a = arch.toLowerCase();
  if (!PYTORCH_ARCHS.includes(a)) {
    throw new Error(`unknown architecture '${arch}' for loadPytorch; known: ${PYTORCH_ARCHS.join(', ')}`);
  }
  if (a === 'scaled-yolov4') {
    if (pth instanceof Map) throw new Error(`loadPytorch('scaled-yolov4') needs the .pt file's bytes (the checkpoint pickles the whole model), not a tensor map`);
    return scaledYolov4FromCheckpoint(pth, { ...opts, read: opts.read });
  }
  if (a === 'darknet') return darknetFromPytorchCheckpoint(pth, { cfg: opts.cfg as string, classNames: opts.classNames, inputSize: opts.inputSize });
  const sd = pth instanceof Map ? pth : readWeightsFile(pth, opts.read);
  if (a === 'rfsong') return rfsongFromStateDict(sd, { classNames: opts.classNames, inputSize: opts.inputSize });
  if (a === 'yolo-fastestv2') {
    const numClasses = opts.classNames?.length ?? inferYoloFastestV2Classes(sd);
    return yoloFastestV2FromStateDict(sd, { numClasses, classNames: opts.classNames, inputSize: opts.inputSize });
  }
  const phi = Number(a.slice('efficientdet-d'.length));
  return efficientDetFromStateDict(sd, { phi, classNames: opts.classNames, inputSize: opts.inputSize });
}

function readWeightsFile(buf: Uint8Array | ArrayBuffer, read: ReadPytorchOptions = {}): TensorMap {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  return looksLikeSafetensors(bytes) ? readSafetensors(bytes, read) : readPytorchStateDict(bytes, read);
}

function inferYoloFastestV2Classes(sd: TensorMap): number {
  const key = 'output_cls_layers.weight';
  const t = sd.get(key);
  if (!t) throw new Error(`not a YOLO-FastestV2 state dict: missing key '${key}'`);
  return t.shape[0];
}
