/**
 * Training-time augmentation on tensors, deterministic under a seed: the spec's resize
 * (stretch or letterbox) combined with a random scale and translation, horizontal flip, an
 * HSV-style colour jitter and (optionally) a 4-image mosaic. Boxes go through the same
 * geometry: scaled, shifted, flipped, clipped to the input, and dropped when too small.
 *
 * Geometry is exact in the pixel-edge convention: an image is resized with half-pixel bilinear
 * sampling (as `preprocessImage` does) to a content size `[ch, cw]` and pasted at an integer
 * `[top, left]`, so a point x maps to `x * cw / w + left`. With no augmentation the result
 * equals `preprocessImage` bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { InputSpec } from '../spec';
import { resizeGeometry } from '../preprocess/geometry';
import { Rng, mulberry32, uniform } from '../util/random';
import type { SsdAugmentOptions } from './ssdAugment';

/** A box in network-input pixels, `classId` the class index. */
export interface TrainBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  classId: number;
}

/** A box in source-image pixels (a `DatasetBox` fits). */
export interface SourceBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  classId: number;
}

/** Augmentation settings; every field optional, `{}` means "resize only". */
export interface AugmentOptions {
  /** Random scale gain: the content is scaled by U(1 - scale, 1 + scale). Default 0. */
  scale?: number;
  /** Random translation as a fraction of the input size, U(-t, t) per axis. Default 0. */
  translate?: number;
  /** Probability of a horizontal flip. Default 0. */
  flip?: number;
  /**
   * Colour jitter gains `[hue, saturation, value]` (YOLOv5's hsv_h/s/v): hue rotated by
   * U(-h, h) of a full turn about the grey axis, saturation (towards/away from luma) and value
   * multiplied by 1 + U(-g, g). Default none.
   */
  hsv?: [number, number, number];
  /** Probability of a 4-image mosaic (used by `batches`, which supplies the extra images). Default 0. */
  mosaic?: number;
  /** Boxes narrower or shorter than this (network pixels) after clipping are dropped. Default 2. */
  minBoxSize?: number;
  /** Boxes keeping less than this fraction of their (transformed) area after clipping are dropped. Default 0.1. */
  minAreaRatio?: number;
  /**
   * Fill value of uncovered input area, in the final (normalised) domain. Default: the spec's
   * letterbox pad value, else 0.5 without mean/std (grey) or 0 with them.
   */
  fillValue?: number;
  /**
   * SSD's augmentation pipeline (random crop, photometric distortion, zoom out, mirror; see
   * `ssdAugment`) instead of the scale / translate / flip / hsv one; `true` for its defaults.
   * Used by `batches` for every sample (no mosaic).
   */
  ssd?: SsdAugmentOptions | true;
}

/** YOLOv5-like defaults for fine-tuning (no mosaic). */
export const DEFAULT_AUGMENT: Readonly<AugmentOptions> = Object.freeze({
  scale: 0.25,
  translate: 0.1,
  flip: 0.5,
  hsv: [0.015, 0.5, 0.3] as [number, number, number],
  mosaic: 0,
});

/** The result of an augmentation: a `[H, W, 3]` network input (caller disposes) and its boxes. */
export interface AugmentedSample {
  image: tf.Tensor3D;
  boxes: TrainBox[];
}

/** Random draws of one single-image augmentation (exposed for tests and debugging). */
export interface AugmentParams {
  scale: number;
  /** Translation as a fraction of the input `[y, x]`. */
  translate: [number, number];
  flip: boolean;
  /** Colour gains `[hueTurns, saturation, value]` (hue in turns, others multipliers). */
  hsv: [number, number, number];
}

/** Draw the random parameters of one augmentation from `rng` (fixed draw order). */
export function drawAugmentParams(rng: Rng, o: AugmentOptions): AugmentParams {
  const s = o.scale ?? 0;
  const t = o.translate ?? 0;
  const scale = uniform(rng, 1 - s, 1 + s);
  const ty = uniform(rng, -t, t);
  const tx = uniform(rng, -t, t);
  const flip = rng() < (o.flip ?? 0);
  const [hg, sg, vg] = o.hsv ?? [0, 0, 0];
  const hsv: [number, number, number] = [uniform(rng, -hg, hg), 1 + uniform(rng, -sg, sg), 1 + uniform(rng, -vg, vg)];
  return { scale, translate: [ty, tx], flip, hsv };
}

