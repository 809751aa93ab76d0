/**
 * `loadPytorch(arch, pth)`: a PyTorch state dict (zip or legacy `.pth`, or `.safetensors`) of a
 * supported architecture, mapped by its family's declarative key table into a Detector. The
 * architectures are those of the families table.
 */
import { Detector } from '../detector';
import { TensorMap } from '../weights/tensorMap';
import { readWeightsFile } from '../weights/readWeightsFile';
import type { ReadPytorchOptions } from '../weights/readPytorchStateDict';
import { StateDictLoadOptions } from './family';
import { familyOfPytorchArch, pytorchArchs } from './families';

/** Options of {@link loadPytorch}. */
export interface LoadPytorchOptions extends StateDictLoadOptions {
  /**
   * How the file is read: integrity and budget options of `readPytorchStateDict`
   * (`allowNonFinite`, `skipChecksums`, `allowExpandedViews`, `maxOutputBytes`, `key`, ...).
   */
  read?: ReadPytorchOptions;
}

/** Architectures `loadPytorch` understands (every family's, in table order). */
export const PYTORCH_ARCHS: readonly string[] = pytorchArchs();

/**
 * Build a Detector of architecture `arch` (`yolo-fastestv2`, `efficientdet-d0` .. `d7`, ...: see
 * {@link PYTORCH_ARCHS}) from PyTorch weights: the bytes of a `.pth` (zip or legacy format) or
 * `.safetensors` file, or an already-read TensorMap. Synchronous. Missing, unexpected or
 * mis-shaped keys are errors naming the key.
 */
export function loadPytorch(arch: string, pth: Uint8Array | ArrayBuffer | TensorMap, opts: LoadPytorchOptions = {}): Detector {
  const a = arch.toLowerCase();
  const family = familyOfPytorchArch(a);
  if (!family || !(family.fromStateDict || family.fromPytorchFile)) {
    throw new Error(`unknown architecture '${arch}' for loadPytorch; known: ${PYTORCH_ARCHS.join(', ')}`);
  }
  const o = { classNames: opts.classNames, inputSize: opts.inputSize, cfg: opts.cfg, port: opts.port };
  if (family.fromPytorchFile && !(pth instanceof Map)) return family.fromPytorchFile(a, pth, { ...o, read: opts.read });
  if (!family.fromStateDict) throw new Error(`loadPytorch('${a}') needs the file's bytes, not a tensor map`);
  const sd = pth instanceof Map ? pth : readWeightsFile(pth, opts.read);
  return family.fromStateDict(a, sd, o);
}
