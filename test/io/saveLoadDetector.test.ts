import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { loadDetectorFromDir, isDetectorFolder } from '../../src/io/loadDetectorFromDir';
import { saveDetector } from '../../src/io/saveDetector';
import { loadDetectorFromUrl } from '../../src/io/loadDetectorFromUrl';
import { Detector } from '../../src/detector';
import { ModelSpec } from '../../src/spec';
import { Mish } from '../../src/layers';
import { maxAbsDiff } from '../helpers/fixtures';

function smallSpec(): ModelSpec {
  return {
    name: 'tiny-test',
    input: { size: [32, 32], resize: 'stretch', channelOrder: 'RGB', scale: 1 / 255 },
    classNames: ['a', 'b'],
    heads: [
      { kind: 'darknet', output: 0, anchors: [[10, 14], [23, 27]], scaleXY: 1, newCoords: false },
      { kind: 'darknet', output: 1, anchors: [[37, 58], [81, 82]], scaleXY: 1.05, newCoords: false },
    ],
    multiLabel: true,
    scoreThreshold: 0.25,
    nms: { kind: 'diou', perClass: true, iouThreshold: 0.45, beta: 0.6 },
    maxDetections: 0,
  };
}

/** Two-output model with BN, a depthwise conv, a custom layer (Mish), padding and concat. */
function smallModel(): tf.LayersModel {
  const x = tf.input({ shape: [32, 32, 3] });
  let y = tf.layers.zeroPadding2d({ padding: 1 }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false, name: 'c1' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-5, name: 'bn1' }).apply(y) as tf.SymbolicTensor;
  y = new Mish({ name: 'mish1' }).apply(y) as tf.SymbolicTensor;
  // a depthwise regulariser triggers a tfjs 4.22 getConfig bug that saveDetector must repair
  const d = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw', depthwiseRegularizer: tf.regularizers.l2({ l2: 5e-4 }) })
    .apply(y) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([y, d]) as tf.SymbolicTensor;
  const o1 = tf.layers.conv2d({ filters: 14, kernelSize: 1, name: 'head1' }).apply(cat) as tf.SymbolicTensor;
  const p = tf.layers.maxPooling2d({ poolSize: 2 }).apply(cat) as tf.SymbolicTensor;
  const o2 = tf.layers.conv2d({ filters: 14, kernelSize: 1, name: 'head2' }).apply(p) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: [o1, o2] });
}

describe('saveDetector / loadDetectorFromDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-io-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a saved detector loads back with identical weights, spec and predict outputs', async () => {
    const before = tf.memory().numTensors;
    const model = smallModel();
    // non-trivial BN statistics so they must survive the round trip
    const bn = model.getLayer('bn1');
    const stats = bn.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -1, i === 3 ? 2 : 1, 'float32', 7 + i));
    bn.setWeights(stats);
    tf.dispose(stats);
    const det = new Detector(model, smallSpec());
    const out = path.join(dir, 'model');
    await saveDetector(det, out);
    expect(fs.readdirSync(out).sort()).toEqual(['model.json', 'spec.json', 'weights.bin']);
    expect(isDetectorFolder(out)).toBe(true);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);

    const back = await loadDetectorFromDir(out);
    expect(back.spec).toEqual(det.spec);
    expect(back.model.outputs.length).toBe(2);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 42);
    const a = det.predict(x);
    const b = back.predict(x);
    for (let i = 0; i < 2; i++) {
      expect(b[i].shape).toEqual(a[i].shape);
      expect(maxAbsDiff(a[i].dataSync(), b[i].dataSync())).toBe(0);
    }
    const wa = det.model.getWeights();
    const wb = back.model.getWeights();
    expect(wb.length).toBe(wa.length);
    for (let i = 0; i < wa.length; i++) expect(maxAbsDiff(wa[i].dataSync(), wb[i].dataSync())).toBe(0);
    tf.dispose([x, ...a, ...b]); // getWeights() returns the variables' own tensors: not disposed here
    det.dispose();
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('missing or damaged files give errors naming them', async () => {
    const det = new Detector(smallModel(), smallSpec());
    await saveDetector(det, dir);
    det.dispose();
    const weights = path.join(dir, 'weights.bin');
    fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 100));
    await expect(loadDetectorFromDir(dir)).rejects.toThrow(/have 100 bytes, model.json expects \d+/);
    fs.rmSync(weights);
    await expect(loadDetectorFromDir(dir)).rejects.toThrow(/weights\.bin .*is missing/);
    fs.writeFileSync(path.join(dir, 'spec.json'), '{"name": "x"}');
    await expect(loadDetectorFromDir(dir)).rejects.toThrow(/spec is missing input.size, classNames, heads, nms/);
    fs.rmSync(path.join(dir, 'spec.json'));
    await expect(loadDetectorFromDir(dir)).rejects.toThrow(/spec\.json is missing/);
    await expect(loadDetectorFromDir(path.join(dir, 'nope'))).rejects.toThrow(/model\.json is missing/);
    expect(isDetectorFolder(path.join(dir, 'nope'))).toBe(false);
  });
});

describe('loadDetectorFromUrl', () => {
  test('loads a saved folder served over HTTP (model.json, weights.bin, spec.json)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-url-'));
    const det = new Detector(smallModel(), smallSpec());
    await saveDetector(det, dir);
    const server = http.createServer((req, res) => {
      const f = path.join(dir, path.basename(req.url ?? ''));
      if (!req.url?.startsWith('/models/') || !fs.existsSync(f)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(fs.readFileSync(f));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const back = await loadDetectorFromUrl(`${base}/models/`);
      expect(back.spec).toEqual(det.spec);
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5);
      const a = det.predict(x);
      const b = back.predict(x);
      for (let i = 0; i < 2; i++) expect(maxAbsDiff(a[i].dataSync(), b[i].dataSync())).toBe(0);
      tf.dispose([x, ...a, ...b]);
      back.dispose();
      await expect(loadDetectorFromUrl(`${base}/nothing/model.json`)).rejects.toThrow(
        `could not fetch ${base}/nothing/spec.json: HTTP 404`,
      );
    } finally {
      server.close();
      det.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
