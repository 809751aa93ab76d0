/**
 * Pascal VOC average precision with chainercv's `eval_detection_voc` semantics, on COCO-format
 * ground truth and results. Pure TypeScript.
 */
import { CocoDetection, CocoGroundTruth, stableOrderByScoreDesc, validateCocoGroundTruth, validateCocoResults } from './cocoFormat';
import { cornerIou } from '../boxes/iou';

export interface VocEvaluateOptions {
  /** VOC2007 11-point interpolation instead of the all-point area (VOC2010+). Default false. */
  elevenPoint?: boolean;
  /**
   * true (default): COCO `iscrowd` boxes are VOC "difficult" (chainercv run): not counted as
   * positives, and a detection whose best match is one is neither TP nor FP.
   * false: crowd boxes are left out of the ground truth (podm run): detections on them are FPs.
   * Annotations with a truthy `difficult` field are difficult in both cases.
   */
  crowdAsDifficult?: boolean;
  /** A detection matches when IoU >= this. Default 0.5. */
  iouThreshold?: number;
  /**
   * 'voc' (default, chainercv and the VOC devkit): x2, y2 are incremented by 1 before the IoU.
   * 'continuous': plain IoU of the float boxes (podm).
   */
  iouConvention?: 'voc' | 'continuous';
}

export interface VocClassResult {
  categoryId: number;
  name: string;
  /** null when the class has no non-difficult ground truth (chainercv gives NaN). */
  AP: number | null;
  /** Non-difficult ground-truth boxes. */
  npos: number;
  /** Detections of this class. */
  numDets: number;
  tp: number;
  fp: number;
}

export interface VocEvalResult {
  /** Mean of the per-class APs that are not null (NaN when every class is null). */
  mAP: number;
  perClass: VocClassResult[];
}

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function toBox(bbox: number[], offset: number): Box {
  return { x1: bbox[0], y1: bbox[1], x2: bbox[0] + bbox[2] + offset, y2: bbox[1] + bbox[3] + offset };
}

/** chainercv's bbox_iou for one pair (the +1 convention is already in the corners, see `toBox`). */
function iou(a: Box, b: Box): number {
  return cornerIou(a.x1, a.y1, a.x2, a.y2, b.x1, b.y1, b.x2, b.y2);
}

/** All-point (VOC2010+) or 11-point (VOC2007) AP from cumulative precision and recall. */
export function vocAveragePrecision(prec: ArrayLike<number>, rec: ArrayLike<number>, elevenPoint = false): number {
  const n = prec.length;
  const p = (i: number): number => (Number.isNaN(prec[i]) ? 0 : prec[i]);
  if (elevenPoint) {
    let ap = 0;
    for (let k = 0; k <= 10; k++) {
      const t = k * 0.1;
      let best = 0;
      let any = false;
      for (let i = 0; i < n; i++) {
        if (rec[i] >= t) {
          best = any ? Math.max(best, p(i)) : p(i);
          any = true;
        }
      }
      ap += (any ? best : 0) / 11;
    }
    return ap;
  }
  const mpre = [0];
  const mrec = [0];
  for (let i = 0; i < n; i++) {
    mpre.push(p(i));
    mrec.push(rec[i]);
  }
  mpre.push(0);
  mrec.push(1);
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 0; i + 1 < mrec.length; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  return ap;
}

/**
 * VOC AP per class and its mean, following chainercv's `eval_detection_voc`: per image and
 * class, detections in descending score take the same-class gt (difficult included) of highest
 * IoU (first on ties); IoU >= threshold: difficult gt -> ignored, unmatched gt -> TP,
 * already-matched gt -> FP (no fallback); else FP. Difficult boxes are not positives. Every
 * detection is used (no maxDets cut); ties in score keep the input order.
 *
 * @param gt COCO ground truth `{images, annotations, categories}`.
 * @param results COCO results `[{image_id, category_id, bbox: [x, y, w, h], score}]`.
 */
