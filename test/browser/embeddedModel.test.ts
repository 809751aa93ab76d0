/**
 * The embedded model in a real browser: the esbuild browser bundle of the public API runs
 * `load()` with no name in headless Chromium and finds in examples/images/dog.jpg (served as
 * raw RGBA pixels) the same objects as Node on the same pixels (classes, boxes within 1e-3 px,
 * scores within 1e-4); the page requests nothing but the page, the bundle and the pixels (no
 * model file, no tfjs-backend-wasm file). Skips with a message when /usr/bin/chromium or
 * playwright-core is absent.
 */
import * as path from 'path';
import type { Detection } from '../../src/detection';
import { loadEmbeddedModel } from '../../src/registry/embeddedModel';
import type { EmbeddedReport } from './embeddedEntry';
import { bundleForBrowser, describeBrowser, PageRun, runInChromium, serve } from './browserHarness';

const DOG = path.resolve(__dirname, '..', '..', 'examples', 'images', 'dog.jpg');

describeBrowser('load() with no name in headless Chromium: the embedded model', () => {
  let page: PageRun<EmbeddedReport>;
  let requests: string[];
  let node: Detection[];

  beforeAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const sharp = require('sharp');
    const { data, info } = await sharp(DOG).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const html = '<!doctype html><meta charset="utf-8"><title>embedded model</title><script src="/bundle.js"></script>';
    const server = await serve({
      '/': { body: html, type: 'text/html; charset=utf-8' },
      '/bundle.js': { body: bundleForBrowser(path.join(__dirname, 'embeddedEntry.ts')), type: 'text/javascript; charset=utf-8' },
      '/dog.rgba': { body: data, type: 'application/octet-stream' },
    });
    try {
      const r = await runInChromium<EmbeddedReport>(server.url, [{ path: '/', fn: '__yoloEmbedded', arg: { width: info.width, height: info.height } }], 240000);
      page = r.pages[0];
      requests = server.requests;
    } finally {
      await server.close();
    }
    const det = loadEmbeddedModel();
    try {
      node = await det.detect({ data: new Uint8ClampedArray(data), width: info.width, height: info.height });
    } finally {
      det.dispose();
    }
  }, 600000);

  it('loads with nothing fetched but the page, the bundle and the pixels', () => {
    expect(page.result.error).toBeUndefined();
    expect(page.pageErrors).toEqual([]);
    expect(page.result.name).toBe('yolo-fastest-1.1');
    expect(page.result.classes).toBe(80);
    expect(requests.filter((r) => !r.startsWith('/favicon.ico'))).toEqual(['/ 200', '/bundle.js 200', '/dog.rgba 200']);
  });

  it('finds the same objects as Node on the same pixels; the classes option works there too', () => {
    const b = page.result.detections!;
    // eslint-disable-next-line no-console
    console.log(`[browser embedded] ${b.length} detections (${b.map((d) => d.label).join(', ')}), engine ${JSON.stringify(page.result.info)}`);
    expect(b.map((d) => d.label)).toEqual(expect.arrayContaining(['dog', 'bicycle', 'car']));
    expect(b.length).toBe(node.length);
    b.forEach((d, i) => {
      expect(d.classId).toBe(node[i].classId);
      expect(Math.abs(d.score - node[i].score)).toBeLessThan(1e-4);
      d.box.forEach((v, k) => expect(Math.abs(v - node[i].box[k])).toBeLessThan(1e-3));
    });
    expect(page.result.dogsOnly!.map((d) => d.label)).toEqual(b.filter((d) => d.label === 'dog').map((d) => d.label));
  });
});
