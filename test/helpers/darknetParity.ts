/**
 * Shared Darknet parity scaffolding for the hand-built Darknet models (tiny YOLOv3, YOLOv4-tiny):
 * loads the fixture random weights through the library's cfg parser / weights reader, compares
 * the raw head outputs with Darknet's saved `yolo<i>_in` tensors, matches the postprocessed
 * detections with Darknet's as a set, and checks tensor memory stays flat.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import { describeFixtures, fixturePath, readF32, readJson, chwToHwc, maxAbsDiff } from './fixtures';
import { matchDetections, RefDetection } from './matchDetections';
import { readDarknetWeights } from '../../src/weights/readDarknetWeights';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { setDarknetWeights } from '../../src/models/darknet/darknetCfg';
import { Detection } from '../../src/detection';

/** The part of a built detector the parity tests use. */
export interface ParityDetector {
  model: tf.LayersModel;
  predict(input: tf.Tensor4D): tf.Tensor[];
  postprocess(raw: tf.Tensor[], opts: { imageSize: [number, number] }): Detection[];
  dispose(): void;
}

export interface DarknetParityOptions<D extends ParityDetector> {
  /** fixture folder under darknet/ and base name of the cfg / weights, e.g. 'yolov3-tiny' */
  name: string;
  /** test-suite title */
  title: string;
  /** builds the model under test (416x416, 80 classes) */
  build: () => D;
  /** saved head inputs in output order: [file, grid size] */
  heads: [string, number][];
  /** how the NMS is described in the detections test title */
  nmsLabel: string;
}

/** Declares the Darknet parity suite (skipped with a message when fixtures are absent). */
export function describeDarknetParity<D extends ParityDetector>(o: DarknetParityOptions<D>): void {
  describeFixtures(`darknet/${o.name}`, o.title, () => {
    let det: D;
    let input: tf.Tensor4D;
    beforeAll(() => {
      det = o.build();
      // the library's reader + assignment by cfg conv index (layer names conv_<i>_conv / _bn)
      const cfg = parseDarknetCfg(fs.readFileSync(fixturePath('darknet', 'weights', `${o.name}.cfg`), 'utf8'));
      setDarknetWeights(det.model, cfg, readDarknetWeights(fs.readFileSync(fixturePath('darknet', 'weights', `${o.name}_random_seed1234.weights`)), cfg).tensors);
      input = tf.tensor4d(readF32('darknet', o.name, 'input_dog_hwc.f32'), [1, 416, 416, 3]);
    });
    afterAll(() => {
      input.dispose();
      det.dispose();
    });

    const headNames = o.heads.map(([file]) => file.replace(/_dog\.f32$/, '')).join(' / ');
    it(`raw head outputs match ${headNames} to 1e-3`, () => {
      const out = det.predict(input);
      o.heads.forEach(([file, g], i) => {
        expect(out[i].shape).toEqual([1, g, g, 255]);
        const ref = chwToHwc(readF32('darknet', o.name, file), 255, g, g);
        const err = maxAbsDiff(out[i].dataSync(), ref);
        // eslint-disable-next-line no-console
        console.log(`${o.name} ${file}: max abs err ${err.toExponential(3)}`);
        expect(err).toBeLessThan(1e-3);
      });
      tf.dispose(out);
    });

    it(`postprocess reproduces Darknet's detections (${o.nmsLabel}) as a set`, () => {
      const raw = det.predict(input);
      const dets = det.postprocess(raw, { imageSize: [576, 768] });
      tf.dispose(raw);
      const ref = readJson<{ expected_from_saved_tensors_cfg_nms: { count: number; detections: RefDetection[] } }>(
        'darknet', o.name, `detections_${o.name}_dog.json`,
      ).expected_from_saved_tensors_cfg_nms;
      // same count, every reference detection matched (class, box within 0.5 px, score within 1e-3)
      const m = matchDetections(dets, ref.detections, { boxTol: 0.5, scoreTol: 1e-3 });
      // eslint-disable-next-line no-console
      console.log(`${o.name} dog: ${dets.length}/${ref.count} detections matched, worst box ${m.maxBoxErr.toExponential(2)} px, worst score ${m.maxScoreErr.toExponential(2)}`);
      expect(dets.length).toBe(ref.count);
    });

    it('keeps tf.memory().numTensors flat across predict calls', () => {
      tf.dispose(det.predict(input));
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(det.predict(input));
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