export function vocEvaluate(gt: CocoGroundTruth, results: CocoDetection[], opts: VocEvaluateOptions = {}): VocEvalResult {
  validateCocoGroundTruth(gt);
  validateCocoResults(results, gt);
  const crowdAsDifficult = opts.crowdAsDifficult ?? true;
  const thresh = opts.iouThreshold ?? 0.5;
  if (!(thresh > 0 && thresh <= 1)) throw new Error(`vocEvaluate: iouThreshold must be in (0, 1], got ${thresh}`);
  const convention = opts.iouConvention ?? 'voc';
  if (convention !== 'voc' && convention !== 'continuous') throw new Error(`vocEvaluate: iouConvention must be 'voc' or 'continuous', got ${String(convention)}`);
  const offset = convention === 'voc' ? 1 : 0;

  const categories = [...gt.categories].sort((a, b) => a.id - b.id);
  const catSet = new Set(categories.map((c) => c.id));
  const key = (img: number, cat: number): string => `${img}:${cat}`;
  const gtBy = new Map<string, { box: Box; difficult: boolean }[]>();
  for (const a of gt.annotations) {
    if (!catSet.has(a.category_id)) continue;
    const crowd = Boolean(a.iscrowd);
    if (crowd && !crowdAsDifficult) continue;
    const k = key(a.image_id, a.category_id);
    if (!gtBy.has(k)) gtBy.set(k, []);
    gtBy.get(k)!.push({ box: toBox(a.bbox, offset), difficult: crowd || Boolean(a.difficult) });
  }
  const dtBy = new Map<string, { box: Box; score: number }[]>();
  for (const d of results) {
    if (!catSet.has(d.category_id)) continue;
    const k = key(d.image_id, d.category_id);
    if (!dtBy.has(k)) dtBy.set(k, []);
    dtBy.get(k)!.push({ box: toBox(d.bbox, offset), score: d.score });
  }
  const imageIds = Array.from(new Set(gt.images.map((im) => im.id)));

  const perClass: VocClassResult[] = categories.map((cat) => {
    let npos = 0;
    const scores: number[] = [];
    const match: number[] = []; // 1 TP, 0 FP, -1 ignored
    for (const img of imageIds) {
      const gts = gtBy.get(key(img, cat.id)) ?? [];
      const dtsRaw = dtBy.get(key(img, cat.id)) ?? [];
      for (const g of gts) if (!g.difficult) npos++;
      const dts = stableOrderByScoreDesc(dtsRaw.map((d) => d.score)).map((i) => dtsRaw[i]);
      const selected = new Array<boolean>(gts.length).fill(false);
      for (const d of dts) {
        scores.push(d.score);
        let best = -1;
        let bestIou = -Infinity;
        for (let g = 0; g < gts.length; g++) {
          const v = iou(d.box, gts[g].box);
          if (v > bestIou) {
            bestIou = v;
            best = g;
          }
        }
        if (best < 0 || !(bestIou >= thresh)) {
          match.push(0);
          continue;
        }
        if (gts[best].difficult) match.push(-1);
        else match.push(selected[best] ? 0 : 1);
        selected[best] = true;
      }
    }
    const order = stableOrderByScoreDesc(scores);
    const prec = new Float64Array(order.length);
    const rec = new Float64Array(order.length);
    let tp = 0;
    let fp = 0;
    order.forEach((i, j) => {
      if (match[i] === 1) tp++;
      else if (match[i] === 0) fp++;
      prec[j] = tp / (fp + tp);
      rec[j] = tp / npos;
    });
    return {
      categoryId: cat.id,
      name: String(cat.name),
      AP: npos > 0 ? vocAveragePrecision(prec, rec, Boolean(opts.elevenPoint)) : null,
      npos,
      numDets: scores.length,
      tp,
      fp,
    };
  });
  const valid = perClass.filter((c) => c.AP !== null).map((c) => c.AP as number);
  const mAP = valid.length ? valid.reduce((s, v) => s + v, 0) / valid.length : NaN;
  return { mAP, perClass };
}
