/**
 * The demo page (examples/browser/index.html): yolo-tfjs on an image (file picker, drag and
 * drop, samples) or the webcam (`detector.detectVideo` on a <video>), boxes drawn on a canvas.
 * Bundled with the library by esbuild (examples/browser/build.js); served by `npm run demo`.
 *
 * URL parameters: `?model=<registry name>` (default: the embedded model), `?backend=wasm|webgl|cpu`.
 * For scripts and tests the page exposes `window.__demo`: its state, the detector and the
 * library (`__demo.yolo`, `__demo.tf`), e.g. `await __demo.detector.detect(img)` in the console.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as yolo from '../../src';
import type { Detection, DetectOptions, Detector, VideoStopHandle } from '../../src';

/** What the page shows, as data (read by the browser test). */
interface DemoState {
  status: 'loading' | 'ready' | 'busy' | 'error';
  error?: string;
  /** Model picker value: '' for the embedded default, else a registry name. */
  model: string;
  modelName?: string;
  backend: string;
  engine?: string;
  threads?: number;
  fallbackReason?: string;
  isolated: boolean;
  source: 'none' | 'image' | 'webcam';
  /** Frames detected since the source started (a still image counts each re-run). */
  frames: number;
  /** Detections of the last frame, as drawn. */
  detections: Detection[];
  /** Boxes drawn on the canvas for the last frame. */
  boxesDrawn: number;
  fps: number;
  ms: number;
  /** Options of the last detection. */
  options: { scoreThreshold: number; iouThreshold: number; classes: string[] };
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('view');
const ctx = canvas.getContext('2d')!;
const video = $<HTMLVideoElement>('video');
const params = new URLSearchParams(location.search);

const state: DemoState = {
  status: 'loading',
  model: params.get('model') ?? '',
  backend: params.get('backend') ?? 'wasm',
  isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  source: 'none',
  frames: 0,
  detections: [],
  boxesDrawn: 0,
  fps: 0,
  ms: 0,
  options: { scoreThreshold: 0.25, iouThreshold: 0.45, classes: [] },
};
let detector: Detector | null = null;
let still: ImageBitmap | null = null;
let loop: VideoStopHandle | null = null;
let stream: MediaStream | null = null;
/** Serialises model/backend/source changes (each waits for the previous one). */
let queue: Promise<unknown> = Promise.resolve();
const enqueue = (job: () => Promise<void>): Promise<void> => {
  const p = queue.then(job).catch(showError);
  queue = p;
  return p;
};

(window as unknown as { __demo: unknown }).__demo = {
  state,
  yolo,
  tf,
  get detector() {
    return detector;
  },
  /** The still image on the canvas (an ImageBitmap), if any. */
  get still() {
    return still;
  },
  /** Resolves when every queued change has been applied. */
  settled: () => queue,
};

// ---------------------------------------------------------------------------------------
// Status line, banner, stats

function setStatus(text: string, kind: DemoState['status'] = state.status): void {
  state.status = kind;
  const el = $('status');
  el.textContent = text;
  el.className = kind === 'error' ? 'error' : '';
}

function showError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  state.error = msg;
  setStatus(msg, 'error');
  console.error(e);
}

function updateBanner(): void {
  const b = $('banner');
  let html = '';
  if (!state.isolated) {
    html =
      'This page is not cross-origin isolated (no COOP/COEP headers), so there is no shared memory: ' +
      'the wasm kernels run on <b>one thread</b>. Serve it with <code>npm run demo</code> for multi-threaded kernels.';
  } else if (state.fallbackReason && state.engine !== 'tfjs-graph') {
    html = `Multi-threaded kernels are not running: ${escapeHtml(state.fallbackReason)}`;
  }
  b.innerHTML = html;
  b.classList.toggle('show', html !== '');
}

