import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { train, StepLog } from '../../src/train/train';
import { withClasses } from '../../src/train/withClasses';
import { evaluate } from '../../src/train/evaluate';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { tinyYoloV3 } from '../../src/models/darknet/tinyYoloV3';
import { efficientDet } from '../../src/models/efficientDet/efficientDet';
import { Detector } from '../../src/detector';
import { buildDarknetModel } from '../../src/models/darknet/darknetCfg';
import { darknetModelSpec } from '../../src/models/darknet/darknetSpec';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { tinyDataset } from './helpers';

const quiet = { progress: false, augment: false as const, schedule: 'constant' as const, warmupEpochs: 0, weightDecay: 0 };

function weightsOf(d: Detector, name: string): Float32Array[] {
  return d.model.getLayer(name).getWeights().map((w) => w.dataSync() as Float32Array);
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => { m = Math.max(m, Math.abs(v - b[i][j])); }));
  return m;
}

/** Mean loss of the first and last `k` steps. */
function trend(steps: StepLog[], k = 2): [number, number] {
  const mean = (s: StepLog[]): number => s.reduce((a, b) => a + b.total, 0) / s.length;
  return [mean(steps.slice(0, k)), mean(steps.slice(-k))];
}

describe('train', () => {
  test('YOLO-FastestV2 (64 px): loss decreases, no tensor leak across steps, predict/evaluate see the trained weights', async () => {
    const { dataset, readImage } = tinyDataset(4);
    const det = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    // compile the fast inference graph with the initial weights
    const before = det.predict(x);
    const evBefore = await evaluate(det, dataset, { readImage });
    const counts: number[] = [];
    const r = await train(det, dataset, {
      ...quiet, epochs: 8, batchSize: 4, optimizer: 'adam', lr: 0.003, readImage,
      onStep: () => counts.push(tf.memory().numTensors),
    });
    const [first, last] = trend(r.steps);
    expect(last).toBeLessThan(first * 0.8);
    // flat from the second step on (the optimiser creates its slots at the first)
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(r.detector).toBe(det);
    // the compiled graph was rebuilt from the new weights: it agrees with the LayersModel
    // and no longer with the initial outputs
    const fast = det.predict(x);
    const evFast = await evaluate(det, dataset, { readImage });
    det.fastInference = false;
    const slow = det.predict(x);
    const evSlow = await evaluate(det, dataset, { readImage });
    det.fastInference = true;
    const diff = (a: tf.Tensor[], b: tf.Tensor[]): number => Math.max(...a.map((t, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, b[i]))).dataSync()[0])));
    expect(diff(fast, slow)).toBeLessThan(1e-3);
    expect(diff(fast, before)).toBeGreaterThan(0.05);
    expect(evFast.detections.length).toBe(evSlow.detections.length);
    expect(Math.abs(evFast.mAP50 - evSlow.mAP50)).toBeLessThan(1e-3);
    const scores = (e: typeof evFast): number[] => e.detections.map((d) => d.score).sort((a, b) => b - a).slice(0, 20);
    expect(Math.max(...scores(evFast).map((v, i) => Math.abs(v - scores(evSlow)[i])))).toBeLessThan(1e-3);
    expect(scores(evFast)).not.toEqual(scores(evBefore));
    tf.dispose([x, ...before, ...fast, ...slow]);
    r.optimizer.dispose();
    det.dispose();
  });

  test('tiny YOLOv3 (128 px): loss decreases', async () => {
    const { dataset, readImage } = tinyDataset(2);
    const det = tinyYoloV3({ numClasses: 3, inputSize: 128, classNames: dataset.classNames });
    const r = await train(det, dataset, { ...quiet, epochs: 6, batchSize: 2, optimizer: 'adam', lr: 0.001, readImage });
    const [first, last] = trend(r.steps);
    expect(last).toBeLessThan(first * 0.8);
    r.optimizer.dispose();
    det.dispose();
  });

  test('EfficientDet-D0 (128 px): loss decreases', async () => {
    const { dataset, readImage } = tinyDataset(2);
    const det = efficientDet({ phi: 0, inputSize: 128, classNames: dataset.classNames });
    const r = await train(det, dataset, { ...quiet, epochs: 6, batchSize: 2, optimizer: 'adam', lr: 0.002, readImage, freeze: 'backbone' });
    // 6 steps on one fixed batch from an unseeded init (about -8% a step): first two vs last two
    const [first, last] = trend(r.steps, 2);
    expect(last).toBeLessThan(first * 0.8);
    // focal + smooth-L1: no objectness term
    expect(r.steps.every((s) => s.obj === 0 && s.cls > 0 && s.box > 0)).toBe(true);
    r.optimizer.dispose();
    det.dispose();
  });
});

