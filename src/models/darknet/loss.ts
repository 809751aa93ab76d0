/**
 * The training loss of Darknet heads: keras-yolo3's loss ({@link yoloV3Loss}).
 *
 * Anchors: keras-yolo3 matches each box to the best of ALL the cfg's anchors and keeps it only
 * at the scales whose mask holds that anchor. A spec keeps only the anchors its heads use, so by
 * default the full list is rebuilt as the union of the heads' anchors in head order (duplicates
 * merged, so an anchor shared by two masks still targets both scales). When the cfg has an
 * anchor no mask uses (YOLOv4-tiny's anchor 0, 10x14), that anchor is missing: a box it fits
 * best would be DROPPED by keras-yolo3 but here goes to its best remaining anchor (so very small
 * boxes are trained instead of ignored). Pass the cfg's `anchors` and `anchorMask` in
 * `LossForSpecOptions` to reproduce keras-yolo3 exactly.
 */
import { DarknetHeadSpec, ModelSpec } from '../../spec';
import type { LossForSpecOptions, TrainLoss } from '../../loss/trainLoss';
import { yoloV3Loss } from './yoloV3Loss';
import { scaledYoloLoss } from '../scaledYolov4/loss';

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

/** keras-yolo3's loss bound to a Darknet spec (see the file comment). */
export function darknetLoss(spec: ModelSpec, o: LossForSpecOptions): TrainLoss {
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