function checkInputs(image: tf.Tensor, input: InputSpec): void {
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new Error(`augment: expected an RGB image tensor [height, width, 3], got shape [${image.shape.join(', ')}]`);
  }
  const [h, w] = input.size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
    throw new Error(`augment: input size must be positive integers, got [${input.size.join(', ')}]`);
  }
}

/**
 * The 3x3 colour matrix (row-vector convention, `rgb' = rgb @ M`) of a hue rotation by
 * `hueTurns` about the grey axis, a saturation gain relative to luma (BT.601) and a value gain.
 * Grey stays grey under hue and saturation changes.
 */
export function colourMatrix(hueTurns: number, sat: number, val: number): number[][] {
  const th = hueTurns * 2 * Math.PI;
  const c = Math.cos(th);
  const s = Math.sin(th);
  const k = 1 / Math.sqrt(3);
  // Rodrigues rotation about (1,1,1)/sqrt(3), column-vector form R; row-vector form is R^T.
  const R: number[][] = [
    [c + (1 - c) / 3, (1 - c) / 3 - k * s, (1 - c) / 3 + k * s],
    [(1 - c) / 3 + k * s, c + (1 - c) / 3, (1 - c) / 3 - k * s],
    [(1 - c) / 3 - k * s, (1 - c) / 3 + k * s, c + (1 - c) / 3],
  ];
  const luma = [0.299, 0.587, 0.114];
  // Saturation (column form): S[j][i] = sat*delta + (1-sat)*luma[i].
  const S = [0, 1, 2].map((j) => [0, 1, 2].map((i) => (i === j ? sat : 0) + (1 - sat) * luma[i]));
  // Column form total: val * S * R; row form M = (val * S * R)^T.
  const SR = [0, 1, 2].map((r) => [0, 1, 2].map((cc) => S[r][0] * R[0][cc] + S[r][1] * R[1][cc] + S[r][2] * R[2][cc]));
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => val * SR[j][i]));
}

function defaultFill(input: InputSpec, o: AugmentOptions): number {
  if (o.fillValue !== undefined) return o.fillValue;
  if (input.letterbox) return input.letterbox.padValue;
  return input.mean ? 0 : 0.5;
}

/** scale, channel order, mean/std: the per-pixel part of `preprocessImage`. */
function normalise(x: tf.Tensor3D, input: InputSpec): tf.Tensor3D {
  let y = tf.mul(x, input.scale) as tf.Tensor3D;
  if (input.channelOrder === 'BGR') y = tf.reverse(y, -1);
  if (input.mean) y = tf.sub(y, input.mean);
  if (input.std) y = tf.div(y, input.std);
  return y;
}

/** Where the content lands: content size and integer top-left, possibly partly outside. */
interface Placement {
  contentSize: [number, number];
  offset: [number, number];
}

function placement(input: InputSpec, imageSize: [number, number], p: AugmentParams): Placement {
  const g = resizeGeometry(input, imageSize);
  const [bh, bw] = g.contentSize;
  const ch = Math.max(1, Math.round(bh * p.scale));
  const cw = Math.max(1, Math.round(bw * p.scale));
  const [netH, netW] = input.size;
  const cy = g.offset[0] + bh / 2;
  const cx = g.offset[1] + bw / 2;
  const top = ch === bh && p.translate[0] === 0 ? g.offset[0] : Math.round(cy - ch / 2 + p.translate[0] * netH);
  const left = cw === bw && p.translate[1] === 0 ? g.offset[1] : Math.round(cx - cw / 2 + p.translate[1] * netW);
  return { contentSize: [ch, cw], offset: [top, left] };
}

