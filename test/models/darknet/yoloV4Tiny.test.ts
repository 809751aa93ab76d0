import * as tf from '@tensorflow/tfjs';
import { yoloV4Tiny } from '../../../src/models/darknet/yoloV4Tiny';
import { darknetConvLayers } from '../../../src/models/darknet/darknetConvLayers';
import { describeDarknetParity } from '../../helpers/darknetParity';

function sizeOf(ws: tf.LayerVariable[]): number {
  return ws.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

describe('yoloV4Tiny (shapes)', () => {
  it('416 / 80 classes matches Darknet\'s counts for yolov4-tiny.cfg', () => {
    const det = yoloV4Tiny();
    const m = det.model;
    expect(m.outputs.map((o) => o.shape)).toEqual([[null, 13, 13, 255], [null, 26, 26, 255]]);
    const convs = darknetConvLayers(m);
    expect(convs.map((c) => c.index)).toEqual([0, 1, 2, 4, 5, 7, 10, 12, 13, 15, 18, 20, 21, 23, 26, 27, 28, 29, 32, 35, 36]);
    // NOTES.md table: conv weights 6,049,888; biases/beta 3,614; BN channels 3,104; floats in file 6,062,814.
    const kernels = convs.reduce((s, c) => s + c.conv.getWeights()[0].size, 0);
    const convBiases = convs.reduce((s, c) => s + (c.bn ? 0 : c.conv.getWeights()[1].size), 0);
    const bnChannels = convs.reduce((s, c) => s + (c.bn ? c.bn.getWeights()[0].size : 0), 0);
    expect(kernels).toBe(6049888);
    expect(convBiases + bnChannels).toBe(3614);
    expect(bnChannels).toBe(3104);
    // tfjs countParams counts gamma, beta, moving mean and variance: = the .weights float count
    expect(m.countParams()).toBe(6062814);
    // trainable (w + b + gamma) per the table: tfjs trainable = kernels + biases + beta + gamma
    expect(sizeOf(m.trainableWeights)).toBe(6056606);
    expect(det.spec.heads).toEqual([
      { kind: 'darknet', output: 0, anchors: [[81, 82], [135, 169], [344, 319]], scaleXY: 1.05, newCoords: false },
      { kind: 'darknet', output: 1, anchors: [[23, 27], [37, 58], [81, 82]], scaleXY: 1.05, newCoords: false },
    ]);
    expect(det.spec.nms).toEqual({ kind: 'diou', perClass: true, iouThreshold: 0.45, beta: 0.6 });
    expect(det.spec.input).toEqual({ size: [416, 416], resize: 'stretch', channelOrder: 'RGB', scale: 1 / 255 });
    expect(det.spec.name).toBe('yolov4-tiny');
    // the FPN routes from the third CSPOSA block's 1x1 conv (cfg layer 23)
    const route34 = m.getLayer('route_34');
    expect(route34.inboundNodes[0].inboundLayers.map((l) => l.name)).toEqual(['upsample_33', 'conv_23_act']);
    det.dispose();
  });

  it('other sizes and errors', () => {
    const det = yoloV4Tiny({ numClasses: 1, inputSize: 320 });
    expect(det.model.outputs.map((o) => o.shape)).toEqual([[null, 10, 10, 18], [null, 20, 20, 18]]);
    det.dispose();
    expect(() => yoloV4Tiny({ anchors: [[1, 1], [2, 2]] })).toThrow(/yoloV4Tiny: needs exactly 6 anchors/);
    expect(() => yoloV4Tiny({ inputSize: [416, 100] })).toThrow(/inputSize must be a positive multiple of 32/);
  });
});

describeDarknetParity({
  name: 'yolov4-tiny',
  title: 'yoloV4Tiny parity with Darknet (random weights, dog)',
  build: () => yoloV4Tiny(),
  heads: [['yolo30_in_dog.f32', 13], ['yolo37_in_dog.f32', 26]],
  nmsLabel: 'cfg NMS (greedynms = DIoU)',
});