function updateStats(): void {
  $('fps').textContent = state.source === 'webcam' && state.fps > 0 ? state.fps.toFixed(1) : '–';
  $('ms').textContent = state.ms > 0 ? state.ms.toFixed(1) : '–';
  $('engine').textContent = state.engine ? `${state.engine} on ${state.backend}` : '–';
  $('threads').textContent = state.threads ? String(state.threads) : '–';
  $('input').textContent = detector ? detector.spec.input.size.join('×') : '–';
  const list = $('list');
  list.innerHTML = '';
  for (const d of state.detections) {
    const li = document.createElement('li');
    li.innerHTML = `<span><i style="background:${yolo.classColor(d.classId)}"></i>${escapeHtml(d.label)}</span><span>${(d.score * 100).toFixed(0)}%</span>`;
    list.appendChild(li);
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------
// Options and drawing

function readOptions(): DemoState['options'] {
  const classes = $<HTMLInputElement>('classes')
    .value.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    scoreThreshold: Number($<HTMLInputElement>('score').value),
    iouThreshold: Number($<HTMLInputElement>('iou').value),
    classes,
  };
}

/** `detect` options from the controls; the class filter is the library's `classes` option. */
function detectOptions(o: DemoState['options']): DetectOptions {
  const classes = o.classes.map((c) => (/^\d+$/.test(c) ? Number(c) : c));
  return { scoreThreshold: o.scoreThreshold, iouThreshold: o.iouThreshold, ...(classes.length ? { classes } : {}) };
}

/** Draws the frame and the boxes with their labels; returns how many boxes were drawn. */
function draw(source: CanvasImageSource, width: number, height: number, dets: Detection[]): number {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  ctx.drawImage(source, 0, 0, width, height);
  const line = Math.max(2, Math.round(Math.min(width, height) / 180));
  const font = Math.max(12, Math.round(Math.min(width, height) / 32));
  ctx.lineWidth = line;
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  // Lowest score first, so that the best boxes and labels end up on top.
  const order = [...dets].sort((a, b) => a.score - b.score);
  for (const d of order) {
    const [x1, y1, x2, y2] = d.box;
    ctx.strokeStyle = yolo.classColor(d.classId);
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  }
  // Labels after all boxes, so that no box line crosses a label.
  for (const d of order) {
    const [x1, y1] = d.box;
    const text = `${d.label} ${(d.score * 100).toFixed(0)}%`;
    const w = ctx.measureText(text).width + 8;
    const h = font + 6;
    const y = y1 - h >= 0 ? y1 - h : y1;
    const x = Math.max(0, Math.min(x1 - line / 2, width - w)); // keep the label on the canvas
    ctx.fillStyle = yolo.classColor(d.classId);
    ctx.fillRect(x, y, w, h);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x + 4, y + 3);
  }
  $('hint').style.display = 'none';
  return dets.length;
}

function show(dets: Detection[], source: CanvasImageSource, width: number, height: number, ms: number, fps: number): void {
  state.boxesDrawn = draw(source, width, height, dets);
  state.detections = dets;
  state.frames++;
  state.ms = ms;
  state.fps = fps;
  updateStats();
}

// ---------------------------------------------------------------------------------------
// Sources

async function detectStill(): Promise<void> {
  if (!detector || !still) return;
  state.options = readOptions();
  const t0 = performance.now();
  const dets = await detector.detect(still, detectOptions(state.options));
  show(dets, still, still.width, still.height, performance.now() - t0, 0);
  setStatus(`${state.detections.length} detection(s)`, 'ready');
}

async function stopWebcam(): Promise<void> {
  if (loop) {
    loop.stop();
    await loop.done.catch(() => undefined);
    loop = null;
  }
}

/** (Re)starts the detection loop on the webcam video with the current options. */
async function startLoop(): Promise<void> {
  await stopWebcam();
  if (!detector || !stream) return;
  state.options = readOptions();
  const det = detector;
  loop = det.detectVideo(
    video,
    (dets, info) => show(dets, video, video.videoWidth, video.videoHeight, info.ms, info.fps),
    { ...detectOptions(state.options), onError: showError },
  );
  setStatus('webcam: detecting', 'ready');
}

async function openImage(blob: Blob): Promise<void> {
  await stopWebcam();
  stopStream();
  still?.close();
  still = await createImageBitmap(blob);
  state.source = 'image';
  state.frames = 0;
  await detectStill();
}

function stopStream(): void {
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  $('webcam').classList.remove('active');
}

