/**
 * `load(name)` from a base URL of converted model folders (what browsers do; Node with the
 * `modelBaseUrl` option): the folder `<base>/<name>/` is loaded and predicts exactly as the
 * saved detector; a missing folder (404) and an unreachable server are errors naming the URL;
 * unknown names are refused before any request. The same code in a real browser page runs in
 * test/browser/demo.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { load } from '../../src/registry/load';
import { loadFromModelBaseUrl, modelBaseUrl, registryModelUrl, setModelBaseUrl } from '../../src/registry/loadFromModelBaseUrl';
import { saveDetector } from '../../src/io/saveDetector';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { Detector } from '../../src/detector';
import { randomizeWeights } from '../infer/randomWeights';
import { Route, serve, TestServer } from '../browser/browserHarness';

describe('load(name) from a base URL of converted model folders', () => {
  let dir: string;
  let det: Detector;
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-baseurl-'));
    det = yoloFastestV2({ numClasses: 80, inputSize: 64 });
    randomizeWeights(det.model, 5);
    await saveDetector(det, dir);
    const routes: Record<string, Route> = {};
    for (const f of fs.readdirSync(dir)) {
      routes[`/models/yolo-fastestv2-coco/${f}`] = { body: fs.readFileSync(path.join(dir, f)), type: 'application/octet-stream' };
    }
    server = await serve(routes);
    base = `${server.url}models/`;
  });
  afterAll(async () => {
    setModelBaseUrl(undefined);
    det.dispose();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a registry name loads <base>/<name>/ and predicts exactly as the saved detector', async () => {
    const back = await load('yolo-fastestv2-coco', { modelBaseUrl: base });
    try {
      expect(back.spec).toEqual(det.spec);
      const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3);
      const a = det.predict(x);
      const b = back.predict(x);
      a.forEach((t, i) => expect(tf.max(tf.abs(tf.sub(t, b[i]))).dataSync()[0]).toBe(0));
      tf.dispose([x, ...a, ...b]);
    } finally {
      back.dispose();
    }
    expect(server.requests).toEqual(
      expect.arrayContaining(['/models/yolo-fastestv2-coco/spec.json 200', '/models/yolo-fastestv2-coco/model.json 200', '/models/yolo-fastestv2-coco/weights.bin 200']),
    );
  });

  test('setModelBaseUrl sets the default; a URL or path is loaded as a folder directly', async () => {
    setModelBaseUrl(base.slice(0, -1)); // without the trailing slash
    expect(modelBaseUrl()).toBe(base);
    expect(registryModelUrl('yolov4-tiny')).toBe(`${base}yolov4-tiny/`);
    const a = await loadFromModelBaseUrl('yolo-fastestv2-coco');
    a.dispose();
    const b = await loadFromModelBaseUrl(`${base}yolo-fastestv2-coco/model.json`);
    b.dispose();
    setModelBaseUrl(undefined);
    expect(modelBaseUrl()).toBe('models/');
    expect(() => setModelBaseUrl('  ')).toThrow(/expects a URL string/);
  });

  test('a missing folder is an error naming its URL, the HTTP status and what to serve there', async () => {
    await expect(load('yolov4-tiny', { modelBaseUrl: base })).rejects.toThrow(
      new RegExp(`could not load model 'yolov4-tiny' from ${base}yolov4-tiny/: could not fetch ${base}yolov4-tiny/spec.json: HTTP 404.*yolo-tfjs convert`),
    );
  });

  test('an unreachable server is an error naming the URL', async () => {
    // A port that was just free: nothing listens there.
    const closed = await serve({});
    const dead = `${closed.url}models/`;
    await closed.close();
    await expect(load('yolov4-tiny', { modelBaseUrl: dead })).rejects.toThrow(`could not load model 'yolov4-tiny' from ${dead}yolov4-tiny/:`);
  });

  test('an unknown name is refused before any request, listing the known names', async () => {
    const n = server.requests.length;
    await expect(load('no-such-model', { modelBaseUrl: base })).rejects.toThrow(/unknown model 'no-such-model'; known models: yolo-fastestv2-coco/);
    expect(server.requests.length).toBe(n);
  });
});
