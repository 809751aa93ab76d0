/**
 * RFSong from an upstream state dict (`torch.save(net.state_dict())`, zip or legacy format, as
 * `readPytorchStateDict` reads it), with the class count read from the conf heads.
 */
import { Detector } from '../../detector';
import { SsdHeadSpec } from '../../spec';
import { TensorMap } from '../../weights/tensorMap';
import { assignStateDict, exportStateDict } from '../../weights/assignStateDict';
import { disposeLayersModel } from '../../layers/disposeLayersModel';
import { rfsongKeyTable } from './keyTable';
import { RfsongOptions, rfsongModel } from './rfsong';
import { rfsongPriorSpec } from './rfsongSpec';

/**
 * Object classes (background excluded) of an RFSong state dict: every `conf.<k>.weight` has
 * A_k * (classes + 1) output channels. Throws naming the key when one is missing or the maps
 * disagree.
 */
export function rfsongClassCount(sd: TensorMap): number {
  const anchors = rfsongPriorSpec().shapes.map((s) => s.length);
  let count: number | undefined;
  anchors.forEach((a, k) => {
    const key = `conf.${k}.weight`;
    const t = sd.get(key);
    if (!t) throw new Error(`not an RFSong state dict: missing key '${key}'`);
    const out = t.shape[0];
    if (t.shape.length !== 4 || out % a !== 0 || out / a < 2) {
      throw new Error(`RFSong state dict: '${key}' has shape [${t.shape.join(', ')}]; expected ${a} anchors x (classes + background) output channels`);
    }
    const c = out / a - 1;
    if (count !== undefined && c !== count) throw new Error(`RFSong state dict: '${key}' holds ${c} classes, conf.0 holds ${count}`);
    count = c;
  });
  return count as number;
}

/**
 * Builds an RFSong Detector and loads `sd` into it. The class count comes from the conf heads;
 * `classNames`, when given, must have that many names. Missing, unexpected or mis-shaped keys
 * are errors naming the key. `num_batches_tracked` is ignored.
 */
export function rfsongFromStateDict(sd: TensorMap, opts: RfsongOptions = {}): Detector {
  const numClasses = rfsongClassCount(sd);
  if (opts.classNames && opts.classNames.length !== numClasses) {
    throw new Error(`RFSong state dict has ${numClasses} object classes (conf heads) but ${opts.classNames.length} class names were given`);
  }
  if (opts.numClasses !== undefined && opts.numClasses !== numClasses) {
    throw new Error(`RFSong state dict has ${numClasses} object classes (conf heads), not ${opts.numClasses}`);
  }
  const { model, spec } = rfsongModel({ ...opts, numClasses, classNames: opts.classNames });
  try {
    assignStateDict(model, sd, rfsongKeyTable(model));
  } catch (e) {
    disposeLayersModel(model);
    throw new Error(`rfsong: ${(e as Error).message}`);
  }
  return new Detector(model, spec);
}

/** The Detector's weights as an upstream-layout state dict (without `num_batches_tracked`). */
export function exportRfsongStateDict(detector: Detector): TensorMap {
  return exportStateDict(detector.model, rfsongKeyTable(detector.model));
}