async function toggleWebcam(): Promise<void> {
  if (stream) {
    await stopWebcam();
    stopStream();
    state.source = 'none';
    setStatus('webcam stopped', 'ready');
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no camera access here (getUserMedia needs https or localhost)');
  setStatus('starting the webcam…', 'busy');
  stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  $('webcam').classList.add('active');
  video.srcObject = stream;
  await video.play();
  still?.close();
  still = null;
  state.source = 'webcam';
  state.frames = 0;
  await startLoop();
}

/** Re-runs detection with new options: at once on a still image, by restarting the loop on video. */
async function optionsChanged(): Promise<void> {
  $('scoreOut').textContent = Number($<HTMLInputElement>('score').value).toFixed(2);
  $('iouOut').textContent = Number($<HTMLInputElement>('iou').value).toFixed(2);
  if (state.source === 'image') await detectStill();
  else if (state.source === 'webcam') await startLoop();
}

// ---------------------------------------------------------------------------------------
// Backend and model

async function applyBackend(name: string): Promise<void> {
  if (name === 'wasm') setWasmPaths(new URL('tfjs-wasm/', location.href).href);
  // Shapes as uniforms: one WebGL program per op kind instead of one per op and shape, so the
  // first frame compiles about half as many shaders (same arithmetic).
  if (name === 'webgl') tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
  await yolo.setBackend(name);
  state.backend = yolo.backendInfo().name;
}

function describeEngine(): void {
  if (!detector) return;
  const info = detector.inferenceInfo();
  state.engine = info.engine;
  state.threads = info.threads;
  state.fallbackReason = info.fallbackReason;
  updateBanner();
  updateStats();
}

async function loadModel(value: string): Promise<void> {
  const wasLive = state.source === 'webcam';
  await stopWebcam();
  setStatus(`loading ${value || 'the embedded model'}…`, 'loading');
  detector?.dispose();
  detector = null;
  const t0 = performance.now();
  detector = value ? await yolo.load(value) : await yolo.load();
  state.model = value;
  state.modelName = detector.spec.name;
  await detector.engineReady(); // compiles the fast path, starts the kernel threads
  await warmUp(detector);
  describeEngine();
  const names = $('classNames');
  names.innerHTML = detector.classNames.map((n) => `<option value="${escapeHtml(n)}"></option>`).join('');
  setStatus(`${detector.spec.name} ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`, 'ready');
  if (state.source === 'image') await detectStill();
  else if (wasLive) await startLoop();
}

/** One detection on a blank frame: the first run of every op is slow; the stats should not show it. */
async function warmUp(det: Detector): Promise<void> {
  const [h, w] = det.spec.input.size;
  await det.detect({ data: new Uint8ClampedArray(w * h * 4), width: w, height: h });
}

async function changeBackend(name: string): Promise<void> {
  const wasLive = state.source === 'webcam';
  await stopWebcam();
  setStatus(`switching to ${name}…`, 'busy');
  await applyBackend(name);
  if (detector) {
    await detector.engineReady();
    await warmUp(detector);
  }
  describeEngine();
  setStatus(`backend ${state.backend}`, 'ready');
  if (state.source === 'image') await detectStill();
  else if (wasLive) await startLoop();
}

// ---------------------------------------------------------------------------------------
// Wiring

function setup(): void {
  const modelSel = $<HTMLSelectElement>('model');
  const options = [['', 'Yolo-Fastest 1.1 COCO (built in)'], ...yolo.registryNames().map((n) => [n, `${n} (from models/)`])];
  modelSel.innerHTML = options.map(([v, l]) => `<option value="${escapeHtml(v)}">${escapeHtml(l)}</option>`).join('');
  if (!options.some(([v]) => v === state.model)) state.model = '';
  modelSel.value = state.model;
  modelSel.addEventListener('change', () => void enqueue(() => loadModel(modelSel.value)));

  const backendSel = $<HTMLSelectElement>('backend');
  backendSel.value = state.backend;
  backendSel.addEventListener('change', () => void enqueue(() => changeBackend(backendSel.value)));

  for (const id of ['score', 'iou']) $(id).addEventListener('input', () => void enqueue(optionsChanged));
  $('classes').addEventListener('change', () => void enqueue(optionsChanged));
  $('scoreOut').textContent = Number($<HTMLInputElement>('score').value).toFixed(2);
  $('iouOut').textContent = Number($<HTMLInputElement>('iou').value).toFixed(2);

  const file = $<HTMLInputElement>('file');
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void enqueue(() => openImage(f));
    file.value = '';
  });
  $('webcam').addEventListener('click', () => void enqueue(toggleWebcam));

  const stage = $('stage');
  stage.addEventListener('dragover', (e) => {
    e.preventDefault();
    stage.classList.add('drag');
  });
  stage.addEventListener('dragleave', () => stage.classList.remove('drag'));
  stage.addEventListener('drop', (e) => {
    e.preventDefault();
    stage.classList.remove('drag');
    const f = e.dataTransfer?.files?.[0];
    if (f && f.type.startsWith('image/')) void enqueue(() => openImage(f));
    else showError(new Error('drop an image file (JPEG, PNG, WebP, ...)'));
  });

  // Sample images served by `npm run demo` from examples/images/.
  const samples = $('samples');
  for (const name of ['dog.jpg', 'person.jpg']) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = name;
    b.addEventListener('click', () =>
      void enqueue(async () => {
        const res = await fetch(`images/${name}`);
        if (!res.ok) throw new Error(`could not fetch images/${name}: HTTP ${res.status}`);
        await openImage(await res.blob());
      }),
    );
    samples.appendChild(b);
  }

  updateBanner();
  void enqueue(async () => {
    await applyBackend(state.backend);
    await loadModel(state.model);
  });
}

setup();
