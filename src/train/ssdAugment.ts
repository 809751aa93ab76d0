/**
 * SSD's training augmentation, as ssd.pytorch / RFBNet / RFSong-7993 `data/data_augment.py`
 * (`preproc`): random crop (`_crop`: a minimum-IoU mode, 50 tries per mode, boxes kept when
 * their centre is inside), photometric distortion (`_distort`: brightness, contrast, hue,
 * saturation, each with probability 1/2), zoom out (`_expand`: a canvas up to 4x filled with the
 * mean colour, with probability `expandProb`), horizontal mirror (1/2), then the stretch to the
 * input size. Boxes smaller than 1% of the output on a side are dropped; when none is left the
 * original image is used unaugmented, as upstream does.
 *
 * Differences, all in the image arithmetic, not in the geometry: the crop, expand and resize are
 * one bilinear resize of the cropped region pasted at integer offsets (upstream materialises
 * the canvas, then picks a random cv2 interpolation); hue and saturation are applied as a colour
 * matrix (rotation about the grey axis, gain relative to luma; `augment.ts`'s `colourMatrix`)
 * instead of OpenCV's HSV round trip; colours are changed after the resize.
 */
import * as tf from '@tensorflow/tfjs';
import { InputSpec } from '../spec';
import { AugmentedSample, SourceBox, TrainBox, augment, colourMatrix } from './augment';
import { Rng, mulberry32, uniform } from '../util/random';

/** Options of {@link ssdAugment} (upstream's values by default). */
export interface SsdAugmentOptions {
  /** Probability of the zoom-out (upstream `p` = 0.5). */
  expandProb?: number;
  /** Largest zoom-out factor (4). */
  maxExpand?: number;
  /** Boxes with a side below this fraction of the output are dropped (0.01). */
  minBoxSide?: number;
  /** Photometric distortion (true). */
  photometric?: boolean;
  /** Probability of the mirror (0.5). */
  flip?: number;
}

const CROP_MODES: ([number, number] | null)[] = [null, [0.1, Infinity], [0.3, Infinity], [0.5, Infinity], [0.7, Infinity], [0.9, Infinity], [-Infinity, Infinity]];

/** Python's `random.randrange(n)` for n >= 1 (upstream crashes on 0; we take 0). */
const randrange = (rng: Rng, n: number) => (n <= 0 ? 0 : Math.floor(rng() * n));

interface Roi {
  l: number;
  t: number;
  w: number;
  h: number;
}

function iouWithRoi(b: SourceBox, r: Roi): number {
  const iw = Math.min(b.x2, r.l + r.w) - Math.max(b.x1, r.l);
  const ih = Math.min(b.y2, r.t + r.h) - Math.max(b.y1, r.t);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((b.x2 - b.x1) * (b.y2 - b.y1) + r.w * r.h - inter);
}

/** `_crop`: the region and the boxes it keeps (clipped, relative to it), or null for no crop. */
function drawCrop(rng: Rng, W: number, H: number, boxes: readonly SourceBox[]): { roi: Roi; boxes: SourceBox[] } | null {
  // Upstream loops until a mode succeeds; a mode that never can (a tiny box and IoU 0.9) would
  // loop long, so after 20 modes it gives up (as if it had drawn the no-crop mode).
  for (let m = 0; m < 20; m++) {
    const mode = CROP_MODES[Math.floor(rng() * CROP_MODES.length)];
    if (mode === null) return null;
    const [minIou, maxIou] = mode;
    for (let i = 0; i < 50; i++) {
      const scale = uniform(rng, 0.3, 1);
      const minRatio = Math.max(0.5, scale * scale);
      const maxRatio = Math.min(2, 1 / scale / scale);
      const ratio = Math.sqrt(uniform(rng, minRatio, maxRatio));
      const w = Math.trunc(scale * ratio * W);
      const h = Math.trunc((scale / ratio) * H);
      const roi = { l: randrange(rng, W - w), t: randrange(rng, H - h), w, h };
      if (w < 1 || h < 1) continue;
      const ious = boxes.map((b) => iouWithRoi(b, roi));
      if (!(minIou <= Math.min(...ious) && Math.max(...ious) <= maxIou)) continue;
      const kept: SourceBox[] = [];
      for (const b of boxes) {
        const cx = (b.x1 + b.x2) / 2;
        const cy = (b.y1 + b.y2) / 2;
        if (!(roi.l < cx && cx < roi.l + w && roi.t < cy && cy < roi.t + h)) continue;
        kept.push({
          x1: Math.max(b.x1, roi.l) - roi.l,
          y1: Math.max(b.y1, roi.t) - roi.t,
          x2: Math.min(b.x2, roi.l + w) - roi.l,
          y2: Math.min(b.y2, roi.t + h) - roi.t,
          classId: b.classId,
        });
      }
      if (kept.length === 0) continue;
      return { roi, boxes: kept };
    }
  }
  return null;
}

/** `_distort`'s random draws: brightness offset, contrast gain, hue turns, saturation gain. */
function drawDistort(rng: Rng): { beta: number; alpha: number; hue: number; sat: number } {
  const beta = rng() < 0.5 ? uniform(rng, -32, 32) : 0;
  const alpha = rng() < 0.5 ? uniform(rng, 0.5, 1.5) : 1;
  // OpenCV 8-bit hue is in 2-degree units: randint(-18, 18) -> +-36 degrees
  const hue = rng() < 0.5 ? ((Math.floor(rng() * 37) - 18) * 2) / 360 : 0;
  const sat = rng() < 0.5 ? uniform(rng, 0.5, 1.5) : 1;
  return { beta, alpha, hue, sat };
}

