/**
 * `Detector.detectVideo` in Node on a small random-weight YOLO-FastestV2 (64x64 input) and tiny
 * frames, so that 1000 frames take a few seconds: every frame in order (`skipFrames: false`),
 * the newest frame when busy (skipped frames counted and released), never two detections at
 * once, `stop()`, `maxFps`, errors, flat tensor memory over 1000 frames, and the `<video>`
 * reader's logic on a stand-in element (the real element runs in test/browser/demo.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { Detector } from '../../src/detector';
import { detectVideo } from '../../src/video/detectVideo';
import { randomizeWeights } from '../infer/randomWeights';
import type { ImageInput } from '../../src/image/loadImage';
import type { Detection } from '../../src/detection';
import type { VideoElementLike, VideoFrameInfo } from '../../src/video/detectVideo';

const W = 16;
const H = 12;
const OPTS = { scoreThreshold: 0.05 };

/** Frame `i`: pixels that depend on i (RGBA), as ImageData-like or (odd i) an RGB tensor. */
function frame(i: number, asTensor = i % 2 === 1): ImageInput {
  const rgba = new Uint8ClampedArray(W * H * 4);
  for (let p = 0; p < W * H; p++) {
    rgba[p * 4] = (p * 7 + i * 13) & 255;
    rgba[p * 4 + 1] = (p * 3 + i * 29) & 255;
    rgba[p * 4 + 2] = (p * 11 + i * 5) & 255;
    rgba[p * 4 + 3] = 255;
  }
  if (!asTensor) return { data: rgba, width: W, height: H };
  const rgb = new Int32Array(W * H * 3);
  for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = rgba[p * 4 + c];
  return tf.tensor3d(rgb, [H, W, 3], 'int32');
}

async function* frames(n: number, made?: { count: number }): AsyncGenerator<ImageInput> {
  for (let i = 0; i < n; i++) {
    if (made) made.count++;
    yield frame(i);
  }
}

