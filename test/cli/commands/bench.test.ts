/**
 * `yolo-tfjs bench --train`: tiny real runs (the embedded Yolo-Fastest 1.1 at 64 px, batch 1,
 * 1-2 timed steps, on the engine and on tfjs autodiff) print the JSON fields scripts read; bad
 * options are usage errors (main.ts prints those as one line with exit code 1, as
 * test/cli/detect.test.ts checks on the binary). No timing is asserted beyond "a positive finite
 * number".
 */
import * as tf from '@tensorflow/tfjs';
import { main } from '../../../src/cli/main';
import { UsageError } from '../../../src/cli/args';
import { captureCli } from '../../helpers/captureCli';
import { syntheticTrainBoxes } from '../../../src/train/timeTrainSteps';

const capture = (argv: string[]) => captureCli(main, argv);

describe('yolo-tfjs bench --train', () => {
  test('--json: msPerStep (median of the timed steps) and the run settings; no tensors left behind', async () => {
    const args = ['bench', '--train', '--size', '64', '--batch', '1', '--steps', '2', '--warmup', '0', '--threads', '1', '--path', 'engine', '--json'];
    const r = await capture(args);
    const held = tf.memory().numTensors;
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ['msPerStep', 'firstStepMs', 'minMs', 'loss']) {
      expect(Number.isFinite(j[k])).toBe(true);
    }
    expect(j.msPerStep).toBeGreaterThan(0);
    expect(j.timesMs).toHaveLength(2);
    // the median of two timed steps is their mean
    expect(j.msPerStep).toBeCloseTo((j.timesMs[0] + j.timesMs[1]) / 2, 6);
    expect(j).toMatchObject({ steps: 2, warmup: 0, batch: 1, size: [64, 64], threads: 1, backend: 'wasm', path: 'engine', model: 'yolo-fastest-1.1' });
    // a second run leaves the tensor count where the first left it
    const again = await capture(args);
    expect(again.code).toBe(0);
    expect(tf.memory().numTensors).toBe(held);
  });

  test('--path tfjs times the tfjs autodiff step; auto takes the engine on wasm for this model, as train() does', async () => {
    const common = ['bench', '--train', '--size', '64', '--batch', '1', '--steps', '1', '--warmup', '0', '--threads', '1', '--json'];
    const tfjsRun = JSON.parse((await capture([...common, '--path', 'tfjs'])).out);
    expect(tfjsRun.path).toBe('tfjs');
    expect(Number.isFinite(tfjsRun.loss)).toBe(true);
    const auto = JSON.parse((await capture(common)).out);
    expect(auto.path).toBe('engine');
    expect(auto.engineFallback).toBeUndefined();
  });

  test('bad options are usage errors naming the option; inference-only options are unknown with --train', async () => {
    await expect(capture(['bench', '--train', '--steps', '0'])).rejects.toThrow(/'--steps' must be a whole number from 1 to 10000, got '0'/);
    await expect(capture(['bench', '--train', '--batch', 'x'])).rejects.toThrow(/'--batch' needs a number/);
    await expect(capture(['bench', '--train', '--runs', '3'])).rejects.toThrow(UsageError);
    await expect(capture(['bench', '--train', '--warmup', '-1'])).rejects.toThrow(/'--warmup' must be/);
    await expect(capture(['bench', '--train', '--path', 'gpu'])).rejects.toThrow(/--path must be one of auto, engine, tfjs, got 'gpu'/);
    await expect(capture(['bench', '--train', '--threads', '0'])).rejects.toThrow(new UsageError("option '--threads' must be a whole number from 1 to 256, got '0'"));
    const help = await capture(['bench', '--train', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: yolo-tfjs bench --train/);
    expect(help.out).toMatch(/--steps <n>\s+timed training steps \(default 5\)/);
  });

  test('synthetic boxes: inside the image, classes in range, the same for the same seed', () => {
    const a = syntheticTrainBoxes(4, [64, 96], 3, 7);
    expect(a).toEqual(syntheticTrainBoxes(4, [64, 96], 3, 7));
    expect(a).not.toEqual(syntheticTrainBoxes(4, [64, 96], 3, 8));
    for (const img of a) {
      expect(img.length).toBeGreaterThanOrEqual(1);
      expect(img.length).toBeLessThanOrEqual(4);
      for (const b of img) {
        expect(b.x1).toBeGreaterThanOrEqual(0);
        expect(b.y1).toBeGreaterThanOrEqual(0);
        expect(b.x2).toBeLessThanOrEqual(96);
        expect(b.y2).toBeLessThanOrEqual(64);
        expect(b.x2 - b.x1).toBeGreaterThan(0.04 * 96);
        expect([0, 1, 2]).toContain(b.classId);
      }
    }
  });
});