/** Resize, colour, normalise and paste (no flip); returns a `[H, W, 3]` tensor. */
function renderPlaced(image: tf.Tensor3D, input: InputSpec, pl: Placement, p: AugmentParams, fill: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [netH, netW] = input.size;
    const [h, w] = [image.shape[0], image.shape[1]];
    const [ch, cw] = pl.contentSize;
    const [top, left] = pl.offset;
    const r0 = Math.max(0, -top);
    const r1 = Math.min(ch, netH - top);
    const c0 = Math.max(0, -left);
    const c1 = Math.min(cw, netW - left);
    if (r1 <= r0 || c1 <= c0) return tf.fill([netH, netW, 3], fill) as tf.Tensor3D;
    let x: tf.Tensor3D = image.dtype === 'float32' ? image : tf.cast(image, 'float32');
    if (ch !== h || cw !== w) x = tf.image.resizeBilinear(x, [ch, cw], false, true);
    if (r0 > 0 || c0 > 0 || r1 < ch || c1 < cw) x = tf.slice(x, [r0, c0, 0], [r1 - r0, c1 - c0, 3]);
    const [hue, sat, val] = p.hsv;
    if (hue !== 0 || sat !== 1 || val !== 1) {
      const m = tf.tensor2d(colourMatrix(hue, sat, val));
      const [rh, rw] = [x.shape[0], x.shape[1]];
      x = tf.clipByValue(tf.reshape(tf.matMul(tf.reshape(x, [rh * rw, 3]), m), [rh, rw, 3]), 0, 255) as tf.Tensor3D;
    }
    x = normalise(x, input);
    const pt = top + r0;
    const pl2 = left + c0;
    const pb = netH - pt - (r1 - r0);
    const pr = netW - pl2 - (c1 - c0);
    if (pt > 0 || pb > 0 || pl2 > 0 || pr > 0) x = tf.pad(x, [[pt, pb], [pl2, pr], [0, 0]], fill);
    return x;
  });
}

/** Map source boxes through a placement (and an extra offset), clip to `[0, clipW] x [0, clipH]`, filter. */
function mapBoxes(
  boxes: readonly SourceBox[],
  imageSize: [number, number],
  pl: Placement,
  clip: [number, number, number, number],
  o: AugmentOptions,
): TrainBox[] {
  const [h, w] = imageSize;
  const sy = pl.contentSize[0] / h;
  const sx = pl.contentSize[1] / w;
  const [cy0, cx0, cy1, cx1] = clip;
  const out: TrainBox[] = [];
  for (const b of boxes) {
    const x1 = b.x1 * sx + pl.offset[1];
    const y1 = b.y1 * sy + pl.offset[0];
    const x2 = b.x2 * sx + pl.offset[1];
    const y2 = b.y2 * sy + pl.offset[0];
    const kept = clipAndFilter(x1, y1, x2, y2, cy0, cx0, cy1, cx1, o);
    if (kept) out.push({ ...kept, classId: b.classId });
  }
  return out;
}

function clipAndFilter(
  x1: number, y1: number, x2: number, y2: number,
  cy0: number, cx0: number, cy1: number, cx1: number,
  o: AugmentOptions,
): { x1: number; y1: number; x2: number; y2: number } | null {
  const area = (x2 - x1) * (y2 - y1);
  const nx1 = Math.min(Math.max(x1, cx0), cx1);
  const ny1 = Math.min(Math.max(y1, cy0), cy1);
  const nx2 = Math.min(Math.max(x2, cx0), cx1);
  const ny2 = Math.min(Math.max(y2, cy0), cy1);
  const minSize = o.minBoxSize ?? 2;
  if (nx2 - nx1 < minSize || ny2 - ny1 < minSize) return null;
  if (area > 0 && ((nx2 - nx1) * (ny2 - ny1)) / area < (o.minAreaRatio ?? 0.1)) return null;
  return { x1: nx1, y1: ny1, x2: nx2, y2: ny2 };
}

function flipBoxes(boxes: TrainBox[], width: number): TrainBox[] {
  return boxes.map((b) => ({ x1: width - b.x2, y1: b.y1, x2: width - b.x1, y2: b.y2, classId: b.classId }));
}

/**
 * Augment one image `[h, w, 3]` (RGB, 0..255, any numeric dtype) and its boxes (source pixels)
 * into a network input `[H, W, 3]` as `input` describes, with explicit random draws `params`.
 */