describe('Detector.detectVideo (Node, async iterable of frames)', () => {
  let det: Detector;
  let active = 0;
  let maxActive = 0;
  beforeAll(async () => {
    det = yoloFastestV2({ numClasses: 3, classNames: ['a', 'b', 'c'], inputSize: 64 });
    randomizeWeights(det.model, 3);
    det.engineThreads = 1; // tiny frames: worker hand-offs would cost more than they save
    // Count overlapping detect calls: detectVideo goes through the instance's detect.
    const orig = det.detect.bind(det) as (img: ImageInput, o?: object) => Promise<Detection[]>;
    (det as unknown as { detect: typeof orig }).detect = async (img, o) => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        return await orig(img, o);
      } finally {
        active--;
      }
    };
    await det.detect(frame(0), OPTS); // warm-up: compiles the fast path
  });
  afterAll(() => det.dispose());
  beforeEach(() => {
    maxActive = 0;
  });

  test('skipFrames false: 1000 frames, every one in order, results = detect(), tensors flat', async () => {
    const before = tf.memory().numTensors;
    const seen: { dets: Detection[]; info: VideoFrameInfo }[] = [];
    const run = det.detectVideo(frames(1000), (dets, info) => void seen.push({ dets, info }), { ...OPTS, skipFrames: false });
    const summary = await run.done;
    expect(summary).toEqual({ frames: 1000, skipped: 0, reason: 'end' });
    expect(run.running).toBe(false);
    expect(seen.map((s) => s.info.frame)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seen.every((s) => s.info.skipped === 0 && s.info.ms >= 0 && Number.isFinite(s.info.fps))).toBe(true);
    expect(maxActive).toBe(1);
    // Tensor frames (every odd one) were disposed by the loop; nothing else was left behind.
    expect(tf.memory().numTensors).toBe(before);
    // The same detections as detect() on the same frames (the random net finds some boxes).
    for (const i of [0, 1, 500, 999]) {
      const img = frame(i, false);
      expect(seen[i].dets).toEqual(await det.detect(img, OPTS));
    }
    expect(seen.reduce((n, s) => n + s.dets.length, 0)).toBeGreaterThan(0);
  });

  test('skipFrames (default): the newest frame is taken, skipped frames are counted and released, tensors flat', async () => {
    const before = tf.memory().numTensors;
    const made = { count: 0 };
    let last: VideoFrameInfo | undefined;
    let results = 0;
    const summary = await det.detectVideo(frames(300, made), (_d, info) => {
      results++;
      last = info;
    }).done;
    expect(made.count).toBe(300);
    expect(summary.reason).toBe('end');
    expect(summary.frames).toBe(results);
    // Every frame made was either detected or skipped (none lost, none twice).
    expect(summary.frames + summary.skipped).toBe(300);
    expect(last!.frame).toBe(results - 1);
    expect(maxActive).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a frame arriving while busy replaces the pending one: the loop detects the newest', async () => {
    // A producer the test drives: frame k is made only when the test allows it.
    let allowed = 1;
    let made = 0;
    let wakeProducer: (() => void) | null = null;
    let madeListener: (() => void) | null = null;
    async function* controlled(): AsyncGenerator<ImageInput> {
      for (;;) {
        while (made >= allowed) await new Promise<void>((r) => (wakeProducer = r));
        const f = { ...(frame(made, false) as object), id: made } as ImageInput;
        made++;
        madeListener?.();
        yield f;
      }
    }
    const allow = (n: number): Promise<void> =>
      new Promise((resolve) => {
        allowed = n;
        madeListener = () => {
          if (made >= n) resolve();
        };
        wakeProducer?.();
      });
    const got: { id: number; info: VideoFrameInfo }[] = [];
    let ids: number[] = [];
    const seenIds: number[] = [];
    const orig = det.detect;
    (det as unknown as { detect: (img: ImageInput, o?: object) => Promise<Detection[]> }).detect = (img, o) => {
      seenIds.push((img as unknown as { id: number }).id);
      return (orig as (i: ImageInput, o?: object) => Promise<Detection[]>).call(det, img, o);
    };
    try {
      const run = det.detectVideo(controlled(), async (_d, info) => {
        got.push({ id: seenIds[seenIds.length - 1], info });
        if (info.frame === 0) {
          // While the loop is busy with frame 0's result, frames 1, 2 and 3 arrive.
          await allow(4);
          // Let the pump take frame 3 (it pulls at most one frame per event-loop turn).
          await new Promise((r) => setTimeout(r, 20));
        } else {
          run.stop();
        }
      });
      const summary = await run.done;
      ids = got.map((g) => g.id);
      expect(ids).toEqual([0, 3]);
      expect(got[1].info.skipped).toBe(2); // frames 1 and 2
      expect(summary).toEqual({ frames: 2, skipped: 2, reason: 'stop' });
    } finally {
      (det as unknown as { detect: unknown }).detect = orig;
    }
  });

  test('stop() ends an endless source: the generator is closed, no detection runs after done', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<ImageInput> {
      try {
        for (let i = 0; ; i++) yield frame(i, false);
      } finally {
        closed = true;
      }
    }
    let after = 0;
    let stopped = false;
    const run = det.detectVideo(endless(), (_d, info) => {
      if (stopped) after++;
      if (info.frame === 5) {
        run.stop();
        stopped = true;
        run.stop(); // idempotent
      }
    });
    const summary = await run.done;
    expect(summary.reason).toBe('stop');
    expect(summary.frames).toBe(6);
    expect(after).toBe(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  test.each([false, true])('stop() while the source waits for a frame ends the loop (skipFrames %s)', async (skipFrames) => {
    async function* stalls(): AsyncGenerator<ImageInput> {
      yield frame(0, false);
      await new Promise(() => undefined); // a camera that never delivers again
    }
    let got = 0;
    const run = det.detectVideo(stalls(), () => void got++, { skipFrames });
    while (got === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    expect(run.running).toBe(true);
    run.stop();
    expect(await run.done).toEqual({ frames: 1, skipped: 0, reason: 'stop' });
  });

  test('maxFps spaces detection starts at least 1000/maxFps ms apart', async () => {
    const starts: number[] = [];
    async function* endless(): AsyncGenerator<ImageInput> {
      for (let i = 0; ; i++) yield frame(i, false);
    }
    const orig = det.detect;
    (det as unknown as { detect: (img: ImageInput, o?: object) => Promise<Detection[]> }).detect = (img, o) => {
      starts.push(performance.now());
      return (orig as (i: ImageInput, o?: object) => Promise<Detection[]>).call(det, img, o);
    };
    try {
      const run = det.detectVideo(
        endless(),
        (_d, info) => {
          if (info.frame === 4) run.stop();
        },
        { maxFps: 50 },
      );
      await run.done;
    } finally {
      (det as unknown as { detect: unknown }).detect = orig;
    }
    expect(starts.length).toBe(5);
    // A lower bound only: a loaded machine makes the gaps longer, never shorter.
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(20);
  });

  test('an error in detect or in the callback stops the loop: done rejects, or onError gets it', async () => {
    async function* bad(): AsyncGenerator<ImageInput> {
      yield frame(0, false);
      yield { data: new Uint8Array(5), width: 4, height: 4 };
      yield frame(2, false);
    }
    const before = tf.memory().numTensors;
    await expect(det.detectVideo(bad(), () => undefined, { skipFrames: false }).done).rejects.toThrow(/does not fit 4x4/);
    const errors: Error[] = [];
    const s = await det.detectVideo(
      frames(10),
      (_d, info) => {
        if (info.frame === 2) throw new Error('callback failed');
      },
      { skipFrames: false, onError: (e) => errors.push(e) },
    ).done;
    expect(s.reason).toBe('error');
    expect(s.frames).toBe(2);
    expect(errors.map((e) => e.message)).toEqual(['callback failed']);
    await new Promise((r) => setTimeout(r, 10));
    expect(tf.memory().numTensors).toBe(before);
    // The detector still works afterwards.
    expect(Array.isArray(await det.detect(frame(3, false), OPTS))).toBe(true);
  });

  test('bad arguments are clear errors', () => {
    expect(() => det.detectVideo({} as never, () => undefined)).toThrow(/<video> element, a canvas, or an async iterable/);
    expect(() => det.detectVideo(frames(1), undefined as never)).toThrow(/result callback/);
    expect(() => det.detectVideo(frames(1), () => undefined, { maxFps: 0 })).toThrow(/maxFps must be a number > 0/);
  });
});

describe('detectVideo on a <video>-like element (the reader logic, with a stand-in detect)', () => {
  /** A stand-in video: frames are "presented" by the test through requestVideoFrameCallback. */
  function fakeVideo(): VideoElementLike & { present(n: number): void; end(): void } {
    let cb: ((t: number, m: { presentedFrames?: number }) => void) | null = null;
    let presented = 0;
    const v = {
      videoWidth: 8,
      videoHeight: 8,
      readyState: 4,
      ended: false,
      currentTime: 0,
      requestVideoFrameCallback(f: (t: number, m: { presentedFrames?: number }) => void) {
        cb = f;
        return 1;
      },
      cancelVideoFrameCallback() {
        cb = null;
      },
      present(n: number) {
        presented += n;
        const f = cb;
        cb = null;
        f?.(0, { presentedFrames: presented });
      },
      end() {
        v.ended = true;
        this.present(1);
      },
    };
    return v;
  }

  test('frames presented while busy are counted as skipped; the loop ends with the video', async () => {
    const video = fakeVideo();
    const calls: unknown[] = [];
    const detect = async (img: unknown): Promise<Detection[]> => {
      calls.push(img);
      return [];
    };
    const infos: VideoFrameInfo[] = [];
    const run = detectVideo(detect, video, (_d, info) => {
      infos.push(info);
      // The next frame callback is registered after this returns; simulate frames then.
      setTimeout(() => {
        if (info.frame === 0) video.present(1); // frame 1: the next one, nothing skipped
        else if (info.frame === 1) video.present(4); // 3 frames went by while busy
        else video.end();
      }, 5);
    });
    const summary = await run.done;
    expect(calls.every((c) => c === video)).toBe(true);
    expect(infos.map((i) => i.skipped)).toEqual([0, 0, 3]);
    expect(summary).toEqual({ frames: 3, skipped: 3, reason: 'end' });
  });
});
