/**
 * RFSong builder, SSD decode and state-dict loading without fixtures: shapes, parameter counts,
 * a hand-computed SSD decode, class count from the conf heads, clear errors.
 */
import * as tf from '@tensorflow/tfjs';
import { rfsong } from '../../../src/models/rfsong/rfsong';
import { rfsongClassCount, exportRfsongStateDict, rfsongFromStateDict } from '../../../src/models/rfsong/fromStateDict';
import { rfsongPriorSpec } from '../../../src/models/rfsong/rfsongSpec';
import { decodeOutputs } from '../../../src/decode/decode';
import { ssdPriors, ssdPriorCounts } from '../../../src/decode/ssdPriors';
import { ModelSpec } from '../../../src/spec';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { withClasses } from '../../../src/train/withClasses';

describe('rfsong builder', () => {
  it('builds 12 NHWC head outputs for any class count; upstream parameter count for 1 class', () => {
    const det = rfsong({ numClasses: 3 });
    try {
      const maps = [38, 19, 10, 5, 3, 1];
      const anchors = [4, 4, 4, 4, 4, 3];
      expect(det.model.outputs.map((o) => o.shape)).toEqual([
        ...maps.map((f, k) => [null, f, f, anchors[k] * 4]),
        ...maps.map((f, k) => [null, f, f, anchors[k] * 4]),
      ]);
      expect(det.spec.classNames).toEqual(['class0', 'class1', 'class2']);
      // Dilated RFB branches 2, 3, 5 and the ceil-mode pool (75 -> 38).
      const dil = det.model.layers.filter((l) => /branch\d\.\d\.conv$/.test(l.name)).map((l) => (l.getConfig() as { dilationRate: number[] }).dilationRate);
      expect(dil.map((d) => (Array.isArray(d) ? d[0] : d)).filter((d) => d > 1)).toEqual([2, 3, 5]);
      // The round trip through the upstream layout: 3 classes read back from the conf heads.
      const sd = exportRfsongStateDict(det);
      expect(rfsongClassCount(sd)).toBe(3);
      const back = rfsongFromStateDict(sd, { classNames: ['a', 'b', 'c'] });
      expect(back.spec.classNames).toEqual(['a', 'b', 'c']);
      back.dispose();
    } finally {
      det.dispose();
    }
    const one = rfsong();
    // NOTES.md section 9: 3,143,978 state-dict numbers (BN running stats included).
    expect(one.model.weights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0)).toBe(3143978);
    expect(one.spec.classNames).toEqual(['person']);
    one.dispose();
  });

  it('withClasses rebuilds only the conf heads: background and kept classes keep their weights', async () => {
    const det = rfsong({ classNames: ['person'] });
    const conf5 = det.model.getLayer('conf.5');
    const bias = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    conf5.setWeights([conf5.getWeights()[0], bias]);
    bias.dispose();
    const other = await withClasses(det, ['car', 'person']);
    try {
      const before = det.model.getLayer('conf.5').getWeights()[1].dataSync(); // [3 anchors x 2]
      const after = other.model.getLayer('conf.5').getWeights()[1].dataSync(); // [3 anchors x 3]
      expect(after.length).toBe(9);
      for (let a = 0; a < 3; a++) {
        expect(after[a * 3]).toBe(before[a * 2]); // background
        expect(after[a * 3 + 2]).toBe(before[a * 2 + 1]); // person
        expect(after[a * 3 + 1]).toBe(0); // new class: softmax prior 0
      }
      const l0 = det.model.getLayer('loc.0').getWeights()[0];
      const l1 = other.model.getLayer('loc.0').getWeights()[0];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(l0, l1))).dataSync()[0])).toBe(0);
      expect(other.model.layers.filter((l) => l.getClassName() === 'YoloTfjsAtrousConv2D').length).toBe(3);
    } finally {
      other.dispose();
      det.dispose();
    }
  });

  it('rejects bad options and bad state dicts with clear errors', () => {
    expect(() => rfsong({ inputSize: 320 })).toThrow(/input size 320/);
    expect(() => rfsong({ numClasses: 0 })).toThrow(/numClasses/);
    expect(() => loadPytorch('rfsong', new Map())).toThrow(/missing key 'conf.0.weight'/);
    const bad = new Map([['conf.0.weight', { shape: [7, 256, 3, 3], dtype: 'float32' as const, data: new Float32Array(7 * 256 * 9) }]]);
    expect(() => rfsongClassCount(bad)).toThrow(/'conf.0.weight' has shape \[7, 256, 3, 3\]/);
  });
});

describe('SSD priors and decode', () => {
  it('RFSong prior counts and order: max-size prior first, then the aspect ratios', () => {
    const p = rfsongPriorSpec();
    expect(ssdPriorCounts(p)).toEqual([5776, 1444, 400, 100, 36, 3]);
    const priors = ssdPriors(p);
    expect(priors.length).toBe(7759 * 4);
    // map 0, cell (0, 0): centre (0.5 / 37.5); first prior sqrt(26 * 60) / 300 with ratio 0.8
    const s = Math.sqrt((26 / 300) * (60 / 300));
    expect(Array.from(priors.slice(0, 4))).toEqual([0.5 / 37.5, 0.5 / 37.5, s * Math.sqrt(0.8), s / Math.sqrt(0.8)].map(Math.fround));
    // second prior: min size 26 with ratio 0.4
    expect(priors[6]).toBe(Math.fround((26 / 300) * Math.sqrt(0.4)));
    expect(() => ssdPriors({ ...p, featureMaps: [100000, 19, 10, 5, 3, 1] })).toThrow(/exceed the limit/);
    expect(() => ssdPriors({ ...p, steps: [8] })).toThrow(/steps has 1 entries for 6 feature maps/);
    // map 2's last centre 9.5 / 9.375 > 1 is clipped to 1
    const last2 = (5776 + 1444 + 400 - 1) * 4;
    expect(priors[last2]).toBe(1);
  });

  it('decodes centre offsets with variances and softmax scores without the background (hand-computed)', () => {
    const spec: ModelSpec = {
      name: 'tiny-ssd',
      input: { size: [300, 300], resize: 'stretch', channelOrder: 'BGR', scale: 1 },
      classNames: ['a'],
      heads: [{
        kind: 'ssd', locOutputs: [0], confOutputs: [1], variances: [0.1, 0.2], backgroundClass: 0,
        priors: { featureMaps: [1], minDim: 300, steps: [300], minSizes: [60], maxSizes: [150], shapes: [[{ size: 'min', ratio: 1 }]], clip: true },
      }],
      multiLabel: true, scoreThreshold: 0.05, nms: { kind: 'iou', perClass: true, iouThreshold: 0.45, pixelOffset: 1 }, maxDetections: 0,
    };
    // prior (0.5, 0.5, 0.2, 0.2); loc (1, -1, ln2 / 0.2, 0): centre (0.52, 0.48), size (0.4, 0.2)
    const loc = tf.tensor4d([1, -1, Math.log(2) / 0.2, 0], [1, 1, 1, 4]);
    const conf = tf.tensor4d([0, Math.log(3)], [1, 1, 1, 2]);
    const d = decodeOutputs(spec, [loc, conf]);
    expect(d.count).toBe(1);
    const want = [96, 114, 216, 174, 0.75];
    Array.from(d.rows).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    const wrong = tf.zeros([1, 1, 1, 3]);
    expect(() => decodeOutputs(spec, [loc, wrong])).toThrow(/class count mismatch: conf output 1/);
    tf.dispose([loc, conf, wrong]);
  });
});
