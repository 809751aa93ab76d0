/**
 * EfficientDet D0-D7: compound scaling, output shapes, anchor counts, parameter counts, spec,
 * memory. Every phi is built at its REAL input size (building is symbolic: the input size
 * costs nothing, only weight initialisation does). Parameter counts are trainable weights
 * (= PyTorch `parameters()`, i.e. without BN running statistics).
 */
import * as tf from '@tensorflow/tfjs';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';
import { efficientDet, efficientDetConfig, efficientDetGraph, efficientDetSpec, EFFICIENTDET_COCO_CLASSES } from '../../../src/models/efficientDet/efficientDet';
import { anchorCount as efficientDetAnchorCount, gridAnchors as efficientDetAnchors } from '../../../src/decode/anchors';
import { efficientNetBlocks, roundFilters } from '../../../src/layers/efficientNet';
import { AnchorDeltasHeadSpec } from '../../../src/spec';

const trainable = (m: tf.LayersModel) => m.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);

/** Parameter count derived from upstream's module list, independent of the tfjs graph. */
function expectedParams(phi: number, numClasses: number): number {
  const cfg = efficientDetConfig(phi);
  const C = cfg.channels;
  const blocks = efficientNetBlocks(cfg.backbone);
  const stem = roundFilters(32, [1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8][cfg.backbone]);
  let backbone = 27 * stem + 2 * stem;
  for (const b of blocks) {
    const oup = b.inputFilters * b.expandRatio;
    const sq = Math.max(1, Math.trunc(b.inputFilters * 0.25));
    backbone += (b.expandRatio !== 1 ? b.inputFilters * oup + 2 * oup : 0) + b.kernelSize ** 2 * oup + 2 * oup;
    backbone += oup * sq + sq + sq * oup + oup + oup * b.outputFilters + 2 * b.outputFilters;
  }
  const stageOut = (s: number) => blocks.filter((x) => x.stage === s).slice(-1)[0].outputFilters;
  const [c3, c4, c5] = [stageOut(2), stageOut(4), stageOut(6)];
  const sep = (cin: number, cout: number) => 9 * cin + cin * cout + cout;
  let bifpn = cfg.bifpnRepeats * (8 * (sep(C, C) + 2 * C) + 19);
  bifpn += (c3 + c4 + c5 + c5 + c4 + c5) * C + 6 * (C + 2 * C); // first layer's 1x1 convs (bias) + BN
  const head = (k: number) => cfg.headDepth * sep(C, C) + 5 * cfg.headDepth * 2 * C + sep(C, 9 * k);
  return backbone + bifpn + head(4) + head(numClasses);
}

/** EfficientDet paper, Table 2 (millions). */
const PAPER_PARAMS_M = [3.9, 6.6, 8.1, 12.0, 20.7, 33.7, 51.9, 51.9];

describe('EfficientDet D0-D7 shapes and parameter counts', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7])('D%i: outputs, anchors and parameters', (phi) => {
    const g = efficientDetGraph({ phi, init: 'zeros' }); // counts and shapes do not depend on the init
    try {
      const s = g.config.inputSize;
      expect(s).toBe([512, 640, 768, 896, 1024, 1280, 1280, 1536][phi]);
      const K = 9 * [8, 16, 32, 64, 128].reduce((a, st) => a + (s / st) ** 2, 0);
      expect(g.regression.shape).toEqual([null, K, 4]);
      expect(g.classification.shape).toEqual([null, K, 90]);
      const head = g.spec.heads[0] as AnchorDeltasHeadSpec;
      expect(efficientDetAnchorCount({ ...head, inputSize: s })).toBe(K);
      expect(g.bifpn.length).toBe([3, 4, 5, 6, 7, 7, 8, 8][phi]);
      expect(g.bifpn[0].map((t) => t.shape)).toEqual([8, 16, 32, 64, 128].map((st) => [null, s / st, s / st, g.config.channels]));
      const n = trainable(g.model);
      if (phi === 0) expect(n).toBe(3880067);
      if (phi === 1) expect(n).toBe(6625898);
      expect(n).toBe(expectedParams(phi, 90));
      expect(Math.abs(n / 1e6 - PAPER_PARAMS_M[phi])).toBeLessThanOrEqual(0.05);
    } finally {
      disposeLayersModel(g.model);
    }
  });

  it('anchor counts at the real sizes (49104 for D0, 76725 for D1) and D7 uses anchor scale 5', () => {
    const counts = [0, 1, 7].map((phi) => {
      const spec = efficientDetSpec({ phi });
      return efficientDetAnchorCount({ ...(spec.heads[0] as AnchorDeltasHeadSpec), inputSize: spec.input.size });
    });
    expect(counts).toEqual([49104, 76725, 441936]);
    const d7 = efficientDetSpec({ phi: 7 }).heads[0] as AnchorDeltasHeadSpec;
    expect(d7.anchorScale).toBe(5);
    const a = efficientDetAnchors({ ...d7, inputSize: 1536 });
    // first anchor: centre (4, 4), size 5 * 8 * 1 -> half 20
    expect(Array.from(a.subarray(0, 4))).toEqual([-16, -16, 24, 24]);
  });
});

