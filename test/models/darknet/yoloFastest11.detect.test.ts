/**
 * End to end from the JPEG: `detect('dog.jpg')` with the REAL Yolo-Fastest 1.1 COCO weights finds
 * what `darknet detector test` printed. Darknet's CLI resizes with its own 2-pass bilinear and
 * decodes JPEGs with stb_image, we use a half-pixel bilinear and libjpeg-turbo, so scores move a
 * little: same classes, IoU > 0.9 and score within 0.05 for every CLI detection, and nothing of
 * ours above 0.35 that the CLI did not report. The same holds for the embedded copy
 * (`load()` with no name, 16-bit kernels).
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { loadEmbeddedModel } from '../../../src/registry/embeddedModel';
import { Detector } from '../../../src/detector';
import { boxIou } from '../../../src/nms/nms';
import { describeFixtures, fixturePath, readJson } from '../../helpers/fixtures';

const LOADERS: [string, () => Detector][] = [
  ['the float32 weights', () => loadDarknet(
    fs.readFileSync(fixturePath('darknet/weights/yolo-fastest-1.1.cfg'), 'utf8'),
    fs.readFileSync(fixturePath('darknet/weights/yolo-fastest-1.1.weights')),
  )],
  ['the embedded copy', () => loadEmbeddedModel()],
];

describeFixtures('darknet/weights/yolo-fastest-1.1.weights', 'yolo-fastest-1.1 detect(dog.jpg) vs darknet detector test', () => {
  test.each(LOADERS)('same objects as the Darknet CLI: %s', async (_name, make) => {
    const det = make();
    try {
      const ours = await det.detect(fixturePath('images/dog.jpg'));
      const before = tf.memory().numTensors; // after the first call, which compiles the fused graph
      const cli = readJson('darknet/yolo-fastest-1.1/detections_yolo-fastest-1.1_dog.json').darknet_detector_test
        .harness_replay_full_precision.detections as { class_id: number; score: number; x1: number; y1: number; x2: number; y2: number }[];
      expect(cli.length).toBe(8);
      for (const r of cli) {
        const best = ours
          .filter((d) => d.classId === r.class_id)
          .map((d) => ({ d, iou: boxIou([...d.box, r.x1, r.y1, r.x2, r.y2], 0, 1) }))
          .sort((a, b) => b.iou - a.iou)[0];
        expect(best).toBeDefined();
        expect(best.iou).toBeGreaterThan(0.9);
        expect(Math.abs(best.d.score - r.score)).toBeLessThan(0.05);
      }
      for (const d of ours.filter((x) => x.score > 0.35)) {
        expect(cli.some((r) => r.class_id === d.classId && boxIou([...d.box, r.x1, r.y1, r.x2, r.y2], 0, 1) > 0.9)).toBe(true);
      }
      expect(ours.find((d) => d.label === 'dog')).toBeDefined();
      // repeated calls hold no tensors
      for (let i = 0; i < 3; i++) await det.detect(fixturePath('images/dog.jpg'));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      det.dispose();
    }
  });
});
