/**
 * Detection on a stream of frames (`Detector.detectVideo`): a `<video>` element, a canvas, or
 * any async iterable of images (Node: frames from a decoder, a camera library, a test). One
 * loop runs detection frame after frame, never two at once; frames that arrive while a
 * detection (or the result callback) is running are skipped, so a live source is always
 * processed at its newest frame instead of falling behind.
 */
import * as tf from '@tensorflow/tfjs';
import type { Detection } from '../detection';
import type { ImageInput } from '../image/loadImage';
import type { DetectOptions } from '../detector';

/** A `<video>` element (or anything shaped like one: `videoWidth`, `readyState`, `ended`). */
export interface VideoElementLike {
  readonly videoWidth: number;
  readonly videoHeight: number;
  readonly readyState: number;
  readonly ended: boolean;
  readonly currentTime: number;
  requestVideoFrameCallback?(cb: (now: number, meta: { presentedFrames?: number }) => void): number;
  cancelVideoFrameCallback?(handle: number): void;
  addEventListener?(type: 'ended', fn: () => void): void;
  removeEventListener?(type: 'ended', fn: () => void): void;
}

/** A canvas (`HTMLCanvasElement`): its current pixels are read at every tick. */
export interface CanvasLike {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d', ...rest: unknown[]): unknown;
}

/** What {@link detectVideo} reads frames from. */
export type VideoSource = VideoElementLike | CanvasLike | AsyncIterable<ImageInput>;

/** Passed to the result callback with each frame's detections. */
export interface VideoFrameInfo {
  /** Index of this frame among the frames detected (0, 1, 2, ...). */
  frame: number;
  /** Frames skipped so far (arrived while busy, or faster than `maxFps`). */
  skipped: number;
  /** Milliseconds this frame's `detect` took. */
  ms: number;
  /** Frames detected per second over the last few frames (0 for the first frame). */
  fps: number;
  /** When the frame was taken (`performance.now()` ms). */
  timestamp: number;
}

/** Called with each detected frame. The next frame waits until a returned promise settles. */
export type VideoResultCallback = (detections: Detection[], info: VideoFrameInfo) => void | Promise<void>;

/** Options of {@link detectVideo}: `detect`'s options plus the pacing of the loop. */
export interface DetectVideoOptions extends DetectOptions {
  /** Start at most this many detections per second (default: as fast as frames come). */
  maxFps?: number;
  /**
   * Async iterables: pull frames while busy and keep only the newest (default true, right for
   * live sources). `false` detects every frame in order (the iterable waits), right for files.
   */
  skipFrames?: boolean;
  /**
   * Tensor frames of an async iterable are handed over: disposed once detected or skipped.
   * `true` leaves them to the caller.
   */
  keepFrames?: boolean;
  /**
   * Called with an error of `detect` or of the callback (the loop then stops). Without it,
   * `done` rejects with the error.
   */
  onError?: (error: Error) => void;
}

/** How a detection loop ended. */
export interface VideoRunSummary {
  /** Frames detected. */
  frames: number;
  /** Frames skipped. */
  skipped: number;
  /** `stop`: `stop()` was called; `end`: the source ended (iterable done, video ended); `error`. */
  reason: 'stop' | 'end' | 'error';
  /** The error that stopped the loop (only when `onError` was given; else `done` rejects). */
  error?: Error;
}

/** Handle of a running detection loop. */
export interface VideoStopHandle {
  /** Stop after the frame in progress (if any). Idempotent. */
  stop(): void;
  /** Settles when the loop has ended and no detection is running any more. */
  readonly done: Promise<VideoRunSummary>;
  /** Whether the loop still runs. */
  readonly running: boolean;
}

type DetectFn = (image: ImageInput, opts: DetectOptions) => Promise<Detection[]>;

/** A frame taken from the source, with its capture time. */
interface Frame {
  image: ImageInput;
  timestamp: number;
}

