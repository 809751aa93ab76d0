import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { augment, augmentWithParams, mosaic, colourMatrix, TrainBox, SourceBox } from '../../src/train/augment';
import { preprocessImage } from '../../src/preprocess/preprocess';
import { InputSpec } from '../../src/spec';
import { drawDetections } from '../../src/draw/drawDetections';

const W = 200;
const H = 160;
const BG = 128;
const COLOURS: [number, number, number][] = [[230, 20, 20], [20, 220, 30], [25, 30, 225]];
const BOXES: SourceBox[] = [
  { x1: 20, y1: 30, x2: 80, y2: 90, classId: 0 },
  { x1: 120, y1: 20, x2: 184, y2: 70, classId: 1 },
  { x1: 60, y1: 100, x2: 150, y2: 152, classId: 2 },
];

/** A grey image with solid coloured rectangles exactly at the boxes. */
function makeImage(w = W, h = H, boxes = BOXES): { data: Int32Array; tensor: tf.Tensor3D } {
  const data = new Int32Array(w * h * 3).fill(BG);
  for (const b of boxes) {
    for (let y = b.y1; y < b.y2; y++) for (let x = b.x1; x < b.x2; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = COLOURS[b.classId][c];
  }
  return { data, tensor: tf.tensor3d(data, [h, w, 3], 'int32') };
}

const STRETCH: InputSpec = { size: [128, 128], resize: 'stretch', channelOrder: 'BGR', scale: 1 / 255 };
const LETTERBOX: InputSpec = { size: [128, 160], resize: 'letterbox', letterbox: { align: 'center', padValue: 0.5 }, channelOrder: 'RGB', scale: 1 / 255 };
const TOPLEFT: InputSpec = {
  size: [128, 128], resize: 'letterbox', letterbox: { align: 'top-left', padValue: 0 }, channelOrder: 'RGB', scale: 1 / 255,
  mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
};

/** Back to RGB 0..255 from the network domain. */
function denormalise(x: tf.Tensor3D, input: InputSpec): Float32Array {
  return tf.tidy(() => {
    let y: tf.Tensor = x;
    if (input.std) y = tf.mul(y, input.std);
    if (input.mean) y = tf.add(y, input.mean);
    if (input.channelOrder === 'BGR') y = tf.reverse(y, -1);
    return tf.div(y, input.scale);
  }).dataSync() as Float32Array;
}

/**
 * Geometry check: pixels well inside each output box have that box's colour (dominant channel
 * and, without colour jitter, the exact colour); pixels away from every box are grey.
 */
function checkGeometry(
  px: Float32Array, h: number, w: number, boxes: TrainBox[], exact: boolean, fill?: number[],
): { inside: number; outside: number } {
  let inside = 0;
  let outside = 0;
  const m = 2;
  for (const b of boxes) {
    const col = COLOURS[b.classId];
    const dom = col.indexOf(Math.max(...col));
    for (let y = Math.ceil(b.y1 + m); y < Math.floor(b.y2 - m); y++) {
      for (let x = Math.ceil(b.x1 + m); x < Math.floor(b.x2 - m); x++) {
        const p = [px[(y * w + x) * 3], px[(y * w + x) * 3 + 1], px[(y * w + x) * 3 + 2]];
        if (exact) {
          for (let c = 0; c < 3; c++) if (Math.abs(p[c] - col[c]) > 1) throw new Error(`box ${JSON.stringify(b)} pixel (${x},${y}) = ${p} not ${col}`);
        } else if (p.indexOf(Math.max(...p)) !== dom || Math.max(...p) - Math.min(...p) < 40) {
          throw new Error(`box ${JSON.stringify(b)} pixel (${x},${y}) = ${p} lost the colour ${col}`);
        }
        inside++;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const near = boxes.some((b) => x + 0.5 > b.x1 - m && x + 0.5 < b.x2 + m && y + 0.5 > b.y1 - m && y + 0.5 < b.y2 + m);
      if (near) continue;
      const p = [px[(y * w + x) * 3], px[(y * w + x) * 3 + 1], px[(y * w + x) * 3 + 2]];
      const isFill = fill !== undefined && p.every((v, c) => Math.abs(v - fill[c]) < 0.5);
      if (!isFill && Math.max(...p) - Math.min(...p) > 6) throw new Error(`pixel (${x},${y}) = ${p} outside every box is not grey`);
      outside++;
    }
  }
  return { inside, outside };
}

const outDir = path.join(os.tmpdir(), 'yolo-tfjs-augment-test');

async function drawSample(name: string, px: Float32Array, h: number, w: number, boxes: TrainBox[]): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sharp = require('sharp') as (input: Buffer, o?: import('sharp').SharpOptions) => import('sharp').Sharp;
  fs.mkdirSync(outDir, { recursive: true });
  const u8 = Uint8Array.from(px, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const png = await sharp(Buffer.from(u8), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  const file = path.join(outDir, `${name}.png`);
  await drawDetections(png, boxes.map((b) => ({ box: [b.x1, b.y1, b.x2, b.y2], score: 1, classId: b.classId, label: `c${b.classId}` })), file);
  return file;
}

describe('augment', () => {
  test('without augmentation equals preprocessImage exactly (stretch, letterbox centre, top-left + mean/std)', () => {
    const { tensor } = makeImage();
    for (const input of [STRETCH, LETTERBOX, TOPLEFT]) {
      const a = augment(tensor, BOXES, input, {});
      const p = preprocessImage(tensor, input);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a.image, tf.squeeze(p.tensor, [0])))).dataSync()[0]);
      expect(diff).toBe(0);
      // boxes: forward map of the preprocess geometry
      const g = p.geometry;
      const b0 = a.boxes[0];
      expect(b0.x1).toBeCloseTo(BOXES[0].x1 / g.inverseScale[1] + g.offset[1], 9);
      expect(b0.y2).toBeCloseTo(BOXES[0].y2 / g.inverseScale[0] + g.offset[0], 9);
      a.image.dispose();
      p.tensor.dispose();
    }
    tensor.dispose();
  });

  test('scale, translation and flip move the boxes with the pixels (checked over many seeds, drawn to PNG)', async () => {
    const { tensor } = makeImage();
    let checked = 0;
    let flips = 0;
    for (const input of [STRETCH, LETTERBOX, TOPLEFT]) {
      for (let seed = 1; seed <= 12; seed++) {
        const a = augment(tensor, BOXES, input, { seed, scale: 0.5, translate: 0.2, flip: 0.5, fillValue: input.mean ? 0 : 0.5 });
        const [h, w] = input.size;
        expect(a.image.shape).toEqual([h, w, 3]);
        const px = denormalise(a.image, input);
        // the fill colour: grey, or (mean/std input, pad 0) the mean colour
        const fill = input.mean ? input.mean.map((v) => v * 255) : undefined;
        const r = checkGeometry(px, h, w, a.boxes, true, fill);
        checked += r.inside;
        for (const b of a.boxes) {
          expect(b.x1).toBeGreaterThanOrEqual(0);
          expect(b.y1).toBeGreaterThanOrEqual(0);
          expect(b.x2).toBeLessThanOrEqual(w);
          expect(b.y2).toBeLessThanOrEqual(h);
        }
        if (seed <= 2) await drawSample(`${input.resize}-${input.letterbox?.align ?? 'stretch'}-${seed}`, px, h, w, a.boxes);
        a.image.dispose();
      }
    }
    // flips happened for some seeds: compare a flipped and unflipped render of the same draw
    const p = { scale: 0.9, translate: [0.05, -0.1] as [number, number], flip: false, hsv: [0, 1, 1] as [number, number, number] };
    const a = augmentWithParams(tensor, BOXES, STRETCH, p);
    const b = augmentWithParams(tensor, BOXES, STRETCH, { ...p, flip: true });
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.reverse(a.image, 1), b.image))).dataSync()[0]);
    expect(d).toBe(0);
    expect(b.boxes[0].x1).toBeCloseTo(128 - a.boxes[0].x2, 9);
    flips++;
    tf.dispose([a.image, b.image, tensor]);
    expect(checked).toBeGreaterThan(10000);
    expect(flips).toBe(1);
    expect(fs.existsSync(path.join(outDir, 'stretch-stretch-1.png'))).toBe(true);
  });

  test('deterministic under a seed; different seeds differ', () => {
    const { tensor } = makeImage();
    const o = { scale: 0.5, translate: 0.2, flip: 0.5, hsv: [0.015, 0.7, 0.4] as [number, number, number] };
    const a = augment(tensor, BOXES, STRETCH, { ...o, seed: 7 });
    const b = augment(tensor, BOXES, STRETCH, { ...o, seed: 7 });
    const c = augment(tensor, BOXES, STRETCH, { ...o, seed: 8 });
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a.image, b.image))).dataSync()[0])).toBe(0);
    expect(a.boxes).toEqual(b.boxes);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a.image, c.image))).dataSync()[0])).toBeGreaterThan(0.01);
    tf.dispose([a.image, b.image, c.image, tensor]);
  });

  test('colour jitter keeps grey grey and each rectangle its dominant colour', async () => {
    const { tensor } = makeImage();
    for (let seed = 1; seed <= 6; seed++) {
      const a = augment(tensor, BOXES, STRETCH, { seed, scale: 0.3, translate: 0.1, flip: 0.5, hsv: [0.015, 0.7, 0.4] });
      const px = denormalise(a.image, STRETCH);
      checkGeometry(px, 128, 128, a.boxes, false);
      if (seed === 1) await drawSample('hsv-1', px, 128, 128, a.boxes);
      a.image.dispose();
    }
    // the matrix itself: identity at zero jitter, grey axis preserved by hue and saturation
    const I = colourMatrix(0, 1, 1);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(I[i][j]).toBeCloseTo(i === j ? 1 : 0, 12);
    const M = colourMatrix(0.1, 0.5, 1);
    for (let j = 0; j < 3; j++) expect(M[0][j] + M[1][j] + M[2][j]).toBeCloseTo(1, 12);
    tensor.dispose();
  });

  test('mosaic: four images in four tiles, boxes follow (drawn to PNG)', async () => {
    const imgs = [0, 1, 2, 3].map(() => makeImage().tensor);
    for (let seed = 1; seed <= 4; seed++) {
      const m = mosaic(imgs, [BOXES, BOXES, BOXES, BOXES], LETTERBOX, { seed, scale: 0.3, translate: 0.1, flip: 0.5 });
      expect(m.image.shape).toEqual([128, 160, 3]);
      const px = denormalise(m.image, LETTERBOX);
      const r = checkGeometry(px, 128, 160, m.boxes, true);
      expect(r.inside).toBeGreaterThan(500);
      expect(m.boxes.length).toBeGreaterThanOrEqual(4);
      if (seed === 1) await drawSample('mosaic-1', px, 128, 160, m.boxes);
      m.image.dispose();
    }
    expect(() => mosaic(imgs.slice(0, 3), [BOXES, BOXES, BOXES], LETTERBOX)).toThrow(/exactly 4 images/);
    tf.dispose(imgs);
  });

  test('boxes leaving the image are clipped, tiny ones dropped', () => {
    const { tensor } = makeImage(100, 100, []);
    const boxes: SourceBox[] = [
      { x1: 80, y1: 10, x2: 100, y2: 40, classId: 0 }, // right edge
      { x1: 50, y1: 50, x2: 52, y2: 52, classId: 1 }, // 2x2 -> 1.28 px at 64
    ];
    const input: InputSpec = { ...STRETCH, size: [64, 64] };
    // shift right by 10% of 64 (6.4 -> 6 px): the first box is cut at the right edge
    const a = augmentWithParams(tensor, boxes, input, { scale: 1, translate: [0, 0.1], flip: false, hsv: [0, 1, 1] });
    expect(a.boxes.length).toBe(1);
    expect(a.boxes[0].x2).toBe(64);
    expect(a.boxes[0].x1).toBeCloseTo(80 * 0.64 + 6, 9);
    expect(a.boxes[0].y1).toBeCloseTo(6.4, 9);
    // mostly outside (< 10 % of its area left) -> dropped
    const b = augmentWithParams(tensor, boxes, input, { scale: 1, translate: [0, 0.3], flip: false, hsv: [0, 1, 1] });
    expect(b.boxes.length).toBe(0);
    tf.dispose([a.image, b.image, tensor]);
  });

  test('bad input is an error naming the problem; no tensors leak', () => {
    const gray = tf.zeros([10, 10, 1]) as tf.Tensor3D;
    expect(() => augment(gray, [], STRETCH)).toThrow(/RGB image tensor \[height, width, 3\]/);
    gray.dispose();
    const { tensor } = makeImage();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) augment(tensor, BOXES, TOPLEFT, { seed: i, scale: 0.5, translate: 0.2, flip: 0.5, hsv: [0.015, 0.7, 0.4] }).image.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tensor.dispose();
  });
});
