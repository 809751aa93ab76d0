import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { load } from '../../src/registry/load';
import { REGISTRY, registryNames, getRegistryEntry } from '../../src/registry/registry';
import { convertedModelDir, ensureRawFiles, modelCacheDir, sha256Hex } from '../../src/registry/cache';
import { chwToHwc, describeFixtures, fixturePath, maxAbsDiff, readF32 } from '../helpers/fixtures';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const seed = require('../../scripts/seed-cache.js') as {
  SEEDS: { model: string; filename: string; fixture: string; sha256: string }[];
  seedCache(cacheDir: string, fixturesDir: string): string[];
};

const tmpDirs: string[] = [];
function tempCache(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-cache-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fetch that must never be called (the test fails if it is). */
const noNetwork = async (url: string): Promise<Response> => {
  throw new Error(`network is off (tried ${url})`);
};

describe('registry table', () => {
  test('names, converters and files are consistent', () => {
    expect(registryNames()).toEqual([
      'yolo-fastestv2-coco', 'yolo-fastest-1.1', 'yolo-fastest-1.1-xl', 'yolov3-tiny', 'yolov4-tiny',
      'efficientdet-d0', 'efficientdet-d1', 'efficientdet-d2', 'efficientdet-d3', 'efficientdet-d4',
      'efficientdet-d5', 'efficientdet-d6', 'efficientdet-d7', 'yolov4-p5', 'yolov4-p6', 'yolov4-p7', 'yolov4-csp',
    ]);
    for (const name of registryNames()) {
      const e = REGISTRY[name];
      const files = e.files.map((f) => f.filename);
      const c = e.converter;
      const needed = c.kind === 'darknet' ? [c.cfg, c.weights] : [c.weights, ...(c.cfg ? [c.cfg] : [])];
      for (const f of needed) expect([name, files]).toEqual([name, expect.arrayContaining([f])]);
      for (const f of e.files) expect(f.url).toMatch(/^https:\/\//);
      expect(e.classNames.length).toBe(c.kind === 'pytorch' && c.arch.startsWith('efficientdet') ? 90 : 80);
    }
    expect(REGISTRY['efficientdet-d0'].files[0].url).toBe(
      'https://github.com/zylo117/Yet-Another-Efficient-Pytorch/releases/download/1.0/efficientdet-d0.pth',
    );
    expect(REGISTRY['efficientdet-d7'].files[0].url).toMatch(/releases\/download\/1\.2\/efficientdet-d7\.pth$/);
  });

  test('scripts/seed-cache.js agrees with the registry (file names and sha256)', () => {
    for (const s of seed.SEEDS) {
      const f = REGISTRY[s.model].files.find((x) => x.filename === s.filename);
      expect(f).toBeDefined();
      expect(f!.sha256).toBe(s.sha256);
    }
  });

  test('a file served only to browsers (Google Drive) is never downloaded: the error says where to put it', async () => {
    const cacheDir = tempCache();
    await expect(load('yolov4-p5', { cacheDir, fetch: noNetwork, progress: false })).rejects.toThrow(
      /model 'yolov4-p5': yolov4-p5\.pt is not in the cache and must be downloaded by hand; put yolov4-p5\.pt at .*yolov4-p5.*drive\.google\.com/,
    );
  });

  test('an unknown name lists the known ones', async () => {
    await expect(load('yolov99', { cacheDir: tempCache(), offline: true })).rejects.toThrow(
      /unknown model 'yolov99'; known models: yolo-fastestv2-coco, yolo-fastest-1.1, .*efficientdet-d7/,
    );
    expect(() => getRegistryEntry('toString')).toThrow(/unknown model 'toString'/);
    await expect(load('toString', { cacheDir: tempCache(), offline: true })).rejects.toThrow(/unknown model/);
  });
});

describe('cache and downloads (no network)', () => {
  test('offline: the error names the file, its URL, and where to put it', async () => {
    const cache = tempCache();
    const where = path.join(cache, 'yolo-fastest-1.1', 'yolo-fastest-1.1.cfg');
    const url = REGISTRY['yolo-fastest-1.1'].files[0].url;
    await expect(load('yolo-fastest-1.1', { cacheDir: cache, offline: true })).rejects.toThrow(
      `put yolo-fastest-1.1.cfg at ${where} (its upstream URL: ${url})`,
    );
  });

  test('a failing download says which URL failed and which file to put where', async () => {
    const cache = tempCache();
    const url = REGISTRY['yolo-fastestv2-coco'].files[0].url;
    const where = path.join(cache, 'yolo-fastestv2-coco', 'coco2017-0.241078ap-model.pth');
    const p = load('yolo-fastestv2-coco', { cacheDir: cache, fetch: noNetwork, progress: false });
    await expect(p).rejects.toThrow(`could not download ${url} (network is off (tried ${url}))`);
    await expect(load('yolo-fastestv2-coco', { cacheDir: cache, fetch: noNetwork, progress: false })).rejects.toThrow(
      `put coco2017-0.241078ap-model.pth at ${where} (its upstream URL: ${url})`,
    );
    const http404 = async (): Promise<Response> => new Response('not found', { status: 404, statusText: 'Not Found' });
    await expect(load('yolo-fastestv2-coco', { cacheDir: cache, fetch: http404, progress: false })).rejects.toThrow(
      `could not download ${url} (HTTP 404 Not Found)`,
    );
  });

  test('downloaded bytes are checked: wrong content is refused and not cached', async () => {
    const cache = tempCache();
    const entry = REGISTRY['yolo-fastest-1.1'];
    const wrong = async (): Promise<Response> => new Response(new Uint8Array(entry.files[0].size!));
    await expect(ensureRawFiles(entry, { cacheDir: cache, fetch: wrong, progress: false })).rejects.toThrow(
      /download of .*yolo-fastest-1\.1\.cfg is wrong \(sha256 [0-9a-f]{64}, expected f6df5775/,
    );
    expect(fs.existsSync(path.join(modelCacheDir('yolo-fastest-1.1', { cacheDir: cache }), 'yolo-fastest-1.1.cfg'))).toBe(false);
  });
});

describeFixtures('darknet', 'load(registry name) from a seeded cache', () => {
  test('yolo-fastest-1.1: download (served from fixtures) -> convert once -> cached folder; matches Darknet', async () => {
    const cache = tempCache();
    const entry = REGISTRY['yolo-fastest-1.1'];
    // a fetch serving the fixture bytes, counting calls
    const calls: string[] = [];
    const fromFixtures = async (url: string): Promise<Response> => {
      calls.push(url);
      const f = entry.files.find((x) => x.url === url)!;
      return new Response(new Uint8Array(fs.readFileSync(fixturePath('darknet', 'weights', f.filename))));
    };
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let first;
    let logged = '';
    try {
      first = await load('yolo-fastest-1.1', { cacheDir: cache, fetch: fromFixtures });
    } finally {
      logged = stderr.mock.calls.map((c) => String(c[0])).join('');
      stderr.mockRestore();
    }
    expect(calls).toEqual(entry.files.map((f) => f.url));
    expect(logged).toContain(`downloading ${entry.files[1].url}`);
    expect(logged).toContain('yolo-fastest-1.1.weights: 100% (1.4 / 1.4 MB)');
    const modelDir = convertedModelDir('yolo-fastest-1.1', { cacheDir: cache });
    expect(fs.readdirSync(modelDir).sort()).toEqual(['model.json', 'spec.json', 'weights.bin']);
    for (const f of entry.files) expect(sha256Hex(fs.readFileSync(path.join(cache, 'yolo-fastest-1.1', f.filename)))).toBe(f.sha256);
    const mtime = fs.statSync(path.join(modelDir, 'weights.bin')).mtimeMs;

    // second load: no network, raw files removed -> must come from the converted folder
    for (const f of entry.files) fs.rmSync(path.join(cache, 'yolo-fastest-1.1', f.filename));
    const second = await load('yolo-fastest-1.1', { cacheDir: cache, fetch: noNetwork, offline: true });
    expect(fs.statSync(path.join(modelDir, 'weights.bin')).mtimeMs).toBe(mtime);
    expect(second.spec).toEqual(first.spec);

    // both give Darknet's head logits on dog.jpg (layer 121: 10x10, layer 130: 20x20)
    const x = tf.tensor4d(readF32('darknet', 'yolo-fastest-1.1', 'input_dog_hwc.f32'), [1, 320, 320, 3]);
    const a = first.predict(x);
    const b = second.predict(x);
    const ref121 = chwToHwc(readF32('darknet', 'yolo-fastest-1.1', 'yolo121_in_dog.f32'), 255, 10, 10);
    const ref130 = chwToHwc(readF32('darknet', 'yolo-fastest-1.1', 'yolo130_in_dog.f32'), 255, 20, 20);
    const err = [maxAbsDiff(b[0].dataSync(), ref121), maxAbsDiff(b[1].dataSync(), ref130)];
    // eslint-disable-next-line no-console
    console.log(`yolo-fastest-1.1 via registry cache vs Darknet: max abs err ${err.map((e) => e.toExponential(2)).join(', ')}`);
    expect(Math.max(...err)).toBeLessThan(1e-3);
    expect(maxAbsDiff(a[0].dataSync(), b[0].dataSync())).toBe(0);
    expect(maxAbsDiff(a[1].dataSync(), b[1].dataSync())).toBe(0);
    tf.dispose([x, ...a, ...b]);
    first.dispose();
    second.dispose();
  });

  test('a damaged cached file is reported offline', async () => {
    const cache = tempCache();
    seed.seedCache(cache, fixturePath());
    const cfg = path.join(cache, 'yolo-fastest-1.1-xl', 'yolo-fastest-1.1-xl.cfg');
    fs.writeFileSync(cfg, '[net]\n');
    await expect(load('yolo-fastest-1.1-xl', { cacheDir: cache, offline: true })).rejects.toThrow(
      `cached file ${cfg} is damaged (size 6 bytes, expected 9696)`,
    );
  });
});

describeFixtures('yolo-fastestv2', 'load(yolo-fastestv2-coco) from a cache seeded by scripts/seed-cache.js', () => {
  test('converts the real .pth once; the cached folder gives upstream head outputs on 000139', async () => {
    const cache = tempCache();
    const lines = seed.seedCache(cache, fixturePath());
    expect(lines.filter((l) => l.startsWith('copied')).length).toBe(seed.SEEDS.length);
    const det = await load('yolo-fastestv2-coco', { cacheDir: cache, offline: true, progress: false });
    const modelJson = path.join(convertedModelDir('yolo-fastestv2-coco', { cacheDir: cache }), 'model.json');
    const mtime = fs.statSync(modelJson).mtimeMs;
    fs.rmSync(path.join(cache, 'yolo-fastestv2-coco', 'coco2017-0.241078ap-model.pth'));
    const again = await load('yolo-fastestv2-coco', { cacheDir: cache, offline: true, progress: false });
    expect(fs.statSync(modelJson).mtimeMs).toBe(mtime);
    expect(again.spec).toEqual(det.spec);

    const x = tf.tensor4d(readF32('yolo-fastestv2', 'tensors', '000139_input_nhwc.bin'), [1, 352, 352, 3]);
    const a = det.predict(x);
    const b = again.predict(x);
    const errs: number[] = [];
    for (const [i, g] of [[0, 22], [1, 11]] as const) {
      // upstream heads are NCHW reg (12) / obj (3) / cls (80): our output is NHWC in that channel order
      const parts = (['reg', 'obj', 'cls'] as const).map((h) => readF32('yolo-fastestv2', 'tensors', `000139_head_${h}_${g}.bin`));
      const c = [12, 3, 80];
      const ref = new Float32Array(g * g * 95);
      for (let p = 0; p < g * g; p++) {
        let o = 0;
        for (let k = 0; k < 3; k++) for (let ch = 0; ch < c[k]; ch++) ref[p * 95 + o++] = parts[k][ch * g * g + p];
      }
      errs.push(maxAbsDiff(b[i].dataSync(), ref));
      expect(maxAbsDiff(a[i].dataSync(), b[i].dataSync())).toBe(0);
    }
    // eslint-disable-next-line no-console
    console.log(`yolo-fastestv2-coco via registry cache vs upstream heads: max abs err ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    expect(Math.max(...errs)).toBeLessThan(1e-3);
    tf.dispose([x, ...a, ...b]);
    det.dispose();
    again.dispose();
  });
});
