/**
 * buildDarknetModel / darknetModelSpec / loadDarknet without fixtures: hand-made cfgs with
 * weights generated here, errors, the spec derived from the cfg, and tensor lifetime.
 */
import * as tf from '@tensorflow/tfjs';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { darknetWeightsFloatCount } from '../../../src/weights/readDarknetWeights';
import { buildDarknetModel } from '../../../src/models/darknet/darknetCfg';
import { darknetModelSpec } from '../../../src/models/darknet/darknetSpec';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { expectFlatLoadPredictDispose } from '../../helpers/expectFlatTensors';

/** The [yolo] section shared by both heads of CFG, for the given mask. */
const yoloHead = (mask: string): string => `[yolo]
mask=${mask}
anchors=1,2, 3,4, 5,6, 7,8
classes=3
num=4
scale_x_y=2.0
new_coords=1
nms_kind=diounms
beta_nms=0.7`;

/** A small cfg using every supported section. 3 classes, 2 heads. */
const CFG = `
[net]
width=32
height=32
channels=3
letter_box=1

# 0
[convolutional]
batch_normalize=1
filters=8
size=3
stride=2
pad=1
activation=leaky
# 1: depthwise
[convolutional]
batch_normalize=1
groups=8
filters=8
size=3
pad=1
activation=mish
# 2
[convolutional]
batch_normalize=1
filters=8
size=1
activation=swish
# 3
[shortcut]
from=-3
activation=linear
# 4
[dropout]
probability=0.1
# 5: second half of the channels
[route]
layers=-1
groups=2
group_id=1
# 6
[maxpool]
size=2
stride=2
# 7: pad=0 with explicit padding=1
[convolutional]
filters=4
size=3
padding=1
activation=relu
# 8
[maxpool]
size=3
stride=1
# 9
[convolutional]
filters=16
size=1
activation=linear
# 10
${yoloHead('2,3')}
# 11
[route]
layers=-4
# 12
[upsample]
stride=2
# 13: absolute + relative, different channel counts
[route]
layers=-1, 5
# 14
[convolutional]
filters=16
size=1
activation=logistic
# 15
${yoloHead('0,1')}
`;

/** Deterministic pseudo-random weights file (header 0.2.5) for a cfg. */
function randomWeights(cfgText: string, seed = 1, extraFloats = 0): Uint8Array {
  const n = darknetWeightsFloatCount(parseDarknetCfg(cfgText)) + extraFloats;
  const buf = new ArrayBuffer(20 + 4 * n);
  const dv = new DataView(buf);
  dv.setInt32(0, 0, true);
  dv.setInt32(4, 2, true);
  dv.setInt32(8, 5, true);
  const f = new Float32Array(buf, 20, n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[i] = 0.5 + (s / 2 ** 32) * 0.5; // in [0.5, 1): also valid as BN variances
  }
  return new Uint8Array(buf);
}

