/**
 * The model the package carries: Yolo-Fastest 1.1 COCO (320x320, 80 classes), used when no
 * model is named (`load()`, `yolo-tfjs detect img.jpg`). Its weights are inlined in the code
 * (src/registry/embedded/defaultModelAsset.ts, 16-bit kernels), so it needs no file system,
 * cache or download: it works the same in Node and in a browser bundle. Browser-safe.
 *
 * The registry name `yolo-fastest-1.1` still loads the original float32 weights (downloaded);
 * test/registry/embeddedModel.test.ts bounds the difference (boxes 0.5 px, scores 1e-3).
 */
import { Detector } from '../detector';
import { loadDarknet } from '../models/darknet/loadDarknet';
import { COCO_CLASSES } from '../spec';
import { decodeCompactDarknet, DarknetModelFiles } from '../weights/compactDarknetWeights';
import { decodeBase64 } from '../util/base64';
import { DEFAULT_MODEL_YTDW_BASE64 } from './embedded/defaultModelAsset';

/** Name of the embedded model (its spec name; the registry entry of the float32 original). */
export const EMBEDDED_MODEL_NAME = 'yolo-fastest-1.1';

/** The embedded model as cfg text + a standard float32 `.weights` file (kernels widened from int16). */
export function embeddedModelFiles(): DarknetModelFiles {
  return decodeCompactDarknet(decodeBase64(DEFAULT_MODEL_YTDW_BASE64));
}

/** Options of {@link loadEmbeddedModel}. */
export interface EmbeddedModelOptions {
  /** Network input size (square or `[height, width]`, multiples of 32); default the cfg's 320x320. */
  inputSize?: number | [number, number];
}

/**
 * A new Detector of the embedded Yolo-Fastest 1.1 COCO model. Synchronous; the caller owns it
 * (call `dispose()`).
 */
export function loadEmbeddedModel(opts: EmbeddedModelOptions = {}): Detector {
  const { cfgText, weights } = embeddedModelFiles();
  return loadDarknet(cfgText, weights, { classNames: COCO_CLASSES.slice(), name: EMBEDDED_MODEL_NAME, inputSize: opts.inputSize });
}
