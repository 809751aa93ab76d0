/**
 * NODE-ONLY: save a Detector to a folder (model.json + weights.bin + spec.json) with no
 * tfjs-node. See `modelFolder.ts` for the layout; `loadDetectorFromDir` reads it back.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec } from '../spec';
import { fsFolderHandler } from './fsFolderHandler';
import { SPEC_JSON } from './modelFolder';
import { nodeRequire } from '../util/nodeRequire';

/** Anything with a LayersModel and a spec (a Detector, or `{model, spec}`). */
export interface DetectorLike {
  model: tf.LayersModel;
  spec: ModelSpec;
}

/**
 * Save a Detector as a tfjs layers-model folder: `model.json`, `weights.bin` and our
 * `spec.json`. The folder is created if needed; existing files are overwritten.
 */
export async function saveDetector(detector: DetectorLike, dir: string): Promise<void> {
  const fs = nodeRequire('fs') as typeof import('fs');
  const path = nodeRequire('path') as typeof import('path');
  fs.mkdirSync(dir, { recursive: true });
  // spec and weights first, model.json last: a folder with model.json is taken as complete
  fs.writeFileSync(path.join(dir, SPEC_JSON), JSON.stringify(detector.spec, null, 1));
  await detector.model.save(fsFolderHandler(dir));
}
