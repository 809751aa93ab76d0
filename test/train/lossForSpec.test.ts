// lossForSpec: the spec -> reference-loss adapter (output routing, anchors, options, errors).
import * as tf from '@tensorflow/tfjs';
import { DarknetHeadSpec, HeadSpec, ModelSpec, Yolov5HeadSpec } from '../../src/spec';
import { darknetAnchorsFromSpec, lossForSpec } from '../../src/train/lossForSpec';
import { scaledYoloLoss } from '../../src/models/scaledYolov4/loss';
import { efficientDetLoss, yoloFastestV2Loss, yoloV3Loss, LossTerms } from '../../src/train/losses';
import { generateAnchors } from '../../src/decode/anchors';
import { TrainBox } from '../../src/train/augment';

function spec(heads: HeadSpec[], size: [number, number], numClasses = 2): ModelSpec {
  return {
    name: 'test',
    input: { size, resize: 'stretch', channelOrder: 'RGB', scale: 1 / 255 },
    classNames: Array.from({ length: numClasses }, (_, i) => `c${i}`),
    heads,
    multiLabel: false,
    scoreThreshold: 0.25,
    nms: { kind: 'iou', perClass: true, iouThreshold: 0.45 },
    maxDetections: 100,
  };
}

function values(t: LossTerms): number[] {
  const v = [t.total, t.box, t.obj, t.cls].map((s) => s.dataSync()[0]);
  tf.dispose([t.total, t.box, t.obj, t.cls]);
  return v;
}

function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

const BOXES: TrainBox[][] = [
  [{ x1: 4, y1: 6, x2: 30, y2: 40, classId: 1 }, { x1: 20, y1: 18, x2: 60, y2: 58, classId: 0 }],
  [{ x1: 10, y1: 12, x2: 34, y2: 30, classId: 0 }],
];

// YOLOv4-tiny's cfg: 6 anchors, masks 3,4,5 (stride 32) and 1,2,3 (stride 16): anchor 0 unused.
const V4TINY_ANCHORS: [number, number][] = [[10, 14], [23, 27], [37, 58], [81, 82], [135, 169], [344, 319]];
// Heads listed in the opposite order of the model outputs, to check the routing by `output`.
const V4TINY_HEADS: HeadSpec[] = [
  { kind: 'darknet', output: 1, anchors: [[81, 82], [135, 169], [344, 319]], scaleXY: 1, newCoords: false },
  { kind: 'darknet', output: 0, anchors: [[23, 27], [37, 58], [81, 82]], scaleXY: 1, newCoords: false },
];

