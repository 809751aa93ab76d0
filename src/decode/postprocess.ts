/**
 * Raw head outputs -> detections in original pixels, for any model: decode (spec heads), score
 * threshold, NMS, inverse resize. `Detector.postprocess` is this plus the detector's spec.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSpec, NmsSpec } from '../spec';
import { decodeOutputs } from './decode';
import { Detection, selectAndSuppress } from './nms';
import { keepOnlyClasses, resolveClassFilter } from './classFilter';

/** Options for postprocessing raw outputs. */
export interface PostprocessOptions {
  /** Original image size `[height, width]` (one per batch item, or one for all). */
  imageSize: [number, number] | [number, number][];
  /** Detections need score > this (strict, as Darknet). Defaults to the spec's. */
  scoreThreshold?: number;
  /** NMS IoU threshold. Defaults to the spec's. */
  iouThreshold?: number;
  /** Override NMS kind / per-class / beta / sigma. */
  nms?: Partial<NmsSpec>;
  /** Max detections per image (0 = unlimited). Defaults to the spec's. */
  maxDetections?: number;
  /**
   * Keep only these classes (names or ids, e.g. `['person', 'car']`), applied before NMS.
   * Default: all. An unknown name throws, listing valid ones.
   */
  classes?: ReadonlyArray<string | number>;
  /** Resize mode the input was made with (defaults to the spec's); only the inverse mapping uses it. */
  resize?: 'stretch' | 'letterbox';
}

/** Decode, threshold, suppress and unmap a batch of raw outputs: one detection list per image. */
export function postprocessOutputs(spec: ModelSpec, raw: tf.Tensor[], opts: PostprocessOptions): Detection[][] {
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('postprocess needs the raw output tensors');
  const n = raw[0].shape[0];
  const sizes = normaliseImageSizes(opts.imageSize, n);
  const threshold = opts.scoreThreshold ?? spec.scoreThreshold;
  if (!(threshold >= 0 && threshold < 1)) throw new Error(`scoreThreshold must be in [0, 1), got ${threshold}`);
  const nms: NmsSpec = { ...spec.nms, ...opts.nms };
  if (opts.iouThreshold !== undefined) nms.iouThreshold = opts.iouThreshold;
  if (!(nms.iouThreshold >= 0 && nms.iouThreshold <= 1)) {
    throw new Error(`iouThreshold must be in [0, 1], got ${nms.iouThreshold}`);
  }
  const wanted = opts.classes === undefined ? null : resolveClassFilter(spec.classNames, opts.classes);
  const input = { ...spec.input, resize: opts.resize ?? spec.input.resize };
  const decoded = decodeOutputs(spec, raw);
  if (wanted) keepOnlyClasses(decoded, wanted);
  const out: Detection[][] = [];
  for (let b = 0; b < n; b++) {
    out.push(
      selectAndSuppress(decoded, b, {
        spec,
        input,
        imageSize: sizes[b],
        scoreThreshold: threshold,
        nms,
        maxDetections: opts.maxDetections ?? spec.maxDetections,
      }),
    );
  }
  return out;
}

function normaliseImageSizes(s: PostprocessOptions['imageSize'], n: number): [number, number][] {
  if (!Array.isArray(s) || s.length === 0) throw new Error('postprocess needs imageSize: [height, width]');
  const list: [number, number][] = typeof s[0] === 'number' ? Array(n).fill(s) : (s as [number, number][]);
  if (list.length !== n) throw new Error(`imageSize has ${list.length} entries for a batch of ${n}`);
  for (const [h, w] of list) {
    if (!(h > 0 && w > 0)) throw new Error(`imageSize must be [height, width] > 0, got [${h}, ${w}]`);
  }
  return list;
}
