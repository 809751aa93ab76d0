/**
 * `load(nameOrDir)`: in Node, a saved Detector folder, or a registry model that is downloaded
 * on first use, converted once, and loaded from the cache after. In browsers (or with the
 * `modelBaseUrl` option) a converted folder served under a base URL
 * (src/registry/loadFromModelBaseUrl.ts). `load()` without a name gives the embedded model, in
 * Node and in browsers alike: no file system, cache or network.
 */
import { Detector } from '../detector';
import { isDetectorFolder, loadDetectorFromDir } from '../io/loadDetectorFromDir';
import { saveDetector } from '../io/saveDetector';
import { loadDarknet } from '../models/darknet/loadDarknet';
import { loadPytorch } from '../models/loadPytorch';
import { CacheOptions, convertedModelDir, ensureRawFiles } from './cache';
import { getRegistryEntry, REGISTRY, RegistryEntry } from './registry';
import { nodeRequire } from '../util/nodeRequire';
import { isNode } from '../util/env';
import { loadFromModelBaseUrl } from './loadFromModelBaseUrl';

/** Options of {@link load}. */
export interface LoadOptions extends CacheOptions {
  /**
   * Load registry models from `<modelBaseUrl>/<name>/` (folders written by `yolo-tfjs convert`)
   * instead of the cache. Browsers always load this way; their default base URL is the one set
   * by `setModelBaseUrl()`, else `models/` next to the page.
   */
  modelBaseUrl?: string;
}

/**
 * Load a Detector.
 * - no argument: the model the package carries, Yolo-Fastest 1.1 COCO (320x320; see
 *   `loadEmbeddedModel`): no file, cache or download.
 * - `nameOrDir` a folder with `model.json` (+ `spec.json`): loaded as saved by `saveDetector`
 *   or `yolo-tfjs convert`.
 * - a registry name (`yolo-fastestv2-coco`, `yolo-fastest-1.1`, `yolov4-tiny`,
 *   `efficientdet-d0` ...; see `registryNames()`): from `<cache>/<name>/model/` when already
 *   converted; else the raw files are taken from `<cache>/<name>/` or downloaded (size and
 *   sha256 checked), converted, and the converted folder is saved for next time.
 * - in a browser (no file system) or with `opts.modelBaseUrl`: a registry name is loaded from
 *   `<base URL>/<name>/` (see `setModelBaseUrl`), and a URL or path from that folder.
 * @throws for an unknown name (listing the known ones) and, offline, naming the URL that failed
 * and where to put the file.
 */
export async function load(nameOrDir?: string, opts: LoadOptions = {}): Promise<Detector> {
  if (nameOrDir === undefined) {
    // imported on demand: the ~1 MB asset is parsed only when it is used
    const { loadEmbeddedModel } = await import('./embeddedModel');
    return loadEmbeddedModel();
  }
  if (!isNode() || opts.modelBaseUrl !== undefined) return loadFromModelBaseUrl(nameOrDir, opts);
  const fs = nodeRequire('fs') as typeof import('fs');
  if (isDetectorFolder(nameOrDir)) return loadDetectorFromDir(nameOrDir);
  if (!Object.prototype.hasOwnProperty.call(REGISTRY, nameOrDir)) {
    if (fs.existsSync(nameOrDir) && fs.statSync(nameOrDir).isDirectory()) {
      throw new Error(`${nameOrDir} is a folder without model.json (not a saved model)`);
    }
    getRegistryEntry(nameOrDir); // throws, listing the known names
  }
  const entry = getRegistryEntry(nameOrDir);
  const modelDir = convertedModelDir(entry.name, opts);
  if (isDetectorFolder(modelDir)) {
    try {
      return await loadDetectorFromDir(modelDir);
    } catch (e) {
      if (opts.progress !== false) {
        process.stderr.write(`yolo-tfjs: converted model in ${modelDir} is unreadable (${(e as Error).message}); converting again\n`);
      }
    }
  }
  const files = await ensureRawFiles(entry, opts);
  if (opts.progress !== false) process.stderr.write(`yolo-tfjs: converting ${entry.name} into ${modelDir}\n`);
  const detector = convertEntry(entry, (f) => {
    const p = files.get(f);
    if (!p) throw new Error(`registry entry '${entry.name}' names file '${f}' that it does not list`);
    return new Uint8Array(fs.readFileSync(p));
  });
  try {
    await saveDetector(detector, modelDir);
  } catch (e) {
    detector.dispose();
    throw new Error(`could not save the converted model to ${modelDir}: ${(e as Error).message}`);
  }
  return detector;
}

/** Convert a registry entry's raw files (read through `read(filename)`) into a Detector. */
export function convertEntry(entry: RegistryEntry, read: (filename: string) => Uint8Array): Detector {
  const c = entry.converter;
  if (c.kind === 'darknet') {
    const cfgText = new TextDecoder().decode(read(c.cfg));
    return loadDarknet(cfgText, read(c.weights), { classNames: entry.classNames, name: entry.name });
  }
  const cfg = c.cfg ? new TextDecoder().decode(read(c.cfg)) : undefined;
  return loadPytorch(c.arch, read(c.weights), { classNames: entry.classNames, inputSize: c.inputSize, cfg });
}