describe('buildDarknetModel / loadDarknet on a hand-made cfg', () => {
  test('output shapes, names, parameter count = Darknet float count', () => {
    const cfg = parseDarknetCfg(CFG);
    const model = buildDarknetModel(cfg);
    try {
      expect(model.outputs.map((o) => o.shape)).toEqual([
        [null, 8, 8, 16], // 32 -s2-> 16 -> pool 8 -> conv 3x3 padding 1: 8 -> pool 3/1: 8
        [null, 16, 16, 16],
      ]);
      expect(model.countParams()).toBe(darknetWeightsFloatCount(cfg));
      for (const name of ['conv_0_conv', 'conv_0_bn', 'conv_1_conv', 'shortcut_3', 'route_5_g0', 'maxpool_6', 'conv_7_pad',
        'upsample_12', 'route_13']) {
        expect(model.getLayer(name)).toBeDefined();
      }
      expect(model.getLayer('conv_1_conv').getClassName()).toBe('DepthwiseConv2D');
    } finally {
      model.dispose();
    }
  });

  test('inputSize override', () => {
    const model = buildDarknetModel(parseDarknetCfg(CFG), { inputSize: [64, 96] });
    try {
      expect(model.outputs.map((o) => o.shape)).toEqual([[null, 16, 24, 16], [null, 32, 48, 16]]);
    } finally {
      model.dispose();
    }
  });

  test('spec from the cfg: heads by mask, letterbox, diounms', () => {
    const spec = darknetModelSpec(parseDarknetCfg(CFG), { classNames: ['a', 'b', 'c'] });
    expect(spec).toEqual({
      name: 'darknet',
      input: {
        size: [32, 32],
        resize: 'letterbox',
        letterbox: { align: 'darknet', padValue: 0.5 },
        channelOrder: 'RGB',
        scale: 1 / 255,
      },
      classNames: ['a', 'b', 'c'],
      heads: [
        { kind: 'darknet', output: 0, anchors: [[5, 6], [7, 8]], scaleXY: 2, newCoords: true },
        { kind: 'darknet', output: 1, anchors: [[1, 2], [3, 4]], scaleXY: 2, newCoords: true },
      ],
      multiLabel: true,
      scoreThreshold: 0.25,
      nms: { kind: 'diou', beta: 0.7, perClass: true, iouThreshold: 0.45 },
      maxDetections: 0,
    });
    expect(darknetModelSpec(parseDarknetCfg(CFG)).classNames).toEqual(['class0', 'class1', 'class2']);
  });

  test('nms kinds: default -> iou, greedynms -> diou 0.6 (beta_nms ignored)', () => {
    const plain = CFG.replace(/letter_box=1\n/, '').replace(/nms_kind=diounms\n/g, '');
    const s1 = darknetModelSpec(parseDarknetCfg(plain));
    expect(s1.nms).toEqual({ kind: 'iou', perClass: true, iouThreshold: 0.45 });
    expect(s1.input.resize).toBe('stretch');
    expect(s1.input.letterbox).toBeUndefined();
    const s2 = darknetModelSpec(parseDarknetCfg(CFG.replace(/nms_kind=diounms/g, 'nms_kind=greedynms')));
    expect(s2.nms).toEqual({ kind: 'diou', beta: 0.6, perClass: true, iouThreshold: 0.45 });
  });

  test('loadDarknet assigns every weight (BN: gamma=scales, beta=biases) and predicts', () => {
    const w = randomWeights(CFG);
    const det = loadDarknet(CFG, w, { classNames: ['a', 'b', 'c'] });
    try {
      const f = new Float32Array(w.buffer, 20);
      // layer 0: biases[8] scales[8] mean[8] var[8] then kernel
      const bn = det.model.getLayer('conv_0_bn').getWeights();
      expect(Array.from(bn[0].dataSync())).toEqual(Array.from(f.subarray(8, 16))); // gamma
      expect(Array.from(bn[1].dataSync())).toEqual(Array.from(f.subarray(0, 8))); // beta
      expect(Array.from(bn[2].dataSync())).toEqual(Array.from(f.subarray(16, 24)));
      expect(Array.from(bn[3].dataSync())).toEqual(Array.from(f.subarray(24, 32)));
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 7);
      const outs = det.predict(x);
      x.dispose();
      expect(outs.map((o) => o.shape)).toEqual([[1, 8, 8, 16], [1, 16, 16, 16]]);
      expect(outs[1].dataSync().every((v) => v >= 0 && v <= 1)).toBe(true); // logistic head
      expect(outs[0].dataSync().some((v) => v > 1)).toBe(true); // linear head
      tf.dispose(outs);
    } finally {
      det.dispose();
    }
  });

  test('tensor count is flat across repeated loadDarknet + predict + dispose', () => {
    const w = randomWeights(CFG);
    const x = tf.zeros([1, 32, 32, 3]);
    expectFlatLoadPredictDispose(() => loadDarknet(CFG, w), x);
    x.dispose();
  });

  test('errors: class names, weights for another class count, extra bytes, bad groups, bad heads, bad routes', () => {
    const w = randomWeights(CFG);
    expect(() => loadDarknet(CFG, w, { classNames: ['a', 'b'] })).toThrow(/classNames has 2 names but the cfg has classes=3/);
    // Same network with 4 classes: the head convs need more floats than the file has.
    const cfg4 = CFG.replace(/classes=3/g, 'classes=4').replace(/filters=16/g, 'filters=18');
    expect(() => loadDarknet(cfg4, w)).toThrow(
      /layer 14 \[convolutional\] \(cfg line 81\) needs 162 floats .* but only 134 are left in the file \(3300 bytes; the cfg needs 3412\)/,
    );
    expect(() => loadDarknet(CFG, randomWeights(CFG, 1, 3))).toThrow(/but the file has \d+ bytes \(12 extra\)/);
    const grouped = CFG.replace('groups=8\nfilters=8', 'groups=3\nfilters=9');
    expect(() => loadDarknet(grouped, w)).toThrow(
      /layer 1 \[convolutional\] \(cfg line 17\): groups=3 must divide both the input channels \(8\) and filters \(9\)/,
    );
    const badYolo = CFG.replace('filters=16\nsize=1\nactivation=linear', 'filters=15\nsize=1\nactivation=linear');
    expect(() => buildDarknetModel(parseDarknetCfg(badYolo))).toThrow(
      /layer 10 \[yolo\].*has 15 channels but mask \(2 anchors\) and classes=3 need 2\*\(5\+3\) = 16 filters/,
    );
    const badRoute = CFG.replace('layers=-1, 5', 'layers=-1, 7');
    expect(() => buildDarknetModel(parseDarknetCfg(badRoute))).toThrow(/layer 13 \[route\].*different sizes/);
  });
});
