/**
 * The demo page (examples/browser/, `npm run demo`) in headless Chromium, driven as a user
 * would: served by examples/browser/server.js with the page bundled by examples/browser/build.js,
 * the model loaded by name from the server's models/ folder (a `yolo-tfjs convert` output),
 * a PNG opened with the file picker, the sliders and the class filter, the webcam (Chromium's
 * fake camera playing a Y4M clip of the same photo), the WebGL backend on Chromium's software
 * GL (SwiftShader), a missing model, and a page served without COOP/COEP.
 *
 * Compared with Node: the still image's detections (wasm kernels in the page = wasm kernels in
 * Node, boxes within 1e-3 px), and the WebGL path's raw head outputs (compiled tfjs ops on
 * WebGL vs Node's LayersModel, within 1e-3). Boxes are checked drawn by reading canvas pixels.
 * A screenshot of the page with detections is written to $YOLO_TFJS_SCREENSHOT_DIR (default
 * the OS temp folder) as yolo-tfjs-demo.png.
 *
 * Skips with a message when Chromium or playwright-core is absent, or when there is no model
 * to serve (neither the embedded model nor the Yolo-Fastest 1.1 fixtures).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import type { Detection } from '../../src/detection';
import { Detector } from '../../src/detector';
import { loadDetectorFromDir } from '../../src/io/loadDetectorFromDir';
import { loadImage, preprocessImage } from '../../src/preprocess/preprocess';
import { classColor } from '../../src/draw/drawDetections';
import { fixturePath, hasFixtures } from '../helpers/fixtures';
import { browserUnavailableReason, CHROMIUM_ARGS, CHROMIUM_PATH, loadPlaywright } from './browserHarness';
import { CHROMIUM_GL_ARGS, cssColorToRgb, writeY4m } from './demoHelpers';
import { maxDetectionError } from '../helpers/matchDetections';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { startDemoServer } = require('../../examples/browser/server.js') as {
  startDemoServer(o: { port: number; isolated?: boolean; modelsDirs?: string[]; bundle?: string }): Promise<{ url: string; close(): Promise<void> }>;
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { buildDemo } = require('../../examples/browser/build.js') as { buildDemo(): string };

const MODEL = 'yolo-fastest-1.1';
const FIXTURE_CFG = ['darknet', 'weights', `${MODEL}.cfg`];
const FIXTURE_WEIGHTS = ['darknet', 'weights', `${MODEL}.weights`];
const EMBEDDED_MODULE = path.join(__dirname, '..', '..', 'src', 'registry', 'embeddedModel.ts');
const PHOTO_FIXTURE = ['images', 'dog.jpg'];
const PHOTO_EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'images', 'dog.jpg');
const SCREENSHOT = path.join(process.env.YOLO_TFJS_SCREENSHOT_DIR || os.tmpdir(), 'yolo-tfjs-demo.png');
const OPTS = { scoreThreshold: 0.25, iouThreshold: 0.45 };
const WAIT = { timeout: 120000 }; // generous: the machine may be heavily loaded

function whyNot(): string | null {
  const browser = browserUnavailableReason();
  if (browser) return browser;
  if (!fs.existsSync(EMBEDDED_MODULE) && !hasFixtures(...FIXTURE_WEIGHTS)) {
    return `no model to serve: neither the embedded model nor ${fixturePath(...FIXTURE_WEIGHTS)}`;
  }
  if (!fs.existsSync(PHOTO_EXAMPLE) && !hasFixtures(...PHOTO_FIXTURE)) return `no dog.jpg in examples/images or the fixtures`;
  return null;
}

/** What the page exposes as `window.__demo.state` (the parts the test reads). */
interface PageState {
  status: string;
  error?: string;
  backend: string;
  engine?: string;
  threads?: number;
  isolated: boolean;
  source: string;
  frames: number;
  detections: Detection[];
  boxesDrawn: number;
  options: { scoreThreshold: number; iouThreshold: number; classes: string[] };
}


const why = whyNot();
const describeDemo = why ? describe.skip : describe;
if (why) {
  // eslint-disable-next-line no-console
  console.warn(`[browser] demo page: skipped, ${why}`);
  test.skip(`SKIPPED: ${why}`, () => undefined);
}

