import * as tf from '@tensorflow/tfjs';
import { YOLO_FASTESTV2_COCO_ANCHORS, yoloFastestV2 } from '../../../src/models/yoloFastestV2/yoloFastestV2';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';
import { COCO_CLASSES } from '../../../src/spec';

function trainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

describe('yoloFastestV2 (architecture)', () => {
  it('352 input: outputs [1,22,22,95] then [1,11,11,95]; 243,095 trainable params and 79 convs as upstream', () => {
    const det = yoloFastestV2();
    const m = det.model;
    expect(m.outputs.map((o) => o.shape)).toEqual([[null, 22, 22, 95], [null, 11, 11, 95]]);
    expect(trainableParams(m)).toBe(243095);
    expect(m.countParams() - trainableParams(m)).toBe(8496); // BN running stats
    const convs = m.layers.filter((l) => ['Conv2D', 'DepthwiseConv2D'].includes(l.getClassName()));
    expect(convs.length).toBe(76);
    // 79 conv calls as upstream's conv_layers.tsv: the 3 output convs are shared, run at both scales.
    expect(convs.reduce((s, l) => s + l.inboundNodes.length, 0)).toBe(79);
    expect(m.getLayer('output_cls_layers').inboundNodes.length).toBe(2);
    expect(m.getLayer('fpn.P2_concat').output).toBeDefined();
    // FPN upsamples the raw 192-ch backbone output (C3), concatenated BEFORE the 96-ch C2.
    const p2 = m.getLayer('fpn.P2_concat');
    expect((p2.input as tf.SymbolicTensor[]).map((t) => t.shape[3])).toEqual([192, 96]);
    expect((p2.input as tf.SymbolicTensor[])[0].sourceLayer.name).toBe('fpn.upsample');
    // Objectness reads the CLASS branch.
    const objInputs = m.getLayer('output_obj_layers').inboundNodes.map((n) => n.inboundLayers[0].name);
    expect(objInputs).toEqual(['fpn.cls_head_2.block.9', 'fpn.cls_head_3.block.9']);
    for (const l of m.layers.filter((x) => x.getClassName() === 'BatchNormalization')) {
      expect((l.getConfig() as { epsilon: number }).epsilon).toBe(1e-5);
    }
    disposeLayersModel(m);
  });

  it('spec: BGR stretch /255, yolov5 heads (stride 16 then 32, upstream anchors), softmax, NMS 0.4 per class', () => {
    const det = yoloFastestV2();
    const s = det.spec;
    expect(s.input).toEqual({ size: [352, 352], resize: 'stretch', channelOrder: 'BGR', scale: 1 / 255 });
    expect(s.heads).toEqual([
      { kind: 'yolov5', output: 0, anchors: YOLO_FASTESTV2_COCO_ANCHORS.slice(0, 3), stride: [16, 16], classActivation: 'softmax' },
      { kind: 'yolov5', output: 1, anchors: YOLO_FASTESTV2_COCO_ANCHORS.slice(3), stride: [32, 32], classActivation: 'softmax' },
    ]);
    expect(s.heads[0].kind === 'yolov5' && s.heads[0].anchors[2]).toEqual([55.71, 138.31]);
    expect(s.multiLabel).toBe(false);
    expect(s.scoreThreshold).toBe(0.3);
    expect(s.nms).toEqual({ kind: 'iou', perClass: true, iouThreshold: 0.4 });
    expect(s.maxDetections).toBe(300);
    expect(s.classNames).toEqual(COCO_CLASSES);
    disposeLayersModel(det.model);
  });

  it('options: classes, input size, anchors per scale', () => {
    const det = yoloFastestV2({ numClasses: 20, inputSize: 320, anchors: [[10, 10], [20, 20], [30, 30], [40, 40]] });
    expect(det.model.outputs.map((o) => o.shape)).toEqual([[null, 20, 20, 8 + 2 + 20], [null, 10, 10, 30]]);
    expect(det.spec.classNames[19]).toBe('class19');
    expect(det.spec.input.size).toEqual([320, 320]);
    disposeLayersModel(det.model);
  });

  it('rejects bad options with clear messages', () => {
    expect(() => yoloFastestV2({ inputSize: 350 })).toThrow(/inputSize must be a positive multiple of 32, got 350/);
    expect(() => yoloFastestV2({ numClasses: 0 })).toThrow(/numClasses must be a positive integer/);
    expect(() => yoloFastestV2({ anchors: [[1, 2], [3, 4], [5, 6]] })).toThrow(/even number .* got 3/);
    expect(() => yoloFastestV2({ anchors: [[1, 2], [3, -4]] })).toThrow(/each anchor must be \[w, h\].*\[3,-4\]/);
    expect(() => yoloFastestV2({ numClasses: 3, classNames: ['a', 'b'] })).toThrow(/2 class names for numClasses 3/);
  });

  it('saves and loads back (registered custom layers, shared output convs) with identical outputs', async () => {
    const det = yoloFastestV2({ inputSize: 64, numClasses: 4 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await det.model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 11);
    const a = det.model.predict(x) as tf.Tensor[];
    const b = loaded.predict(x) as tf.Tensor[];
    for (let i = 0; i < 2; i++) expect(Array.from(b[i].dataSync())).toEqual(Array.from(a[i].dataSync()));
    tf.dispose([x, ...a, ...b]);
    disposeLayersModel(det.model);
    disposeLayersModel(loaded);
  });

  it('predict keeps tf.memory().numTensors flat; dispose frees every weight (shared layers and the compiled graph too)', () => {
    const n0 = tf.memory().numTensors;
    const det = yoloFastestV2({ inputSize: 64 });
    const x = tf.randomUniform([1, 64, 64, 3]);
    tf.dispose(det.predict(x));
    const n1 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(det.predict(x));
    expect(tf.memory().numTensors).toBe(n1);
    x.dispose();
    det.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});