/** A tiny detector with a nearest-upsampling layer (YOLO-FastestV2-style head, stride 4, 32 px), seeded weights. */
function tinyUpsampleDetector(classNames: string[]): Detector {
  const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: seed + 100 }) });
  const input = tf.input({ shape: [32, 32, 3] });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 4, strides: 4, name: 'c1', ...init(1) }).apply(input) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ filters: 4, kernelSize: 2, strides: 2, name: 'c2', ...init(2) }).apply(c1) as tf.SymbolicTensor;
  const up = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(c2) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ filters: 5 + classNames.length, kernelSize: 1, name: 'head', ...init(3) }).apply(up) as tf.SymbolicTensor;
  return new Detector(tf.model({ inputs: input, outputs: out }), {
    name: 'tiny-upsample',
    input: { size: [32, 32], resize: 'stretch', channelOrder: 'RGB', scale: 1 / 255 },
    classNames,
    heads: [{ kind: 'yolov5', output: 0, anchors: [[10, 10]], stride: [4, 4], classActivation: 'softmax' }],
    multiLabel: false,
    scoreThreshold: 0.25,
    nms: { kind: 'iou', perClass: true, iouThreshold: 0.45 },
    maxDetections: 100,
  });
}

describe('train on the cpu backend', () => {
  test('installs the fixed ResizeNearestNeighborGrad: a batch-2 step through an upsampling layer equals the wasm step', async () => {
    const { setBackend } = await import('../../src/backend');
    const { dataset, readImage } = tinyDataset(2);
    const opts = { ...quiet, epochs: 1, batchSize: 2, optimizer: 'sgd' as const, lr: 0.05, readImage };
    const stepOn = async (backend: string): Promise<Float32Array[]> => {
      await setBackend(backend);
      const det = tinyUpsampleDetector(dataset.classNames);
      const r = await train(det, dataset, opts);
      expect(r.steps.length).toBe(1);
      const w = weightsOf(det, 'c1');
      r.optimizer.dispose();
      det.dispose();
      return w;
    };
    try {
      const onCpu = await stepOn('cpu');
      const onWasm = await stepOn('wasm');
      const initial = (() => { const d = tinyUpsampleDetector(dataset.classNames); const w = weightsOf(d, 'c1'); d.dispose(); return w; })();
      expect(maxDiff(onWasm, initial)).toBeGreaterThan(1e-4); // the step moved the weights below the upsampling
      expect(maxDiff(onCpu, onWasm)).toBeLessThan(1e-5);
    } finally {
      await setBackend(process.env.YOLO_TFJS_TEST_BACKEND || 'wasm');
    }
  });
});

