/**
 * yolo-tfjs in a real browser: the library (src/index.ts, bundled by esbuild for the browser
 * platform) runs in headless Chromium on a page served cross-origin isolated from 127.0.0.1, and
 * its outputs must equal the same network run here in Node:
 * - `predict` on our wasm kernels with 1 thread and with 2 threads (Blob-URL workers on shared
 *   wasm memory: they must really start and take work in the page), on tfjs ops on the `cpu`
 *   and `wasm` backends (tfjs-backend-wasm's .wasm files served from node_modules), and `auto`
 *   on wasm: all within 1e-4 of Node's LayersModel.predict on the same weights and input;
 * - `detect` on an ImageData drawn on a canvas (and on the canvas element itself): an array of
 *   detections equal to Node's `detect` on the same pixels (count, classes, boxes within 1e-3).
 * Skips with a message when /usr/bin/chromium or playwright-core is absent.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import type { Detection } from '../../src/detection';
import type { Detector } from '../../src/detector';
import { CASE_DETECT, CASE_IMAGE, CASE_MODEL, caseInput, maxOutputError, RawOutput, readOutputs, seedWeights } from './browserCase';
import type { BrowserReport, BrowserRun, BrowserRunOptions } from './browserEntry';
import { bundleForBrowser, describeBrowser, PageRun, runInChromium, serve, tfjsWasmRoutes } from './browserHarness';
import { maxDetectionError } from '../helpers/matchDetections';

const TOL = 1e-4;
const BOX_TOL = 1e-3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function predictNode(det: Detector, x: tf.Tensor4D): RawOutput[] {
  const out = det.predict(x);
  try {
    return readOutputs(out);
  } finally {
    tf.dispose(out);
  }
}


describeBrowser('yolo-tfjs in headless Chromium (cross-origin isolated page)', () => {
  let page: PageRun<BrowserReport>;
  let report: BrowserReport;
  let plainPage: PageRun<BrowserReport>;
  let nodeRef: RawOutput[];
  let nodeKernels: RawOutput[];
  let nodeDetections: Detection[];
  const timings: string[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    const bundle = bundleForBrowser(path.join(__dirname, 'browserEntry.ts'));
    const tBundle = Date.now() - t0;
    const html = fs.readFileSync(path.join(__dirname, 'browserPage.html'));
    const server = await serve({
      '/': { body: html, type: 'text/html; charset=utf-8' },
      '/plain.html': { body: html, type: 'text/html; charset=utf-8', isolated: false },
      '/bundle.js': { body: bundle, type: 'text/javascript; charset=utf-8' },
      '/favicon.ico': { body: Buffer.alloc(0), type: 'image/x-icon' },
      ...tfjsWasmRoutes(),
    });
    const t1 = Date.now();
    let launchMs = 0;
    try {
      const calls = [
        { path: '/', fn: '__yoloRun', arg: { isolated: true } satisfies BrowserRunOptions },
        { path: '/plain.html', fn: '__yoloRun', arg: { isolated: false } satisfies BrowserRunOptions },
      ];
      const r = await runInChromium<BrowserReport>(server.url, calls, 240000);
      [page, plainPage] = r.pages;
      launchMs = r.launchMs;
    } finally {
      await server.close();
    }
    report = page.result;
    timings.push(`bundle ${tBundle} ms, Chromium launch ${launchMs} ms, both pages ${Date.now() - t1} ms (in the isolated page ${report.totalMs.toFixed(0)} ms)`);

    // The same case in Node (jest's backend, wasm by default).
    const det = yoloFastestV2(CASE_MODEL);
    seedWeights(det.model);
    const x = caseInput();
    det.fastInference = false;
    nodeRef = predictNode(det, x); // LayersModel.predict: the reference
    det.fastInference = true;
    det.engine = 'wasm-kernels';
    det.engineThreads = 1;
    nodeKernels = predictNode(det, x);
    det.engine = 'auto';
    if (report.detect.rgba) {
      const img = { data: Uint8ClampedArray.from(report.detect.rgba), width: CASE_IMAGE.width, height: CASE_IMAGE.height };
      nodeDetections = await det.detect(img, CASE_DETECT);
    }
    x.dispose();
    det.dispose();
  }, 600000);

  afterAll(() => {
    if (!report) return;
    const lines = [...report.runs, ...(plainPage ? plainPage.result.runs : [])].map((r) => {
      const ms = r.ms ? `${median(r.ms).toFixed(1)} ms median of ${r.ms.length}` : 'no timing';
      const err = r.outputs ? maxOutputError(r.outputs, nodeRef).toExponential(2) : 'n/a';
      return `${r.name}: max |browser - Node| ${err}; predict ${ms}; ${JSON.stringify(r.info)}${r.threadStats ? ` stats ${JSON.stringify(r.threadStats)}` : ''}${r.error ? ` ERROR ${r.error}` : ''}`;
    });
    // eslint-disable-next-line no-console
    console.log(
      [
        `browser: ${report.env.userAgent}`,
        `env: ${JSON.stringify(report.env)}; wasm backend ${JSON.stringify(report.wasmBackend)}`,
        ...timings,
        ...lines,
        report.timing352
          ? `YOLO-FastestV2 352 predict (cpu backend, wasm kernels): 1 thread ${median(report.timing352.ms1).toFixed(1)} ms, 2 threads ${median(report.timing352.ms2).toFixed(1)} ms (medians of ${report.timing352.ms1.length}); |1 - 2 threads| ${report.timing352.maxDiff12}; stats ${JSON.stringify(report.timing352.threadStats)}${report.timing352.error ? ` ERROR ${report.timing352.error}` : ''}`
          : 'no 352 timing',
        `detect: ${report.detect.fromImageData?.length ?? 'n/a'} detections in the browser, ${nodeDetections?.length ?? 'n/a'} in Node${report.detect.error ? ` ERROR ${report.detect.error}` : ''}`,
      ].join('\n'),
    );
  });

  const run = (name: string, rep = report): BrowserRun => {
    const r = rep.runs.find((x) => x.name === name);
    if (!r) throw new Error(`the page reported no run '${name}' (runs: ${rep.runs.map((x) => x.name).join(', ')})`);
    if (r.error) throw new Error(`'${name}' failed in the browser: ${r.error}`);
    return r;
  };

  it('the page is cross-origin isolated, has wasm SIMD and shared memory, and raised no error', () => {
    expect(page.pageErrors).toEqual([]);
    expect(page.console.filter((l) => l.startsWith('[error]'))).toEqual([]);
    expect(report.env).toMatchObject({ crossOriginIsolated: true, sharedArrayBuffer: true, wasmSimd: true, wasmThreads: true });
  });

  it('Node: the wasm kernels match the LayersModel (the reference is sound)', () => {
    expect(maxOutputError(nodeKernels, nodeRef)).toBeLessThanOrEqual(TOL);
    expect(nodeRef.map((o) => o.shape)).toEqual([
      [1, 10, 10, 19],
      [1, 5, 5, 19],
    ]);
  });

  it('wasm kernels on 1 thread in the browser = Node', () => {
    const r = run('wasm-kernels 1 thread (cpu backend)');
    expect(r.info).toEqual({ engine: 'wasm-kernels', threads: 1 });
    expect(maxOutputError(r.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
    // Same wasm code on the same numbers: the browser and Node kernels agree to float rounding.
    expect(maxOutputError(r.outputs!, nodeKernels)).toBeLessThanOrEqual(1e-6);
    expect(r.tensors![1]).toBe(r.tensors![0]);
  });

  it('wasm kernels on 2 threads in the browser: the workers start, take work, and the outputs = Node', () => {
    const r = run('wasm-kernels 2 threads (cpu backend)');
    expect(r.info).toEqual({ engine: 'wasm-kernels', threads: 2 });
    expect(r.workersReadyMs).toBeDefined();
    expect(maxOutputError(r.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
    expect(maxOutputError(r.outputs!, nodeKernels)).toBeLessThanOrEqual(1e-6);
    // On a pool whose page thread never takes chunks over, the worker computed its chunks in
    // the page (whatever the machine's load) and the numbers are the same.
    expect(r.threadStats!.splitRuns).toBeGreaterThan(0);
    expect(r.threadStats!.workerChunks).toBeGreaterThan(0);
    expect(maxOutputError(r.workerOutputs!, nodeKernels)).toBeLessThanOrEqual(1e-6);
    expect(r.tensors![1]).toBe(r.tensors![0]);
  });

  it('at 352 (the real input size) 1 and 2 threads give the same numbers in the browser', () => {
    const t = report.timing352!;
    if (t.error) throw new Error(`352 run failed in the browser: ${t.error}`);
    expect(t.maxDiff12).toBeLessThanOrEqual(1e-6);
    expect(t.threadStats!.workerChunks).toBeGreaterThan(0);
  });

  it('tfjs ops on the cpu backend in the browser = Node', () => {
    const r = run('tfjs ops (cpu backend)');
    expect(r.backend).toBe('cpu');
    expect(r.info!.engine).toBe('tfjs-graph');
    expect(maxOutputError(r.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
    expect(r.tensors![1]).toBe(r.tensors![0]);
  });

  it('tfjs ops on the wasm backend in the browser = Node; auto picks the wasm kernels there', () => {
    const r = run('tfjs ops (wasm backend)');
    expect(r.backend).toBe('wasm');
    expect(r.info!.engine).toBe('tfjs-graph');
    expect(maxOutputError(r.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
    const a = run('auto (wasm backend)');
    expect(a.info!.engine).toBe('wasm-kernels');
    expect(maxOutputError(a.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
    expect(a.tensors![1]).toBe(a.tensors![0]);
  });

  it('a page that is not cross-origin isolated: 2 threads asked run on 1, same outputs', () => {
    const plain = plainPage.result;
    expect(plainPage.pageErrors).toEqual([]);
    expect(plain.env).toMatchObject({ crossOriginIsolated: false, wasmSimd: true, wasmThreads: false });
    const r = run('wasm-kernels 2 threads asked, not isolated (cpu backend)', plain);
    expect(r.info).toMatchObject({ engine: 'wasm-kernels', threads: 1 });
    expect(r.info!.fallbackReason).toMatch(/cross-origin isolated/);
    expect(maxOutputError(r.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
    const a = run('auto (wasm backend)', plain);
    expect(a.info!.engine).toBe('wasm-kernels');
    expect(maxOutputError(a.outputs!, nodeRef)).toBeLessThanOrEqual(TOL);
  });

  it('detect() on an ImageData (and on the canvas) in the browser = detect() in Node on the same pixels', () => {
    const d = report.detect;
    if (d.error) throw new Error(`detect failed in the browser: ${d.error}`);
    expect(d.isArray).toBe(true);
    expect(d.rgba!.length).toBe(CASE_IMAGE.width * CASE_IMAGE.height * 4);
    expect(d.info!.engine).toBe('wasm-kernels');
    const browser = d.fromImageData!;
    // Random weights with a low threshold: a handful of boxes, so the comparison means something.
    expect(browser.length).toBeGreaterThan(0);
    expect(browser.length).toBe(nodeDetections.length);
    expect(maxDetectionError(browser, nodeDetections)).toBeLessThanOrEqual(BOX_TOL);
    expect(maxDetectionError(d.fromCanvas!, browser)).toBeLessThanOrEqual(BOX_TOL);
    expect(d.tensors![1]).toBe(d.tensors![0]);
  });
});
