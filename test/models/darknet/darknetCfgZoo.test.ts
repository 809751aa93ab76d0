/**
 * Darknet's own yolov3 / yolov4 / yolov4-csp / yolov4-p5 cfgs (test/weights/cfg, from
 * AlexeyAB/darknet): parse, build, output shapes and parameter counts.
 *
 * Parameter count compared: Darknet's own count of what a .weights file stores, summed over
 * [convolutional] layers: n*(batch_normalize ? 4 : 1) + n*(c/groups)*k*k (biases or BN
 * beta/gamma/mean/variance + kernel). The tfjs model must hold exactly that many parameters
 * (conv kernels, conv biases where there is no BN, BN gamma/beta/movingMean/movingVariance).
 * For yolov3 and yolov4 the count is also checked against the size of the released COCO
 * weights files (248,007,048 and 257,717,640 bytes = 20-byte header + 4 bytes per float).
 *
 * Models are built at a small input (parameter counts do not depend on it) and without
 * weights (the byte-exact weights path is covered by the parity and reader tests).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { darknetWeightsFloatCount, darknetConvWeightsLayout } from '../../../src/weights/readDarknetWeights';
import { buildDarknetModel } from '../../../src/models/darknet/darknetCfg';
import { darknetModelSpec } from '../../../src/models/darknet/darknetSpec';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';

const CFG_DIR = path.join(__dirname, '..', '..', 'weights', 'cfg');

interface ZooCase {
  name: string;
  layers: number;
  convs: number;
  floats: number;
  /** Size of the released .weights file, when known. */
  releasedBytes?: number;
  /** Head output shapes at 128x128, in cfg order. */
  heads: number[][];
  letterbox: boolean;
  nms: { kind: string; beta?: number };
  newCoords: boolean;
}

const CASES: ZooCase[] = [
  {
    name: 'yolov3', layers: 107, convs: 75, floats: 62001757, releasedBytes: 248007048,
    heads: [[4, 4, 255], [8, 8, 255], [16, 16, 255]], letterbox: false, nms: { kind: 'iou' }, newCoords: false,
  },
  {
    name: 'yolov4', layers: 162, convs: 110, floats: 64429405, releasedBytes: 257717640,
    heads: [[16, 16, 255], [8, 8, 255], [4, 4, 255]], letterbox: false, nms: { kind: 'diou', beta: 0.6 }, newCoords: false,
  },
  {
    name: 'yolov4-csp', layers: 175, convs: 115, floats: 52986205,
    heads: [[16, 16, 255], [8, 8, 255], [4, 4, 255]], letterbox: true, nms: { kind: 'diou', beta: 0.6 }, newCoords: true,
  },
  {
    name: 'yolov4-p5', layers: 244, convs: 163, floats: 70917468,
    heads: [[16, 16, 340], [8, 8, 340], [4, 4, 340]], letterbox: true, nms: { kind: 'diou', beta: 0.6 }, newCoords: true,
  },
];

describe('Darknet cfg zoo: parse, float counts, spec', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const cfg = parseDarknetCfg(fs.readFileSync(path.join(CFG_DIR, `${c.name}.cfg`), 'utf8'));
      expect(cfg.layers.length).toBe(c.layers);
      expect(darknetConvWeightsLayout(cfg).length).toBe(c.convs);
      const floats = darknetWeightsFloatCount(cfg);
      expect(floats).toBe(c.floats);
      if (c.releasedBytes) expect(20 + 4 * floats).toBe(c.releasedBytes);
      const spec = darknetModelSpec(cfg, { inputSize: 128 });
      expect(spec.heads.length).toBe(3);
      expect(spec.input.resize).toBe(c.letterbox ? 'letterbox' : 'stretch');
      expect(spec.nms).toMatchObject(c.nms);
      expect(spec.heads.every((h) => h.kind === 'darknet' && h.newCoords === c.newCoords)).toBe(true);
    });
  }
});

describe('Darknet cfg zoo: built tfjs models (128x128)', () => {
  for (const c of CASES) {
    test(`${c.name}: output shapes and parameter count`, () => {
      const cfg = parseDarknetCfg(fs.readFileSync(path.join(CFG_DIR, `${c.name}.cfg`), 'utf8'));
      const model = buildDarknetModel(cfg, { inputSize: 128, kernelInitializer: 'zeros' });
      try {
        expect(model.outputs.map((o) => o.shape.slice(1))).toEqual(c.heads);
        expect(model.countParams()).toBe(c.floats);
      } finally {
        disposeLayersModel(model);
      }
    });
  }
});
