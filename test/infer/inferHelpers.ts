/**
 * Helpers of the inference-path tests: deterministic pseudo-random weights and inputs
 * (./randomWeights, which has no Node import so the browser test bundles it too) and the
 * Darknet fixtures.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { fixturePath, hasFixtures } from '../helpers/fixtures';
import { Detector } from '../../src/detector';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';

export { lcg, randomizeWeights, randomInput } from './randomWeights';

/** The Darknet fixture cfgs with their weights file names. */
export const DARKNET_FIXTURES: Record<string, string> = {
  'yolov3-tiny': 'yolov3-tiny_random_seed1234.weights',
  'yolov4-tiny': 'yolov4-tiny_random_seed1234.weights',
  'yolo-fastest-1.1': 'yolo-fastest-1.1.weights',
  'yolov4-csp-s-mish': 'yolov4-csp-s-mish_random_seed1234.weights',
};

export function hasDarknetFixture(name: string): boolean {
  return hasFixtures('darknet', 'weights', `${name}.cfg`) && hasFixtures('darknet', 'weights', DARKNET_FIXTURES[name]);
}

/** loadDarknet of a fixture cfg + weights. */
export function loadDarknetFixture(name: string, inputSize?: number): Detector {
  const cfg = fs.readFileSync(fixturePath('darknet', 'weights', `${name}.cfg`), 'utf8');
  const w = fs.readFileSync(fixturePath('darknet', 'weights', DARKNET_FIXTURES[name]));
  return loadDarknet(cfg, w, { inputSize });
}

/** Largest |a - b| over all outputs (shapes must agree). */
export function maxOutputDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  if (a.length !== b.length) throw new Error(`output count ${a.length} vs ${b.length}`);
  let m = 0;
  a.forEach((t, i) => {
    if (t.shape.join() !== b[i].shape.join()) throw new Error(`output ${i}: shape [${t.shape}] vs [${b[i].shape}]`);
    const x = t.dataSync();
    const y = b[i].dataSync();
    for (let k = 0; k < x.length; k++) {
      const d = Math.abs(x[k] - y[k]);
      if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    }
  });
  return m;
}