/** One frame at a time from some source; `null` when the source ended or the loop stopped. */
interface FrameReader {
  next(): Promise<Frame | null>;
  /** Frames dropped by the reader itself (e.g. presented by the video while busy). */
  skipped(): number;
  close(): void;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Run `detect` on a stream of frames until stopped or until the source ends. See
 * `Detector.detectVideo`, which is this with the detector's `detect`.
 */
export function detectVideo(
  detect: DetectFn,
  source: VideoSource,
  onResult: VideoResultCallback,
  opts: DetectVideoOptions = {},
): VideoStopHandle {
  if (typeof onResult !== 'function') throw new Error('detectVideo needs a result callback: detectVideo(source, onResult, opts)');
  const { maxFps, skipFrames = true, keepFrames = false, onError, ...detectOpts } = opts;
  if (maxFps !== undefined && !(typeof maxFps === 'number' && maxFps > 0)) {
    throw new Error(`maxFps must be a number > 0, got ${String(maxFps)}`);
  }
  const stopSignal = new StopSignal();
  const reader = frameReader(source, stopSignal, { skipFrames, keepFrames });
  const minInterval = maxFps ? 1000 / maxFps : 0;
  let running = true;
  const run = async (): Promise<VideoRunSummary> => {
    let frames = 0;
    let lastStart = -Infinity;
    const starts: number[] = [];
    try {
      for (;;) {
        // Timers may fire a little early: wait until the interval really has passed.
        for (let wait = lastStart + minInterval - now(); wait > 0 && !stopSignal.stopped; wait = lastStart + minInterval - now()) {
          await stopSignal.sleep(wait);
        }
        if (stopSignal.stopped) return { frames, skipped: reader.skipped(), reason: 'stop' };
        const frame = await reader.next();
        if (!frame) {
          return { frames, skipped: reader.skipped(), reason: stopSignal.stopped ? 'stop' : 'end' };
        }
        const t0 = now();
        lastStart = t0;
        let dets: Detection[];
        try {
          dets = await detect(frame.image, detectOpts);
        } finally {
          if (!keepFrames) disposeFrame(frame.image, source);
        }
        const ms = now() - t0;
        starts.push(t0);
        if (starts.length > 10) starts.shift();
        const fps = starts.length > 1 ? ((starts.length - 1) * 1000) / (starts[starts.length - 1] - starts[0]) : 0;
        await onResult(dets, { frame: frames, skipped: reader.skipped(), ms, fps, timestamp: frame.timestamp });
        frames++;
      }
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!onError) throw error;
      onError(error);
      return { frames, skipped: reader.skipped(), reason: 'error', error };
    } finally {
      running = false;
      stopSignal.stop();
      reader.close();
    }
  };
  const done = run();
  return {
    stop: () => stopSignal.stop(),
    done,
    get running() {
      return running;
    },
  };
}

