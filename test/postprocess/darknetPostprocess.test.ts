/**
 * Decode + NMS parity with Darknet: the dumped head outputs (yolo<L>_in) of each fixture model,
 * postprocessed with a spec built from the manifest's [yolo] layers, must reproduce Darknet's
 * detections (same count, same classes, boxes within 0.5 px, scores within 1e-3), with
 * do_nms_sort and with the cfg's own NMS (greedynms / diounms = DIoU).
 */
import * as tf from '@tensorflow/tfjs';
import { postprocessOutputs } from '../../src/postprocess/postprocess';
import { ModelSpec, COCO_CLASSES, NmsSpec } from '../../src/spec';
import { describeFixtures, readF32, readJson, chwToHwc } from '../helpers/fixtures';
import { matchDetections } from '../helpers/matchDetections';

interface YoloLayer {
  index: number;
  type: string;
  out: number[];
  mask: number[];
  anchors: number[];
  scale_x_y: number;
  new_coords: number;
  nms_kind: string;
  beta_nms: number;
}

function specFromManifest(model: string): { spec: ModelSpec; yolos: YoloLayer[] } {
  const m = readJson(`darknet/${model}/manifest.json`);
  const yolos = (m.layers as YoloLayer[]).filter((l) => l.type === 'yolo');
  const y0 = yolos[0];
  const cfgNms: NmsSpec =
    y0.nms_kind === 'greedynms'
      ? { kind: 'diou', beta: 0.6, perClass: true, iouThreshold: 0.45 }
      : y0.nms_kind === 'diounms'
        ? { kind: 'diou', beta: y0.beta_nms, perClass: true, iouThreshold: 0.45 }
        : { kind: 'iou', perClass: true, iouThreshold: 0.45 };
  const spec: ModelSpec = {
    name: model,
    input: {
      size: [m.net.h, m.net.w],
      resize: m.net.letter_box ? 'letterbox' : 'stretch',
      letterbox: { align: 'darknet', padValue: 0.5 },
      channelOrder: 'RGB',
      scale: 1 / 255,
    },
    classNames: COCO_CLASSES,
    heads: yolos.map((l, i) => ({
      kind: 'darknet' as const,
      output: i,
      anchors: l.mask.map((a) => [l.anchors[2 * a], l.anchors[2 * a + 1]] as [number, number]),
      scaleXY: l.scale_x_y,
      newCoords: l.new_coords === 1,
    })),
    multiLabel: true,
    scoreThreshold: 0.25,
    nms: cfgNms,
    maxDetections: 0,
  };
  return { spec, yolos };
}

const CASES: [string, string][] = [
  ['yolov3-tiny', 'dog'],
  ['yolov4-tiny', 'dog'],
  ['yolo-fastest-1.1', 'dog'],
  ['yolo-fastest-1.1', 'person'],
  ['yolo-fastest-1.1', '000004'],
  ['yolo-fastest-1.1-xl', 'dog'],
  ['yolov4-csp-s-mish', 'dog'],
];

describeFixtures('darknet', 'Darknet decode + NMS parity (saved head tensors)', () => {
  for (const [model, img] of CASES) {
    describe(`${model} / ${img}`, () => {
      const { spec, yolos } = specFromManifest(model);
      const expected = readJson(`darknet/${model}/detections_${model}_${img}.json`);
      const imageSize: [number, number] = [expected.image_h, expected.image_w];
      let raw: tf.Tensor[] = [];
      beforeAll(() => {
        raw = yolos.map((l) => {
          const [c, h, w] = l.out;
          const data = chwToHwc(readF32(`darknet/${model}/yolo${l.index}_in_${img}.f32`), c, h, w);
          return tf.tensor4d(data, [1, h, w, c]);
        });
      });
      afterAll(() => tf.dispose(raw));

      test('do_nms_sort (IoU NMS 0.45)', () => {
        const dets = postprocessOutputs(spec, raw, { imageSize, nms: { kind: 'iou' } })[0];
        matchDetections(dets, expected.expected_from_saved_tensors.detections, { boxTol: 0.5, scoreTol: 1e-3 });
      });

      test(`cfg NMS (${spec.nms.kind}${spec.nms.beta ? ` beta ${spec.nms.beta}` : ''})`, () => {
        const dets = postprocessOutputs(spec, raw, { imageSize })[0];
        matchDetections(dets, expected.expected_from_saved_tensors_cfg_nms.detections, {
          boxTol: 0.5,
          scoreTol: 1e-3,
        });
      });
    });
  }
});