describe('withClasses', () => {
  test('rebuilds only the class layers; backbone identical; box/obj channels and same-name classes kept', async () => {
    // YOLO-FastestV2
    const fv = yoloFastestV2({ numClasses: 4, inputSize: 64, classNames: ['a', 'b', 'c', 'd'] });
    const fv2 = await withClasses(fv, ['c', 'x']);
    expect(fv2.spec.classNames).toEqual(['c', 'x']);
    expect(fv2.model.outputs[0].shape[3]).toBe(5 * 3 + 2);
    expect(maxDiff(weightsOf(fv, 'backbone.stage3.0.branch_main.0'), weightsOf(fv2, 'backbone.stage3.0.branch_main.0'))).toBe(0);
    expect(maxDiff(weightsOf(fv, 'output_obj_layers'), weightsOf(fv2, 'output_obj_layers'))).toBe(0);
    const [k0] = fv.model.getLayer('output_cls_layers').getWeights();
    const [k1] = fv2.model.getLayer('output_cls_layers').getWeights();
    // class 'c' (old index 2) -> new index 0
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(tf.slice(k0, [0, 0, 0, 2], [-1, -1, -1, 1]), tf.slice(k1, [0, 0, 0, 0], [-1, -1, -1, 1])))).dataSync()[0])).toBe(0);
    // tiny YOLOv3: head convs keep x, y, w, h, obj of every anchor
    const ty = tinyYoloV3({ numClasses: 80, inputSize: 64 });
    const ty2 = await withClasses(ty, ['person', 'thing']);
    expect(ty2.model.outputs[0].shape[3]).toBe(3 * 7);
    expect(maxDiff(weightsOf(ty, 'conv_8_conv'), weightsOf(ty2, 'conv_8_conv'))).toBe(0);
    const h0 = ty.model.getLayer('conv_15_conv').getWeights()[0];
    const h1 = ty2.model.getLayer('conv_15_conv').getWeights()[0];
    for (let a = 0; a < 3; a++) {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.slice(h0, [0, 0, 0, a * 85], [-1, -1, -1, 6]), tf.slice(h1, [0, 0, 0, a * 7], [-1, -1, -1, 6])))).dataSync()[0]);
      expect(d).toBe(0); // x y w h obj + 'person' (old class 0)
    }
    // EfficientDet: classifier header rebuilt, the rest identical, prediction runs
    const ed = efficientDet({ phi: 0, inputSize: 128 });
    const ed2 = await withClasses(ed, ['a', 'b']);
    expect(ed2.model.outputs[1].shape[2]).toBe(2);
    expect(maxDiff(weightsOf(ed, 'backbone_net.model._conv_stem'), weightsOf(ed2, 'backbone_net.model._conv_stem'))).toBe(0);
    expect(maxDiff(weightsOf(ed, 'regressor.header'), weightsOf(ed2, 'regressor.header'))).toBe(0);
    const out = ed2.predict(tf.zeros([1, 128, 128, 3]));
    expect(out[1].shape).toEqual([1, out[0].shape[1], 2]);
    tf.dispose(out);
    await expect(withClasses(ed, ['a', 'a'])).rejects.toThrow(/class name 'a' appears twice/);
    for (const d of [fv, fv2, ty, ty2, ed, ed2]) d.dispose();
  });

  test('a Darknet cfg with a depthwise conv (Yolo-Fastest style) keeps its depthwise kernel', async () => {
    // tfjs-layers serialises DepthwiseConv2D's L2 regularizer as its constraint; rebuilt
    // unrepaired, the "constraint" turned the kernel into a scalar on setWeights.
    const cfgText = [
      '[net]\nwidth=64\nheight=64\nchannels=3\n',
      '[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n',
      '[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\ngroups=8\nstride=1\npad=1\nactivation=leaky\n',
      '[convolutional]\nsize=1\nstride=1\npad=1\nfilters=21\nactivation=linear\n',
      '[yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=2\nnum=3\n',
    ].join('\n');
    const cfg = parseDarknetCfg(cfgText);
    const det = new Detector(buildDarknetModel(cfg, { name: 'dw' }), darknetModelSpec(cfg, { classNames: ['a', 'b'], name: 'dw' }));
    expect(det.model.getLayer('conv_1_conv').getClassName()).toBe('DepthwiseConv2D');
    const det2 = await withClasses(det, ['a', 'b', 'c']);
    expect(det2.model.outputs[0].shape[3]).toBe(3 * 8);
    expect(maxDiff(weightsOf(det, 'conv_1_conv'), weightsOf(det2, 'conv_1_conv'))).toBe(0);
    const out = det2.predict(tf.zeros([1, 64, 64, 3]));
    expect(out[0].shape).toEqual([1, 32, 32, 24]);
    tf.dispose(out);
    det.dispose();
    det2.dispose();
  });
});

