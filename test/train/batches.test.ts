import * as tf from '@tensorflow/tfjs';
import { batches, epochOrder, batchCount } from '../../src/train/batches';
import { learningRateAt } from '../../src/train/schedule';
import { renderPlot } from '../../src/train/plotCurves';
import { InputSpec } from '../../src/spec';
import { tinyDataset } from './helpers';

const INPUT: InputSpec = { size: [64, 64], resize: 'stretch', channelOrder: 'BGR', scale: 1 / 255 };

describe('batches', () => {
  test('streams every image once per epoch, shuffled per epoch, reproducibly', async () => {
    const { dataset, readImage } = tinyDataset(7);
    const seen: number[] = [];
    let nb = 0;
    for await (const b of batches(dataset, INPUT, { batchSize: 3, epoch: 0, seed: 5, readImage, augment: { flip: 0.5, scale: 0.2 } })) {
      expect(b.images.shape).toEqual([b.indices.length, 64, 64, 3]);
      expect(b.boxes.length).toBe(b.indices.length);
      seen.push(...b.indices);
      b.images.dispose();
      nb++;
    }
    expect(nb).toBe(batchCount(7, 3));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(seen).toEqual(epochOrder(7, 5, 0));
    expect(epochOrder(7, 5, 1)).not.toEqual(epochOrder(7, 5, 0));
    expect(epochOrder(7, 5, 1)).toEqual(epochOrder(7, 5, 1));
    // same seed + epoch -> identical pixels and boxes
    const a = await batches(dataset, INPUT, { batchSize: 2, seed: 5, readImage, augment: { flip: 0.5, scale: 0.3, hsv: [0.02, 0.5, 0.3] } }).next();
    const b = await batches(dataset, INPUT, { batchSize: 2, seed: 5, readImage, augment: { flip: 0.5, scale: 0.3, hsv: [0.02, 0.5, 0.3] } }).next();
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a.value!.images, b.value!.images))).dataSync()[0])).toBe(0);
    expect(a.value!.boxes).toEqual(b.value!.boxes);
    tf.dispose([a.value!.images, b.value!.images]);
  });

  test('mosaic batches, early stop releases the batch decoded ahead (no leak), bad batch size', async () => {
    const { dataset, readImage } = tinyDataset(6);
    const before = tf.memory().numTensors;
    const gen = batches(dataset, INPUT, { batchSize: 2, readImage, augment: { mosaic: 1 } });
    const first = await gen.next();
    expect(first.value!.boxes[0].length).toBeGreaterThan(1);
    first.value!.images.dispose();
    await gen.return(undefined);
    expect(tf.memory().numTensors).toBe(before);
    await expect(batches(dataset, INPUT, { batchSize: 0 }).next()).rejects.toThrow(/batchSize must be a positive integer/);
  });
});

describe('learning-rate schedule and curve plot', () => {
  test('warm-up, cosine and step values', () => {
    const o = { lr: 0.01, totalSteps: 110, warmupSteps: 10 };
    expect(learningRateAt(0, o)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(5, o)).toBeCloseTo(0.001 + 0.009 * 0.5, 12);
    expect(learningRateAt(10, o)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(60, o)).toBeCloseTo(0.01 * (0.01 + 0.99 * 0.5), 12);
    expect(learningRateAt(110, o)).toBeCloseTo(0.0001, 12);
    expect(learningRateAt(80, { ...o, schedule: 'step' })).toBeCloseTo(0.001, 12);
    expect(learningRateAt(100, { ...o, schedule: 'step' })).toBeCloseTo(0.0001, 12);
    expect(() => learningRateAt(50, { ...o, schedule: 'linear' as 'step' })).toThrow(/unknown lr schedule 'linear'/);
  });

  test('renderPlot draws the line where the data are', () => {
    const { image, frames } = renderPlot([{ title: 't', yRange: [0, 1], series: [{ label: 'a', x: [0, 1], y: [0.5, 0.5], color: [255, 0, 0] }] }], 200, 100);
    const f = frames[0];
    const y = Math.round(f.y1 - 0.5 * (f.y1 - f.y0));
    const x = Math.round((f.x0 + f.x1) / 2);
    const i = (y * image.width + x) * 4;
    expect([image.data[i], image.data[i + 1], image.data[i + 2]]).toEqual([255, 0, 0]);
    const j = ((y - 10) * image.width + x) * 4;
    expect(image.data[j]).not.toBe(255 - 255 + 0); // off the line: not pure red
    expect([image.data[j], image.data[j + 1]]).not.toEqual([255, 0]);
  });
});
