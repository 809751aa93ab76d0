// train() on the training engine (src/engine/training): picked automatically on wasm/cpu, loss
// decreases, no tensor leak across steps, frozen layers (and frozen BN statistics) untouched,
// the trained weights published to the LayersModel; unsupported layers are a typed error.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { train } from '../../src/train/train';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { buildTrainingGraph, UnsupportedTrainingGraphError } from '../../src/engine/training/trainingGraph';
import { tinyDataset } from './helpers';

const quiet = { progress: false, augment: false as const, schedule: 'constant' as const, warmupEpochs: 0, weightDecay: 5e-4, engineThreads: 2 };

describe('train() on the engine', () => {
  test('YOLO-FastestV2 (64 px): engine path, loss decreases, flat tensors, frozen backbone untouched, weights published', async () => {
    const { dataset, readImage } = tinyDataset(4);
    const det = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    try {
      const frozenLayer = det.model.getLayer('backbone.stage2.0.branch_main.1'); // a BatchNormalization
      const frozenBefore = frozenLayer.getWeights().map((w) => w.dataSync().slice());
      const headBefore = det.model.getLayer('output_cls_layers').getWeights()[0].dataSync().slice();
      const counts: number[] = [];
      const r = await train(det, dataset, {
        ...quiet, epochs: 6, batchSize: 4, optimizer: 'adam', lr: 0.003, readImage, freeze: 'backbone', ema: true,
        onStep: () => counts.push(tf.memory().numTensors),
      });
      expect(r.path).toBe('engine');
      const first = r.steps[0].total;
      const last = r.steps[r.steps.length - 1].total;
      expect(last).toBeLessThan(first * 0.8);
      expect(new Set(counts.slice(1)).size).toBe(1);
      // frozen BN: gamma, beta AND running statistics unchanged (the engine uses running stats)
      frozenLayer.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(frozenBefore[i])));
      const headAfter = det.model.getLayer('output_cls_layers').getWeights()[0].dataSync();
      expect(Math.max(...Array.from(headAfter, (v, i) => Math.abs(v - headBefore[i])))).toBeGreaterThan(1e-3);
      // the returned optimizer carries the engine's Adam state (iterations and slots)
      expect(r.optimizer.iterations).toBe(r.steps.length);
      r.optimizer.dispose();
    } finally {
      det.dispose();
    }
  });

  test('EMA, evaluation, checkpoint and resume on the engine path', async () => {
    const { dataset, readImage } = tinyDataset(2);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-engine-'));
    const det = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    const fresh = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    try {
      const held = tf.memory().numTensors;
      const r1 = await train(det, dataset, { ...quiet, epochs: 2, batchSize: 2, readImage, ema: true, outDir: out, valDataset: dataset, engine: (process.env.TPATH as 'tfjs') ?? 'auto' });
      if (!process.env.TPATH) expect(r1.path).toBe('engine');
      expect(typeof r1.epochs[1].mAP50).toBe('number');
      r1.optimizer.dispose();
      expect(tf.memory().numTensors).toBe(held);
      // resume: the checkpoint's weights (the EMA ones were applied at the end, the checkpoint
      // holds the live weights and the EMA shadow) and optimizer step carry over
      const r2 = await train(fresh, dataset, { ...quiet, epochs: 3, batchSize: 2, readImage, ema: true, resume: path.join(out, 'checkpoint') });
      expect(r2.path).toBe('engine');
      expect(r2.steps.map((s) => s.step)).toEqual([2]);
      expect(r2.optimizer.iterations).toBe(3);
      r2.optimizer.dispose();
    } finally {
      det.dispose();
      fresh.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test("engine: 'tfjs' keeps the autodiff path", async () => {
    const { dataset, readImage } = tinyDataset(2);
    const det = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    try {
      const r = await train(det, dataset, { ...quiet, epochs: 1, batchSize: 2, readImage, engine: 'tfjs' });
      expect(r.path).toBe('tfjs');
      r.optimizer.dispose();
    } finally {
      det.dispose();
    }
  });

  test("engine: 'auto' falls back to the tfjs path when the batch does not fit the engine, and says why", async () => {
    const { dataset, readImage } = tinyDataset(2);
    const det = yoloFastestV2({ numClasses: 3, inputSize: 352, classNames: dataset.classNames });
    try {
      // the engine's plan is sized for batchSize before anything is allocated; the data has 2 images
      const r = await train(det, dataset, { ...quiet, epochs: 1, batchSize: 256, readImage, maxSteps: 1 });
      expect(r.path).toBe('tfjs');
      expect(r.engineFallback).toMatch(/batch|memory|GiB|bytes/i);
      expect(r.steps).toHaveLength(1);
      r.optimizer.dispose();
    } finally {
      det.dispose();
    }
  });

  test('a layer the engine cannot train is an UnsupportedTrainingGraphError naming it', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    // a product of two feature maps (the engine trains only a [1, 1, C] channel scale)
    const a = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.multiply({ name: 'map_product' }).apply([a, b]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    expect(() => buildTrainingGraph(model)).toThrow(UnsupportedTrainingGraphError);
    expect(() => buildTrainingGraph(model)).toThrow(/map_product/);
    const drop = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input)) as tf.SymbolicTensor;
    expect(() => buildTrainingGraph(tf.model({ inputs: input, outputs: drop }))).toThrow(/drop/);
  });
});
