/**
 * The training loss of a detector, chosen from its spec's head kind, using the reference
 * losses of `src/train/losses/`:
 * - `darknet` heads -> keras-yolo3's loss ({@link yoloV3Loss});
 * - `yolov5` heads -> YOLO-FastestV2's loss ({@link yoloFastestV2Loss});
 * - `anchor-deltas` heads -> EfficientDet's focal + smooth-L1 loss ({@link efficientDetLoss}),
 *   with the anchors of `generateAnchors` (the same grid decode uses);
 * - `ssd` heads -> SSD's MultiBox loss ({@link multiboxLoss}: IoU matching, hard negative mining
 *   3:1, smooth L1 on encoded offsets), with the spec's priors.
 * Each takes the raw outputs of `model.apply(x, {training: true})` and the batch's boxes in
 * network-input pixels (`TrainBox`, the losses' `GroundTruthBox`), and returns scalar terms.
 *
 * Darknet anchors: keras-yolo3 matches each box to the best of ALL the cfg's anchors and keeps
 * it only at the scales whose mask holds that anchor. A spec keeps only the anchors its heads
 * use, so by default the full list is rebuilt as the union of the heads' anchors in head order
 * (duplicates merged, so an anchor shared by two masks still targets both scales). When the cfg
 * has an anchor no mask uses (YOLOv4-tiny's anchor 0, 10x14), that anchor is missing: a box it
 * fits best would be DROPPED by keras-yolo3 but here goes to its best remaining anchor (so very
 * small boxes are trained instead of ignored). Pass the cfg's `anchors` and `anchorMask` in
 * {@link LossForSpecOptions} to reproduce keras-yolo3 exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { AnchorDeltasHeadSpec, DarknetHeadSpec, ModelSpec, SsdHeadSpec, Yolov5HeadSpec } from '../spec';
import { generateAnchors } from '../decode/anchors';
import { TrainBox } from './augment';
import { modelFamily } from './modelParts';
import { efficientDetLoss, multiboxLoss, yoloFastestV2Loss, yoloV3Loss } from './losses';
import type { LossTerms } from './losses';
import { scaledYoloLoss } from '../models/scaledYolov4/loss';

export type { LossTerms } from './losses';

/** A training loss: raw outputs (training mode) + boxes (network pixels) -> terms. */
export type TrainLoss = (outputs: tf.Tensor[], boxes: TrainBox[][], spec: ModelSpec) => LossTerms;

/** Options of {@link lossForSpec}. */
export interface LossForSpecOptions {
  /**
   * Darknet heads: the cfg's FULL anchor list `[w, h]` (input pixels, cfg order). Default: the
   * union of the spec heads' anchors (see the file comment).
   */
  anchors?: [number, number][];
  /** Darknet heads: anchor indices of each head, in head order (the cfg's masks). Required with `anchors`. */
  anchorMask?: number[][];
  /** Darknet heads: box term, keras-yolo3's (default) or CIoU. */
  boxLoss?: 'keras' | 'ciou';
}

/**
 * The full anchor list and per-head masks of Darknet heads, rebuilt from the spec: the union
 * of the heads' anchors in head order (exact duplicates merged).
 */
export function darknetAnchorsFromSpec(heads: DarknetHeadSpec[]): { anchors: [number, number][]; anchorMask: number[][] } {
  const anchors: [number, number][] = [];
  const anchorMask = heads.map((h) => h.anchors.map(([w, hh]) => {
    let i = anchors.findIndex(([aw, ah]) => aw === w && ah === hh);
    if (i < 0) {
      anchors.push([w, hh]);
      i = anchors.length - 1;
    }
    return i;
  }));
  return { anchors, anchorMask };
}

