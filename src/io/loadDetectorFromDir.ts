/**
 * NODE-ONLY: load a Detector saved by `saveDetector` (model.json + weights.bin + spec.json) with
 * no tfjs-node. See `modelFolder.ts` for the layout.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { fsFolderHandler } from './fsFolderHandler';
import { MODEL_JSON, SPEC_JSON, validateSpec } from './modelFolder';
import '../layers'; // registers every custom layer for deserialisation
import { nodeRequire } from '../util/nodeRequire';

/** True when `dir` looks like a saved Detector folder (has model.json). */
export function isDetectorFolder(dir: string): boolean {
  const fs = nodeRequire('fs') as typeof import('fs');
  const path = nodeRequire('path') as typeof import('path');
  try {
    return fs.statSync(dir).isDirectory() && fs.existsSync(path.join(dir, MODEL_JSON));
  } catch {
    return false;
  }
}

/**
 * Load a Detector saved by `saveDetector` (or `yolo-tfjs convert`).
 * @throws naming the missing or malformed file.
 */
export async function loadDetectorFromDir(dir: string): Promise<Detector> {
  const fs = nodeRequire('fs') as typeof import('fs');
  const path = nodeRequire('path') as typeof import('path');
  const specPath = path.join(dir, SPEC_JSON);
  if (!fs.existsSync(path.join(dir, MODEL_JSON))) throw new Error(`${dir} is not a saved model folder: ${MODEL_JSON} is missing`);
  if (!fs.existsSync(specPath)) throw new Error(`${dir} is not a saved detector: ${SPEC_JSON} is missing`);
  let specJson: unknown;
  try {
    specJson = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  } catch (e) {
    throw new Error(`${specPath} is not valid JSON: ${(e as Error).message}`);
  }
  const spec = validateSpec(specJson, specPath);
  const model = await tf.loadLayersModel(fsFolderHandler(dir));
  return new Detector(model, spec);
}