/** `_expand`: canvas size and where the image lands, or null. */
function drawExpand(rng: Rng, W: number, H: number, prob: number, maxExpand: number): { cw: number; ch: number; left: number; top: number } | null {
  if (rng() > prob) return null;
  for (let i = 0; i < 50; i++) {
    const scale = uniform(rng, 1, maxExpand);
    const minRatio = Math.max(0.5, 1 / scale / scale);
    const maxRatio = Math.min(2, scale * scale);
    const ratio = Math.sqrt(uniform(rng, minRatio, maxRatio));
    const ws = scale * ratio;
    const hs = scale / ratio;
    if (ws < 1 || hs < 1) continue;
    const cw = Math.trunc(ws * W);
    const ch = Math.trunc(hs * H);
    // randint is inclusive
    return { cw, ch, left: Math.floor(rng() * (cw - W + 1)), top: Math.floor(rng() * (ch - H + 1)) };
  }
  return null;
}

/** Network-domain value of the mean colour (what upstream fills the canvas with). */
function fillValue(input: InputSpec): number {
  return input.mean ? 0 : 0.5;
}

/**
 * SSD's augmentation of one image `[h, w, 3]` (RGB 0..255) and its boxes (source pixels) into
 * a network input `[H, W, 3]` as `input` describes (stretch), deterministic from `seed`.
 */
export function ssdAugment(
  image: tf.Tensor3D,
  boxes: readonly SourceBox[],
  input: InputSpec,
  opts: SsdAugmentOptions & { seed?: number } = {},
): AugmentedSample {
  if (image.rank !== 3 || image.shape[2] !== 3) throw new Error(`ssdAugment: expected an RGB image [height, width, 3], got [${image.shape.join(', ')}]`);
  if (input.resize !== 'stretch') throw new Error(`ssdAugment: the input must be stretched (SSD), got '${input.resize}'`);
  const plain = () => augment(image, boxes, input, {});
  if (boxes.length === 0) return plain();
  const rng = mulberry32(opts.seed ?? 0);
  const [H, W] = [image.shape[0], image.shape[1]];
  const crop = drawCrop(rng, W, H, boxes);
  const roi: Roi = crop ? crop.roi : { l: 0, t: 0, w: W, h: H };
  const kept: readonly SourceBox[] = crop ? crop.boxes : boxes;
  const colour = opts.photometric === false ? null : drawDistort(rng);
  const expand = drawExpand(rng, roi.w, roi.h, opts.expandProb ?? 0.5, opts.maxExpand ?? 4);
  const mirror = rng() < (opts.flip ?? 0.5);
  const canvas = expand ?? { cw: roi.w, ch: roi.h, left: 0, top: 0 };
  const [netH, netW] = input.size;
  const sx = netW / canvas.cw;
  const sy = netH / canvas.ch;
  const minSide = opts.minBoxSide ?? 0.01;
  const out: TrainBox[] = [];
  for (const b of kept) {
    let x1 = (b.x1 + canvas.left) * sx;
    let x2 = (b.x2 + canvas.left) * sx;
    const y1 = (b.y1 + canvas.top) * sy;
    const y2 = (b.y2 + canvas.top) * sy;
    if (mirror) [x1, x2] = [netW - x2, netW - x1];
    if (Math.min((x2 - x1) / netW, (y2 - y1) / netH) > minSide) out.push({ x1, y1, x2, y2, classId: b.classId });
  }
  if (out.length === 0) return plain();
  const img = tf.tidy(() => {
    // content size and offset of the (cropped) image inside the output, integer pixels
    const top = Math.round(canvas.top * sy);
    const left = Math.round(canvas.left * sx);
    const ch = Math.max(1, Math.min(netH - top, Math.round(roi.h * sy)));
    const cw = Math.max(1, Math.min(netW - left, Math.round(roi.w * sx)));
    let x: tf.Tensor = tf.image.resizeBilinear(tf.cast(tf.slice(image, [roi.t, roi.l, 0], [roi.h, roi.w, 3]), 'float32') as tf.Tensor3D, [ch, cw], false, true);
    if (colour) {
      if (colour.beta !== 0) x = tf.clipByValue(tf.add(x, colour.beta), 0, 255);
      if (colour.alpha !== 1) x = tf.clipByValue(tf.mul(x, colour.alpha), 0, 255);
      if (colour.hue !== 0 || colour.sat !== 1) {
        const m = tf.tensor2d(colourMatrix(colour.hue, colour.sat, 1));
        x = tf.clipByValue(tf.reshape(tf.matMul(tf.reshape(x, [ch * cw, 3]), m), [ch, cw, 3]), 0, 255);
      }
    }
    x = tf.mul(x, input.scale);
    if (input.channelOrder === 'BGR') x = tf.reverse(x, -1);
    if (input.mean) x = tf.sub(x, input.mean);
    if (input.std) x = tf.div(x, input.std);
    x = tf.pad(x, [[top, netH - ch - top], [left, netW - cw - left], [0, 0]], fillValue(input));
    return (mirror ? tf.reverse(x, 1) : x) as tf.Tensor3D;
  });
  return { image: img, boxes: out };
}
