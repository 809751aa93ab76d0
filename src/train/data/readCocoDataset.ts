/**
 * Node-only COCO JSON reader (fs/path are loaded lazily); `cocoToDataset` is the pure part.
 */
import type { CocoGroundTruth } from '../../eval/cocoFormat';
import { ReadDatasetOptions, ReadDatasetResult } from './dataset';
import { cocoToDataset } from './cocoConvert';
import { nodeRequire } from '../../util/nodeRequire';

export interface ReadCocoOptions extends ReadDatasetOptions {
  /** Check that each image file exists in imagesDir (reported and skipped if not). Default true when imagesDir is given. */
  checkImages?: boolean;
}

/**
 * Reads COCO ground truth (a path to the JSON or the parsed object) into the common format.
 * With `imagesDir`, image files are resolved there and missing ones are reported and skipped.
 * Bad annotations are reported (`annotations[i] (id ...)`) and skipped; see `cocoToDataset`.
 */
export async function readCocoDataset(json: string | CocoGroundTruth, imagesDir?: string, opts: ReadCocoOptions = {}): Promise<ReadDatasetResult> {
  const fs = (nodeRequire('fs') as typeof import('fs'));
  const path = (nodeRequire('path') as typeof import('path'));
  let gt: CocoGroundTruth;
  let sourceName = '<coco json>';
  if (typeof json === 'string') {
    sourceName = json;
    if (!fs.existsSync(json)) throw new Error(`readCocoDataset: ${json} does not exist`);
    try {
      gt = JSON.parse(fs.readFileSync(json, 'utf8')) as CocoGroundTruth;
    } catch (e) {
      throw new Error(`readCocoDataset: ${json} is not valid JSON: ${(e as Error).message}`);
    }
  } else gt = json;
  const result = cocoToDataset(gt, { ...opts, sourceName, imagesDir, joinPath: (d, f) => path.join(d, f) });
  if (imagesDir !== undefined && opts.checkImages !== false) {
    const kept = [];
    for (const im of result.images) {
      if (fs.existsSync(im.file)) kept.push(im);
      else {
        const w = { kind: 'missing-image' as const, file: sourceName, location: `image id ${im.id}`, message: `image ${im.file} not found; skipped with its annotations` };
        result.warnings.push(w);
        opts.onWarning?.(w);
      }
    }
    result.images = kept;
  }
  return result;
}