/** A stop flag that can also interrupt waits. */
class StopSignal {
  stopped = false;
  private listeners: (() => void)[] = [];

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const l of this.listeners.splice(0)) l();
  }

  /** Resolves when `stop()` is called (at once if it was). */
  onStop(fn: () => void): () => void {
    if (this.stopped) {
      fn();
      return () => undefined;
    }
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Waits `ms`, or less if stopped meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let off = (): void => undefined;
      const timer = setTimeout(() => {
        off();
        resolve();
      }, ms);
      off = this.onStop(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function isVideoElement(s: unknown): s is VideoElementLike {
  const v = s as VideoElementLike;
  return !!v && typeof v === 'object' && typeof v.videoWidth === 'number' && typeof v.readyState === 'number';
}

function isCanvas(s: unknown): s is CanvasLike {
  const c = s as CanvasLike;
  return !!c && typeof c === 'object' && typeof c.getContext === 'function' && typeof c.width === 'number';
}

function isAsyncIterable(s: unknown): s is AsyncIterable<ImageInput> {
  return !!s && typeof (s as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function frameReader(source: VideoSource, stop: StopSignal, o: { skipFrames: boolean; keepFrames: boolean }): FrameReader {
  if (isVideoElement(source)) return videoReader(source, stop);
  if (isCanvas(source)) return canvasReader(source, stop);
  if (isAsyncIterable(source)) return o.skipFrames ? latestFrameReader(source, stop, o.keepFrames) : pullReader(source, stop, o.keepFrames);
  throw new Error('detectVideo: the source must be a <video> element, a canvas, or an async iterable of images');
}

/** Tensor frames of a stream are owned by the loop; elements are not. */
function disposeFrame(image: ImageInput, source: VideoSource): void {
  if (image instanceof tf.Tensor && image !== (source as unknown)) image.dispose();
}

/** Next turn of the event loop (so a reader never starves timers or the page). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Every frame, in order: the iterable is only asked for the next frame when the loop is free. */
function pullReader(source: AsyncIterable<ImageInput>, stop: StopSignal, keepFrames: boolean): FrameReader {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  return {
    async next() {
      if (finished || stop.stopped) return null;
      // stop() must end the loop even while the source is waiting for its next frame.
      const pending = it.next();
      let off = (): void => undefined;
      const stopped = new Promise<null>((resolve) => (off = stop.onStop(() => resolve(null))));
      const r = await Promise.race([pending, stopped]);
      off();
      if (r === null) {
        // A frame that still arrives is not going to be detected: release it.
        void pending.then((late) => {
          if (!keepFrames && !late.done && late.value instanceof tf.Tensor) late.value.dispose();
        }, () => undefined);
        return null;
      }
      if (r.done) {
        finished = true;
        return null;
      }
      return { image: r.value, timestamp: now() };
    },
    skipped: () => 0,
    close() {
      if (!finished) {
        finished = true;
        void Promise.resolve(it.return?.()).catch(() => undefined);
      }
    },
  };
}

/**
 * The newest frame: a pump pulls frames from the iterable all the time (one per event-loop
 * turn at most), and a frame not yet taken when a newer one arrives is skipped.
 */
function latestFrameReader(source: AsyncIterable<ImageInput>, stop: StopSignal, keepFrames: boolean): FrameReader {
  const it = source[Symbol.asyncIterator]();
  let pending: Frame | null = null;
  let finished = false;
  let pumpError: unknown = null;
  let skipped = 0;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const drop = (f: Frame): void => {
    skipped++;
    if (!keepFrames && f.image instanceof tf.Tensor) f.image.dispose();
  };
  const pump = async (): Promise<void> => {
    try {
      while (!stop.stopped) {
        const r = await it.next();
        if (r.done) break;
        const frame = { image: r.value, timestamp: now() };
        if (stop.stopped) {
          // Arrived after the end: not a skipped frame, but still ours to release.
          if (!keepFrames && frame.image instanceof tf.Tensor) frame.image.dispose();
          break;
        }
        if (pending) drop(pending);
        pending = frame;
        notify();
        await nextTurn();
      }
    } catch (e) {
      pumpError = e;
    } finally {
      finished = true;
      notify();
    }
  };
  void pump();
  const offStop = stop.onStop(notify);
  return {
    async next() {
      for (;;) {
        if (pumpError) throw pumpError;
        if (pending) {
          const f = pending;
          pending = null;
          return f;
        }
        if (finished || stop.stopped) return null;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    skipped: () => skipped,
    close() {
      offStop();
      if (pending) {
        if (!keepFrames && pending.image instanceof tf.Tensor) pending.image.dispose();
        pending = null;
      }
      if (!finished) void Promise.resolve(it.return?.()).catch(() => undefined);
    },
  };
}

/** Waits for the next animation frame in a page, else ~16 ms. */
function nextTick(stop: StopSignal): Promise<void> {
  if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && document.visibilityState !== 'hidden') {
    return new Promise((resolve) => {
      const off = stop.onStop(() => {
        cancelAnimationFrame(h);
        resolve();
      });
      const h = requestAnimationFrame(() => {
        off();
        resolve();
      });
    });
  }
  return stop.sleep(16);
}

/** A canvas: its pixels at every tick (the loop's pace is the canvas's frame rate). */
function canvasReader(canvas: CanvasLike, stop: StopSignal): FrameReader {
  let first = true;
  return {
    async next() {
      if (!first) await nextTick(stop);
      first = false;
      if (stop.stopped) return null;
      return { image: canvas as unknown as ImageInput, timestamp: now() };
    },
    skipped: () => 0,
    close: () => undefined,
  };
}

/** HAVE_CURRENT_DATA: the element has a frame to read. */
const HAVE_CURRENT_DATA = 2;

/**
 * A `<video>`: each newly presented frame (`requestVideoFrameCallback` where the browser has
 * it, else polling `currentTime` at animation frames). Frames presented while the loop was
 * busy are counted as skipped. Ends when the video ends; waits while it is paused or loading.
 */
function videoReader(video: VideoElementLike, stop: StopSignal): FrameReader {
  let skipped = 0;
  let taken = false;
  let lastPresented: number | undefined;
  let lastTime = -1;
  const hasFrame = (): boolean => video.readyState >= HAVE_CURRENT_DATA && video.videoWidth > 0;
  const nextPresented = (): Promise<void> =>
    new Promise((resolve) => {
      // No frame is presented after the last one: 'ended' (or stop) ends the wait too.
      const onEnded = (): void => {
        off();
        video.cancelVideoFrameCallback?.(h);
        resolve();
      };
      const offStop = stop.onStop(onEnded);
      video.addEventListener?.('ended', onEnded);
      const off = (): void => {
        offStop();
        video.removeEventListener?.('ended', onEnded);
      };
      const h = video.requestVideoFrameCallback!((_t, meta) => {
        off();
        const p = meta?.presentedFrames;
        if (typeof p === 'number') {
          if (lastPresented !== undefined && p - lastPresented > 1) skipped += p - lastPresented - 1;
          lastPresented = p;
        }
        resolve();
      });
    });
  return {
    async next() {
      for (;;) {
        if (stop.stopped) return null;
        if (video.ended) return null;
        if (typeof video.requestVideoFrameCallback === 'function') {
          // A frame already shown but not yet detected (the first one) is taken at once.
          if (!taken && hasFrame()) {
            taken = true;
            return { image: video as unknown as ImageInput, timestamp: now() };
          }
          await nextPresented();
        } else {
          await nextTick(stop);
        }
        if (stop.stopped || video.ended) return null;
        if (!hasFrame()) continue;
        taken = true;
        if (typeof video.requestVideoFrameCallback !== 'function') {
          if (video.currentTime === lastTime) continue; // no new frame yet
          lastTime = video.currentTime;
        }
        return { image: video as unknown as ImageInput, timestamp: now() };
      }
    },
    skipped: () => skipped,
    close: () => undefined,
  };
}