describe('checkpoints and errors', () => {
  test('resume restores the weights and the optimiser step; JSONL log and curves PNG written', async () => {
    const { dataset, readImage } = tinyDataset(4);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-train-'));
    const det = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    const r1 = await train(det, dataset, { progress: false, epochs: 2, batchSize: 2, optimizer: 'sgd', lr: 0.01, readImage, outDir: out, valDataset: dataset });
    expect(r1.optimizer.iterations).toBe(4);
    const lines = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'step').length).toBe(4);
    expect(lines.filter((l) => l.type === 'epoch').length).toBe(2);
    expect(typeof lines[lines.length - 1].mAP50).toBe('number');
    expect(fs.statSync(path.join(out, 'curves.png')).size).toBeGreaterThan(1000);
    // a fresh model resumed from the checkpoint has the trained weights and the step count
    const fresh = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    const r2 = await train(fresh, dataset, { progress: false, epochs: 2, batchSize: 2, optimizer: 'sgd', lr: 0.01, readImage, resume: path.join(out, 'checkpoint') });
    expect(r2.steps.length).toBe(0); // both epochs were done
    expect(r2.optimizer.iterations).toBe(4);
    expect(r2.epochs.length).toBe(2);
    for (const name of ['backbone.first_conv.0', 'output_cls_layers', 'fpn.conv1x1_2.1']) {
      expect(maxDiff(weightsOf(det, name), weightsOf(fresh, name))).toBe(0);
    }
    // one more epoch continues from step 4
    const r3 = await train(fresh, dataset, { progress: false, epochs: 3, batchSize: 2, optimizer: 'sgd', lr: 0.01, readImage, resume: path.join(out, 'checkpoint') });
    expect(r3.steps.map((s) => s.step)).toEqual([4, 5]);
    expect(r3.optimizer.iterations).toBe(6);
    for (const r of [r1, r2, r3]) r.optimizer.dispose();
    det.dispose();
    fresh.dispose();
  });

  test('bad options and inputs give clear errors', async () => {
    const { dataset, readImage } = tinyDataset(2);
    const det = yoloFastestV2({ numClasses: 3, inputSize: 64, classNames: dataset.classNames });
    const tensorsBefore = tf.memory().numTensors;
    await expect(train(det, dataset, { epochs: 0, batchSize: 2 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(train(det, dataset, { epochs: 1, batchSize: 2, optimizer: 'rmsprop' as 'sgd' })).rejects.toThrow(/optimizer must be 'sgd' or 'adam'/);
    await expect(train(det, dataset, { epochs: 1, batchSize: 2, freeze: ['nope.'], readImage, progress: false })).rejects.toThrow(/matches no layer/);
    await expect(train(det, dataset, { epochs: 1, batchSize: 2, classNames: ['a'], readImage })).rejects.toThrow(/1 classes requested but the dataset has 3/);
    // a failed set-up leaves no optimizer behind and no layer frozen
    await expect(train(det, dataset, { epochs: 1, batchSize: 2, freeze: [''], readImage, progress: false })).rejects.toThrow(/no trainable weights/);
    expect(det.model.layers.filter((l) => !l.trainable).map((l) => l.name)).toEqual([]);
    await expect(train(det, dataset, { epochs: 1, batchSize: 2, resume: path.join(os.tmpdir(), 'no-such-checkpoint-dir'), readImage, progress: false })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const other = yoloFastestV2({ numClasses: 5, inputSize: 64 });
    await expect(evaluate(other, dataset, { readImage })).rejects.toThrow(/dataset has 3 classes but the detector 5/);
    other.dispose();
    det.dispose();
  });
});
