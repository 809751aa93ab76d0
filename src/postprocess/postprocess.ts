/**
 * Raw head outputs -> detections in original pixels, for any model: decode (spec heads), select
 * (score threshold, class), unmap (the inverse of the resize), NMS, top-k, label.
 * `Detector.postprocess` is this plus the detector's spec.
 */
import * as tf from '@tensorflow/tfjs';
import { InputSpec, ModelSpec, NmsSpec } from '../spec';
import { Detection } from '../detection';
import { decodeOutputs, DecodedOutputs } from '../decode/decode';
import { keepOnlyClasses, resolveClassFilter } from '../select/classFilter';
import { selectCandidates, topK } from '../select/selectCandidates';
import { resizeGeometry, unmapBoxes } from '../preprocess/geometry';
import { classOffsetBoxes, suppress, suppressBatched } from '../nms/nms';

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
      detectionsOf(decoded, b, {
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

interface ItemOptions {
  spec: ModelSpec;
  input: InputSpec;
  imageSize: [number, number];
  scoreThreshold: number;
  nms: NmsSpec;
  maxDetections: number;
}

/** The detections of batch item `b`: select, unmap to original pixels, suppress, top-k, label. */
function detectionsOf(d: DecodedOutputs, b: number, o: ItemOptions): Detection[] {
  const batched = o.nms.classOffset !== undefined;
  // torchvision-style NMS compares float32 scores with a float32 threshold.
  const { boxes, classes, scores } = selectCandidates(d, b, batched ? Math.fround(o.scoreThreshold) : o.scoreThreshold);
  const n = scores.length;
  if (n === 0) return [];
  // Batched NMS runs on the network-input boxes, before they are mapped back.
  const offset = batched ? classOffsetBoxes(boxes, classes, o.nms.classOffset as number) : null;
  unmapBoxes(boxes, resizeGeometry(o.input, o.imageSize));
  if (offset) {
    const kept = suppressBatched(offset.boxes, scores, offset.separated ? classes : null, o.nms.iouThreshold, o.maxDetections);
    return kept.map((i) => ({
      box: [boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]],
      score: scores[i],
      classId: classes[i],
      label: o.spec.classNames[classes[i]] ?? String(classes[i]),
    }));
  }
  const [imgH, imgW] = o.imageSize;
  // NMS runs on image-relative coordinates, as Darknet does (DIoU is not scale invariant),
  // unless a pixel offset is asked for: that convention only means something in pixels.
  let nmsBoxes: Float64Array = boxes;
  if (!o.nms.pixelOffset) {
    nmsBoxes = new Float64Array(n * 4);
    for (let i = 0; i < n * 4; i += 4) {
      nmsBoxes[i] = boxes[i] / imgW;
      nmsBoxes[i + 1] = boxes[i + 1] / imgH;
      nmsBoxes[i + 2] = boxes[i + 2] / imgW;
      nmsBoxes[i + 3] = boxes[i + 3] / imgH;
    }
  }
  const finalScores = Float64Array.from(scores);
  const keep = suppress(nmsBoxes, finalScores, o.nms.perClass ? classes : null, o.nms, o.scoreThreshold);
  return topK(keep, finalScores, o.maxDetections).map((i) => ({
    box: [boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]],
    score: finalScores[i],
    classId: classes[i],
    label: o.spec.classNames[classes[i]] ?? String(classes[i]),
  }));
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