export function augmentWithParams(
  image: tf.Tensor3D,
  boxes: readonly SourceBox[],
  input: InputSpec,
  params: AugmentParams,
  o: AugmentOptions = {},
): AugmentedSample {
  checkInputs(image, input);
  const imageSize: [number, number] = [image.shape[0], image.shape[1]];
  const pl = placement(input, imageSize, params);
  const [netH, netW] = input.size;
  const placed = renderPlaced(image, input, pl, params, defaultFill(input, o));
  let out = mapBoxes(boxes, imageSize, pl, [0, 0, netH, netW], o);
  if (!params.flip) return { image: placed, boxes: out };
  const flipped = tf.tidy(() => tf.reverse(placed, 1) as tf.Tensor3D);
  placed.dispose();
  out = flipBoxes(out, netW);
  return { image: flipped, boxes: out };
}

/**
 * Augment one image and its boxes, deterministically from `seed`: resize as `input` says
 * (stretch/letterbox), random scale and translation, horizontal flip, colour jitter. Boxes
 * leaving the input are clipped; boxes that become tiny are dropped. With `opts = {}` the image
 * equals `preprocessImage(image, input)` exactly. The caller disposes `result.image`.
 */
export function augment(
  image: tf.Tensor3D,
  boxes: readonly SourceBox[],
  input: InputSpec,
  opts: AugmentOptions & { seed?: number } = {},
): AugmentedSample {
  const rng = mulberry32(opts.seed ?? 0);
  return augmentWithParams(image, boxes, input, drawAugmentParams(rng, opts), opts);
}

/**
 * A 4-image mosaic, deterministic from `seed`: the input is split at a random centre (25-75%
 * of each side) into four tiles; image i fills tile i (top-left, top-right, bottom-left,
 * bottom-right) with its own random scale, translation and colour, resized as `input` says
 * (stretch or letterbox within the tile); then the whole mosaic may be flipped.
 */
export function mosaic(
  images: readonly tf.Tensor3D[],
  boxes: readonly (readonly SourceBox[])[],
  input: InputSpec,
  opts: AugmentOptions & { seed?: number } = {},
): AugmentedSample {
  if (images.length !== 4 || boxes.length !== 4) {
    throw new Error(`mosaic: needs exactly 4 images and 4 box lists, got ${images.length} and ${boxes.length}`);
  }
  for (const im of images) checkInputs(im, input);
  const rng = mulberry32(opts.seed ?? 0);
  const [netH, netW] = input.size;
  const yc = Math.round(uniform(rng, 0.25, 0.75) * netH);
  const xc = Math.round(uniform(rng, 0.25, 0.75) * netW);
  const flip = rng() < (opts.flip ?? 0);
  const fill = defaultFill(input, opts);
  const tiles: { y: number; x: number; h: number; w: number }[] = [
    { y: 0, x: 0, h: yc, w: xc },
    { y: 0, x: xc, h: yc, w: netW - xc },
    { y: yc, x: 0, h: netH - yc, w: xc },
    { y: yc, x: xc, h: netH - yc, w: netW - xc },
  ];
  const parts: tf.Tensor3D[] = [];
  let out: TrainBox[] = [];
  try {
    tiles.forEach((t, i) => {
      const p = { ...drawAugmentParams(rng, opts), flip: false };
      const tileInput: InputSpec = { ...input, size: [t.h, t.w] };
      const imageSize: [number, number] = [images[i].shape[0], images[i].shape[1]];
      const pl = placement(tileInput, imageSize, p);
      parts.push(renderPlaced(images[i], tileInput, pl, p, fill));
      const shifted: Placement = { contentSize: pl.contentSize, offset: [pl.offset[0] + t.y, pl.offset[1] + t.x] };
      out = out.concat(mapBoxes(boxes[i], imageSize, shifted, [t.y, t.x, t.y + t.h, t.x + t.w], opts));
    });
    const image = tf.tidy(() => {
      const top = tf.concat([parts[0], parts[1]], 1);
      const bottom = tf.concat([parts[2], parts[3]], 1);
      const m = tf.concat([top, bottom], 0) as tf.Tensor3D;
      return flip ? (tf.reverse(m, 1) as tf.Tensor3D) : m;
    });
    return { image, boxes: flip ? flipBoxes(out, netW) : out };
  } finally {
    tf.dispose(parts);
  }
}