function darknetLoss(spec: ModelSpec, o: LossForSpecOptions): TrainLoss {
  const heads = spec.heads as DarknetHeadSpec[];
  if (heads.some((h) => h.newCoords)) {
    // new_coords=1 (Scaled-YOLOv4 cfgs): outputs are probabilities already; the yolov4 branch's loss
    if (!heads.every((h) => h.newCoords)) throw new Error(`lossForSpec: '${spec.name}' mixes new_coords and classic [yolo] heads`);
    if (o.anchors || o.anchorMask || o.boxLoss) throw new Error('lossForSpec: anchors, anchorMask and boxLoss apply to classic (new_coords=0) darknet heads');
    const opts = { inputSize: spec.input.size, anchors: heads.map((h) => h.anchors), numClasses: spec.classNames.length, activated: true, scaleXY: heads.map((h) => h.scaleXY) };
    return (outputs, boxes) => scaledYoloLoss(heads.map((h) => outputs[h.output]), boxes, opts);
  }
  if ((o.anchors === undefined) !== (o.anchorMask === undefined)) throw new Error('lossForSpec: give both anchors and anchorMask (the cfg\'s anchors and masks), or neither');
  const { anchors, anchorMask } = o.anchors && o.anchorMask ? { anchors: o.anchors, anchorMask: o.anchorMask } : darknetAnchorsFromSpec(heads);
  if (anchorMask.length !== heads.length) throw new Error(`lossForSpec: anchorMask has ${anchorMask.length} entries for ${heads.length} heads`);
  heads.forEach((h, l) => {
    if (anchorMask[l].length !== h.anchors.length) throw new Error(`lossForSpec: anchorMask[${l}] has ${anchorMask[l].length} anchors, head ${l} has ${h.anchors.length}`);
  });
  const opts = { anchors, anchorMask, numClasses: spec.classNames.length, inputSize: spec.input.size, boxLoss: o.boxLoss };
  return (outputs, boxes) => yoloV3Loss(heads.map((h) => outputs[h.output]), boxes, opts);
}

function yolov5Loss(spec: ModelSpec): TrainLoss {
  const heads = spec.heads as Yolov5HeadSpec[];
  if (heads.every((h) => h.layout === 'anchor-major')) {
    // YOLOv5-style Detect heads (Scaled-YOLOv4's YAML models): the yolov4-large loss
    const opts = { inputSize: spec.input.size, anchors: heads.map((h) => h.anchors), numClasses: spec.classNames.length };
    return (outputs, boxes) => scaledYoloLoss(heads.map((h) => outputs[h.output]), boxes, opts);
  }
  const bad = heads.findIndex((h) => h.classActivation !== 'softmax');
  if (bad >= 0) {
    throw new Error(`lossForSpec: head ${bad} of '${spec.name}' has ${heads[bad].classActivation} classes; YOLO-FastestV2's loss is for softmax class heads`);
  }
  const opts = { inputSize: spec.input.size, anchors: heads.map((h) => h.anchors), numClasses: spec.classNames.length };
  return (outputs, boxes) => yoloFastestV2Loss(heads.map((h) => outputs[h.output]), boxes, opts);
}

function anchorDeltasLoss(spec: ModelSpec): TrainLoss {
  const head = spec.heads[0] as AnchorDeltasHeadSpec;
  if (spec.heads.length !== 1) throw new Error(`lossForSpec: '${spec.name}' has ${spec.heads.length} anchor-deltas heads; expected one`);
  const anchors = generateAnchors(head, spec.input.size);
  return (outputs, boxes) => efficientDetLoss(
    outputs[head.regressionOutput] as tf.Tensor3D, outputs[head.classificationOutput] as tf.Tensor3D, anchors, boxes,
  );
}

function ssdLoss(spec: ModelSpec): TrainLoss {
  if (spec.heads.length !== 1) throw new Error(`lossForSpec: '${spec.name}' has ${spec.heads.length} ssd heads; expected one`);
  const head = spec.heads[0] as SsdHeadSpec;
  return (outputs, boxes) => multiboxLoss(head, outputs, boxes, spec.input.size, spec.classNames.length);
}

/**
 * The loss for a spec's head kind (see the file comment). The returned function is bound to
 * this spec's geometry (input size, anchors); build a new one when the spec changes.
 */
export function lossForSpec(spec: ModelSpec, opts: LossForSpecOptions = {}): TrainLoss {
  const family = modelFamily(spec);
  if (family !== 'darknet' && (opts.anchors || opts.anchorMask || opts.boxLoss)) {
    throw new Error(`lossForSpec: anchors, anchorMask and boxLoss apply to darknet heads, not ${family}`);
  }
  if (family === 'yolov5') return yolov5Loss(spec);
  if (family === 'darknet') return darknetLoss(spec, opts);
  if (family === 'ssd') return ssdLoss(spec);
  return anchorDeltasLoss(spec);
}