describeDemo('the demo page (examples/browser) in headless Chromium', () => {
  let tmp: string;
  let png: string;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let nodeDet: Detector;
  let nodeDets: Detection[];
  const pageErrors: string[] = [];
  let bundle: string;
  const embedded = fs.existsSync(EMBEDDED_MODULE);

  const state = (): Promise<PageState> => page.evaluate(() => (window as unknown as { __demo: { state: PageState } }).__demo.state);
  const waitState = async (cond: string, what: string): Promise<PageState> => {
    try {
      await page.waitForFunction(`(() => { const s = window.__demo && window.__demo.state; return !!s && (${cond}); })()`, null, WAIT);
    } catch {
      throw new Error(`the page never reached: ${what}; state ${JSON.stringify(await state().catch(() => null))}; page errors ${pageErrors.join('; ')}`);
    }
    return state();
  };
  /** Canvas pixel (RGBA) at (x, y) in image coordinates. */
  const pixel = (x: number, y: number): Promise<number[]> =>
    page.evaluate(
      ([px, py]) => Array.from((document.getElementById('view') as HTMLCanvasElement).getContext('2d')!.getImageData(px, py, 1, 1).data),
      [Math.round(x), Math.round(y)],
    );
  /** How many detections show their class colour on the canvas at the middle of their left edge. */
  const boxesSeen = async (dets: Detection[]): Promise<number> => {
    let n = 0;
    for (const d of dets) {
      const [x1, y1, , y2] = d.box;
      const p = await pixel(Math.max(0, x1), (y1 + y2) / 2);
      const c = cssColorToRgb(classColor(d.classId));
      if (c.every((v, i) => Math.abs(v - p[i]) <= 12)) n++;
    }
    return n;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-demo-'));
    const models = path.join(tmp, 'models');
    const modelDir = path.join(models, MODEL);
    if (embedded) {
      // The embedded model, saved as a folder: the page loads the same weights by name.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { loadEmbeddedModel } = require(EMBEDDED_MODULE) as { loadEmbeddedModel(): Detector };
      const det = loadEmbeddedModel();
      const { saveDetector } = await import('../../src/io/saveDetector');
      await saveDetector(det, modelDir);
      det.dispose();
    } else {
      // What a user does: `yolo-tfjs convert <cfg> <weights> <dir>`.
      const { run } = await import('../../src/cli/commands/convert');
      const log = console.log;
      console.log = () => undefined;
      try {
        expect(await run([fixturePath(...FIXTURE_CFG), fixturePath(...FIXTURE_WEIGHTS), modelDir])).toBe(0);
      } finally {
        console.log = log;
      }
    }
    // The photo as PNG (lossless: the browser and Node decode the same pixels) and as a
    // camera clip for Chromium's fake webcam.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const sharp = require('sharp') as (input: string) => import('sharp').Sharp;
    const photo = fs.existsSync(PHOTO_EXAMPLE) ? PHOTO_EXAMPLE : fixturePath(...PHOTO_FIXTURE);
    png = path.join(tmp, 'dog.png');
    await sharp(photo).png().toFile(png);
    const y4m = path.join(tmp, 'dog.y4m');
    const { data } = await sharp(photo).resize(640, 480, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    writeY4m(y4m, new Uint8Array(data), 640, 480);

    nodeDet = await loadDetectorFromDir(modelDir);
    nodeDets = await nodeDet.detect(png, OPTS);

    bundle = buildDemo();
    server = await startDemoServer({ port: 0, modelsDirs: [models], bundle });
    const pw = loadPlaywright()!;
    browser = await pw.chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        ...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'),
        ...CHROMIUM_GL_ARGS,
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`,
      ],
      timeout: 120000,
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
    page.setDefaultTimeout(120000);
    await page.goto(`${server.url}?model=${MODEL}`, { waitUntil: 'load' });
  }, 240000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    nodeDet?.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('loads the model by name from models/ and runs the multi-threaded wasm kernels (isolated page, no warning)', async () => {
    const s = await waitState(`s.status === 'ready' || s.status === 'error'`, 'the model loaded');
    expect(s.error).toBeUndefined();
    expect(s.isolated).toBe(true);
    expect(s.backend).toBe('wasm');
    expect(s.engine).toBe('wasm-kernels');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    if (cores > 1) expect(s.threads).toBeGreaterThan(1);
    expect(await page.isVisible('#banner')).toBe(false);
    expect(await page.textContent('#engine')).toBe('wasm-kernels on wasm');
  });

  it('a still image from the file picker: the same detections as Node, boxes drawn on the canvas', async () => {
    await page.setInputFiles('#file', png);
    const s = await waitState(`s.source === 'image' && s.frames >= 1`, 'the image detected');
    expect(nodeDets.length).toBeGreaterThan(0);
    expect(s.detections.map((d) => d.label)).toEqual(nodeDets.map((d) => d.label));
    expect(maxDetectionError(s.detections, nodeDets)).toBeLessThanOrEqual(1e-3);
    expect(s.boxesDrawn).toBe(nodeDets.length);
    expect(await boxesSeen(s.detections)).toBeGreaterThanOrEqual(Math.ceil(s.detections.length / 2));
    expect(await page.$$eval('#list li', (li) => li.length)).toBe(nodeDets.length);
    await page.screenshot({ path: SCREENSHOT });
  });

  it('the score slider and the class filter change what is detected and drawn', async () => {
    await page.fill('#classes', 'dog, bicycle');
    await page.dispatchEvent('#classes', 'change');
    let s = await waitState(`s.options.classes.join() === 'dog,bicycle'`, 'the class filter applied');
    const wanted = await nodeDet.detect(png, { ...OPTS, classes: ['dog', 'bicycle'] });
    expect(wanted.length).toBeGreaterThan(0);
    expect(new Set(wanted.map((d) => d.label))).toEqual(new Set(['dog', 'bicycle']));
    expect(maxDetectionError(s.detections, wanted)).toBeLessThanOrEqual(1e-3);
    expect(s.boxesDrawn).toBe(wanted.length);
    await page.fill('#classes', '');
    await page.dispatchEvent('#classes', 'change');
    await page.$eval('#score', (el) => {
      (el as HTMLInputElement).value = '0.6';
      el.dispatchEvent(new Event('input'));
    });
    s = await waitState(`s.options.scoreThreshold === 0.6 && s.options.classes.length === 0`, 'the score threshold applied');
    const high = await nodeDet.detect(png, { ...OPTS, scoreThreshold: 0.6 });
    expect(maxDetectionError(s.detections, high)).toBeLessThanOrEqual(1e-3);
    expect(high.length).toBeLessThan(nodeDets.length);
    await page.$eval('#score', (el) => {
      (el as HTMLInputElement).value = '0.25';
      el.dispatchEvent(new Event('input'));
    });
    await waitState(`s.options.scoreThreshold === 0.25`, 'the score threshold back at 0.25');
  });

  (embedded ? it : it.skip)('the model picker: the built-in model gives the same detections as the served folder', async () => {
    await page.selectOption('#model', '');
    const s = await waitState(`s.model === '' && s.status === 'ready' && s.source === 'image'`, 'the built-in model loaded');
    expect(maxDetectionError(s.detections, nodeDets)).toBeLessThanOrEqual(1e-3);
  });

  it('detectVideo on a canvas in the page: each frame = detect(canvas), stop() ends it, tensors flat', async () => {
    const r = await page.evaluate(async (opts) => {
      const demo = (window as unknown as { __demo: { detector: Detector; still: ImageBitmap; tf: typeof tf } }).__demo;
      const det = demo.detector;
      const c = document.createElement('canvas');
      c.width = demo.still.width;
      c.height = demo.still.height;
      c.getContext('2d')!.drawImage(demo.still, 0, 0);
      const ref = JSON.stringify(await det.detect(c, opts));
      const before = demo.tf.memory().numTensors;
      const frames: { same: boolean; frame: number }[] = [];
      const run = det.detectVideo(
        c,
        (dets, info) => {
          frames.push({ same: JSON.stringify(dets) === ref, frame: info.frame });
          if (info.frame === 2) run.stop();
        },
        opts,
      );
      const summary = await run.done;
      return { summary, frames, refCount: JSON.parse(ref).length, tensors: [before, demo.tf.memory().numTensors] };
    }, OPTS);
    expect(r.summary).toEqual({ frames: 3, skipped: 0, reason: 'stop' });
    expect(r.frames).toEqual([0, 1, 2].map((frame) => ({ same: true, frame })));
    expect(r.refCount).toBe(nodeDets.length);
    expect(r.tensors[1]).toBe(r.tensors[0]);
  });

  it('the webcam (fake camera playing the photo): frames are detected one after another, boxes drawn', async () => {
    await page.click('#webcam');
    const s = await waitState(`s.source === 'webcam' && s.frames >= 3 && s.detections.length > 0`, 'three webcam frames detected with boxes');
    expect(s.status).toBe('ready');
    expect(s.boxesDrawn).toBe(s.detections.length);
    expect(await boxesSeen(s.detections)).toBeGreaterThan(0);
    // The clip is the same photo: the strong objects are found on the camera frames too.
    const labels = new Set(s.detections.map((d) => d.label));
    expect(labels.has('dog') || labels.has('bicycle') || labels.has('car')).toBe(true);
    const frames = s.frames;
    await waitState(`s.frames > ${frames}`, 'more webcam frames');
    await page.click('#webcam'); // stop
    const stopped = await waitState(`s.source === 'none'`, 'the webcam stopped');
    const n = stopped.frames;
    await page.waitForTimeout(300);
    expect((await state()).frames).toBe(n);
  });

  it('WebGL backend (software GL): the compiled tfjs path runs and its raw outputs equal Node to 1e-3', async () => {
    await page.selectOption('#backend', 'webgl');
    await waitState(`s.backend === 'webgl' && s.status === 'ready' && s.engine === 'tfjs-graph'`, 'the WebGL backend running');
    expect((await state()).source).toBe('none'); // the webcam was stopped
    await page.setInputFiles('#file', png);
    const s = await waitState(`s.source === 'image' && s.frames >= 1`, 'the image detected on WebGL');
    expect(s.error).toBeUndefined();
    // The page's own run on WebGL: the same boxes (small float differences only).
    expect(s.detections.map((d) => d.label)).toEqual(nodeDets.map((d) => d.label));
    expect(maxDetectionError(s.detections, nodeDets)).toBeLessThanOrEqual(0.5);
    const browserRaw = await page.evaluate(() => {
      const demo = (window as unknown as { __demo: { detector: Detector; still: ImageBitmap; yolo: typeof import('../../src'); tf: typeof tf } }).__demo;
      const px = demo.tf.browser.fromPixels(demo.still, 3);
      const pre = demo.yolo.preprocessImage(px, demo.detector.spec.input);
      const out = demo.detector.predict(pre.tensor);
      const r = {
        backend: demo.tf.getBackend(),
        info: demo.detector.inferenceInfo(),
        outputs: out.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })),
      };
      demo.tf.dispose([px, pre.tensor, ...out]);
      return r;
    });
    expect(browserRaw.backend).toBe('webgl');
    expect(browserRaw.info.engine).toBe('tfjs-graph');
    // Node's reference: the LayersModel on the same pixels.
    const img = await loadImage(png);
    const pre = preprocessImage(img.tensor, nodeDet.spec.input);
    nodeDet.fastInference = false;
    const ref = nodeDet.predict(pre.tensor);
    nodeDet.fastInference = true;
    let maxDiff = 0;
    ref.forEach((t, k) => {
      expect(browserRaw.outputs[k].shape).toEqual(t.shape);
      const a = t.dataSync();
      const b = browserRaw.outputs[k].data;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    });
    tf.dispose([img.tensor, pre.tensor, ...ref]);
    // eslint-disable-next-line no-console
    console.log(`demo: WebGL (SwiftShader) raw outputs vs Node LayersModel: max |diff| ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
  });

  it('a model that is not served: the page shows an error naming its URL', async () => {
    await page.selectOption('#model', 'yolov4-tiny');
    const s = await waitState(`s.status === 'error'`, 'an error shown');
    expect(s.error).toContain(`${server.url}models/yolov4-tiny/`);
    expect(s.error).toMatch(/HTTP 404/);
    expect(await page.textContent('#status')).toContain('models/yolov4-tiny/');
  });

  it('served without COOP/COEP: the page says the kernels run on one thread', async () => {
    const plain = await startDemoServer({ port: 0, isolated: false, modelsDirs: [path.join(tmp, 'models')], bundle });
    const p2 = await browser.newPage();
    try {
      await p2.goto(`${plain.url}?model=${MODEL}`, { waitUntil: 'load' });
      // The warning is up as soon as the page runs (the one-thread fallback itself is checked
      // by browserEngine.test.ts; the model needs not finish loading here).
      await p2.waitForFunction(() => (window as unknown as { __demo?: unknown }).__demo !== undefined, null, WAIT);
      const s = await p2.evaluate(() => (window as unknown as { __demo: { state: PageState } }).__demo.state);
      expect(s.isolated).toBe(false);
      expect(await p2.isVisible('#banner')).toBe(true);
      expect(await p2.textContent('#banner')).toMatch(/not cross-origin isolated.*one thread/);
    } finally {
      await p2.close();
      await plain.close();
    }
  });

  it('raised no page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