describe('lossForSpec', () => {
  test('darknet: full anchor list rebuilt as the union of the heads (shared anchor kept once), outputs routed by head', () => {
    const { anchors, anchorMask } = darknetAnchorsFromSpec(V4TINY_HEADS as DarknetHeadSpec[]);
    expect(anchors).toEqual([[81, 82], [135, 169], [344, 319], [23, 27], [37, 58]]);
    expect(anchorMask).toEqual([[0, 1, 2], [3, 4, 0]]);
    const s = spec(V4TINY_HEADS, [64, 64]);
    const out16 = randn([2, 4, 4, 21], 1); // output 0: stride 16
    const out32 = randn([2, 2, 2, 21], 2); // output 1: stride 32
    const got = values(lossForSpec(s)([out16, out32], BOXES, s));
    const want = values(yoloV3Loss([out32, out16], BOXES, { anchors, anchorMask, numClasses: 2, inputSize: [64, 64] }));
    expect(got).toEqual(want);
    expect(got[1]).toBeGreaterThan(0);
    tf.dispose([out16, out32]);
  });

  test('darknet: the cfg anchors can be given; then a box best fitting the unused anchor 0 is dropped, as keras-yolo3 does', () => {
    const s = spec(V4TINY_HEADS, [64, 64]);
    const out16 = randn([1, 4, 4, 21], 3);
    const out32 = randn([1, 2, 2, 21], 4);
    const tiny: TrainBox[][] = [[{ x1: 20, y1: 20, x2: 29, y2: 33, classId: 1 }]]; // 9x13 px: best is anchor 0 (10x14)
    const none: TrainBox[][] = [[]];
    const cfg = lossForSpec(s, { anchors: V4TINY_ANCHORS, anchorMask: [[3, 4, 5], [1, 2, 3]] });
    const fromSpec = lossForSpec(s);
    const outs = [out16, out32];
    // cfg anchors: the tiny box is assigned nowhere, the loss is that of an empty image
    expect(values(cfg(outs, tiny, s))).toEqual(values(cfg(outs, none, s)));
    // spec anchors: it goes to its best remaining anchor (23x27 at stride 16) and is trained
    const [, box, , cls] = values(fromSpec(outs, tiny, s));
    expect(box).toBeGreaterThan(0);
    expect(cls).toBeGreaterThan(0);
    // and with the full list, an ordinary box gives the same loss as the spec-derived list
    expect(values(cfg(outs, BOXES.slice(0, 1), s))).toEqual(values(fromSpec(outs, BOXES.slice(0, 1), s)));
    tf.dispose(outs);
  });

  test('yolov5 heads -> yoloFastestV2Loss with the heads\' anchors, routed by output', () => {
    const heads: HeadSpec[] = [
      { kind: 'yolov5', output: 1, anchors: [[12, 18], [37, 49], [52, 94]], stride: [16, 16], classActivation: 'softmax' },
      { kind: 'yolov5', output: 0, anchors: [[115, 73], [119, 199], [242, 238]], stride: [32, 32], classActivation: 'softmax' },
    ];
    const s = spec(heads, [64, 64], 3);
    const out32 = randn([2, 2, 2, 18], 5);
    const out16 = randn([2, 4, 4, 18], 6);
    const got = values(lossForSpec(s)([out32, out16], BOXES, s));
    const want = values(yoloFastestV2Loss([out16, out32], BOXES, { inputSize: [64, 64], anchors: (heads as Yolov5HeadSpec[]).map((h) => h.anchors), numClasses: 3 }));
    expect(got).toEqual(want);
    expect(got[1]).toBeGreaterThan(0);
    tf.dispose([out16, out32]);
  });

  test('anchor-deltas -> efficientDetLoss with generateAnchors of the spec input size', () => {
    const head: HeadSpec = {
      kind: 'anchor-deltas', regressionOutput: 0, classificationOutput: 1, levels: [3, 4, 5],
      anchorScale: 4, scales: [1, 2 ** (1 / 3), 2 ** (2 / 3)], ratios: [[1, 1], [1.4, 0.7], [0.7, 1.4]], clip: true,
    };
    const s = spec([head], [64, 64]);
    const K = (8 * 8 + 4 * 4 + 2 * 2) * 9;
    const reg = tf.mul(randn([2, K, 4], 7), 0.1) as tf.Tensor3D;
    const cls = tf.sigmoid(randn([2, K, 2], 8)) as tf.Tensor3D;
    const got = values(lossForSpec(s)([reg, cls], BOXES, s));
    const want = values(efficientDetLoss(reg, cls, generateAnchors(head, [64, 64]), BOXES));
    expect(got).toEqual(want);
    expect(got[1]).toBeGreaterThan(0);
    // outputs of another input size do not match the spec's anchors
    const s128 = spec([head], [128, 128]);
    expect(() => lossForSpec(s128)([reg, cls], BOXES, s128)).toThrow(/efficientDetLoss: 3024 anchors for 756 predictions/);
    tf.dispose([reg, cls]);
  });

  test('new_coords=1 darknet heads and anchor-major yolov5 heads train with the yolov4 branch loss', () => {
    const heads = V4TINY_HEADS.map((h) => ({ ...h, newCoords: true, scaleXY: 2 }) as HeadSpec);
    const s = spec(heads, [64, 64]);
    const outs = [tf.sigmoid(randn([2, 4, 4, 3 * 7], 3)), tf.sigmoid(randn([2, 2, 2, 3 * 7], 4))];
    const got = values(lossForSpec(s)(outs, BOXES, s));
    const want = values(scaledYoloLoss([outs[1], outs[0]], BOXES, { inputSize: [64, 64], anchors: heads.map((h) => (h as { anchors: [number, number][] }).anchors), numClasses: 2, activated: true, scaleXY: [2, 2] }));
    expect(got).toEqual(want);
    expect(got.every(Number.isFinite)).toBe(true);
    const v5 = spec([{ kind: 'yolov5', output: 0, anchors: [[10, 10], [20, 20]], stride: [16, 16], classActivation: 'sigmoid', layout: 'anchor-major' }], [64, 64]);
    const logits = randn([2, 4, 4, 2 * 7], 5);
    expect(values(lossForSpec(v5)([logits], BOXES, v5))).toEqual(values(scaledYoloLoss([logits], BOXES, { inputSize: [64, 64], anchors: [[[10, 10], [20, 20]]], numClasses: 2 })));
    tf.dispose([...outs, logits]);
  });

  test('unsupported heads and inconsistent options are clear errors', () => {
    const newCoords = spec([{ ...V4TINY_HEADS[0], newCoords: true } as HeadSpec, V4TINY_HEADS[1]], [64, 64]);
    expect(() => lossForSpec(newCoords)).toThrow(/'test' mixes new_coords and classic \[yolo\] heads/);
    const s = spec(V4TINY_HEADS, [64, 64]);
    expect(() => lossForSpec(s, { anchors: V4TINY_ANCHORS })).toThrow(/give both anchors and anchorMask/);
    expect(() => lossForSpec(s, { anchors: V4TINY_ANCHORS, anchorMask: [[3, 4, 5]] })).toThrow(/anchorMask has 1 entries for 2 heads/);
    const sig = spec([{ kind: 'yolov5', output: 0, anchors: [[10, 10]], stride: [16, 16], classActivation: 'sigmoid' }], [64, 64]);
    expect(() => lossForSpec(sig)).toThrow(/sigmoid classes; YOLO-FastestV2's loss is for softmax/);
    const v5 = spec([{ kind: 'yolov5', output: 0, anchors: [[10, 10]], stride: [16, 16], classActivation: 'softmax' }], [64, 64]);
    expect(() => lossForSpec(v5, { boxLoss: 'ciou' })).toThrow(/apply to darknet heads, not yolov5/);
  });
});