describe('efficientDet detector', () => {
  it('predict returns [regression [N, K, 4], classification [N, K, C]] and does not leak tensors', () => {
    const det = efficientDet({ phi: 0, numClasses: 3, inputSize: 128 });
    const x = tf.randomNormal([2, 128, 128, 3]);
    const K = 9 * (256 + 64 + 16 + 4 + 1);
    const first = det.predict(x);
    expect(first.map((t) => t.shape)).toEqual([[2, K, 4], [2, K, 3]]);
    const cls = first[1].dataSync();
    expect(cls.every((v) => v >= 0 && v <= 1)).toBe(true);
    tf.dispose(first);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(det.predict(x));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    det.dispose();
  });

  it('survives a save / load round trip (custom layers registered, shared head layers kept)', async () => {
    const g = efficientDetGraph({ phi: 0, numClasses: 4, inputSize: 128 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await g.model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.getLayer('regressor.conv_list.0').inboundNodes.length).toBe(5);
    const x = tf.randomNormal([1, 128, 128, 3]);
    const a = g.model.predict(x) as tf.Tensor[];
    const b = loaded.predict(x) as tf.Tensor[];
    for (let i = 0; i < 2; i++) expect(Array.from(b[i].dataSync())).toEqual(Array.from(a[i].dataSync()));
    tf.dispose([x, ...a, ...b]);
    disposeLayersModel(loaded);
    disposeLayersModel(g.model);
  });

  it('build + dispose frees every weight, shared head convs included', () => {
    const before = tf.memory().numTensors;
    const det = efficientDet({ phi: 0, inputSize: 128, init: 'zeros' });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    det.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('spec: letterbox top-left, ImageNet normalisation, per-class IoU 0.2 NMS, single label', () => {
    const spec = efficientDetSpec({ phi: 2 });
    expect(spec.name).toBe('efficientdet-d2');
    expect(spec.input).toEqual({
      size: [768, 768],
      resize: 'letterbox',
      letterbox: { align: 'top-left', padValue: 0 },
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    expect(spec.heads[0]).toMatchObject({ kind: 'anchor-deltas', regressionOutput: 0, classificationOutput: 1, levels: [3, 4, 5, 6, 7], anchorScale: 4, clip: true });
    expect(spec.multiLabel).toBe(false);
    expect(spec.nms).toEqual({ kind: 'iou', perClass: true, iouThreshold: 0.2 });
    expect(spec.classNames).toEqual(EFFICIENTDET_COCO_CLASSES);
    expect(spec.classNames[11]).toBe('');
    expect(efficientDetSpec({ phi: 0, numClasses: 2 }).classNames).toEqual(['class0', 'class1']);
    expect(efficientDetSpec({ phi: 0, classNames: ['a', 'b', 'c'] }).classNames.length).toBe(3);
  });

  it("init 'random' (default) gives random kernels, 'zeros' zero kernels (BN stays identity-initialised)", () => {
    for (const init of ['random', 'zeros'] as const) {
      const g = efficientDetGraph({ phi: 0, inputSize: 128, init });
      const k = g.model.getLayer('bifpn.0.conv6_up').getWeights()[1]; // pointwise kernel
      const gamma = g.model.getLayer('bifpn.0.conv6_up.bn').getWeights()[0];
      expect(tf.any(tf.notEqual(k, 0)).dataSync()[0]).toBe(init === 'random' ? 1 : 0);
      expect(Array.from(gamma.dataSync()).every((v) => v === 1)).toBe(true);
      disposeLayersModel(g.model);
    }
  });

  it('names the problem on bad options', () => {
    expect(() => efficientDet({ phi: 0, inputSize: 128, init: 'ones' as 'zeros' })).toThrow(/weight init must be 'random' or 'zeros', got 'ones'/);
    expect(() => efficientDet({ phi: 8 })).toThrow(/phi must be an integer 0..7, got 8/);
    expect(() => efficientDet({ phi: 0.5 })).toThrow(/phi must be an integer/);
    expect(() => efficientDet({ phi: 0, inputSize: 500 })).toThrow(/multiple of 128.*500/);
    expect(() => efficientDet({ phi: 0, numClasses: 3, classNames: ['a'] })).toThrow(/classNames has 1 entries for numClasses 3/);
    expect(() => efficientDet({ phi: 0, numClasses: 0 })).toThrow(/numClasses must be an integer >= 1/);
  });
});
