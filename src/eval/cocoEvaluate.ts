/**
 * COCO box evaluation with exactly the rules of pycocotools' `COCOeval` (iouType 'bbox'):
 * `evaluate()` (per image and category matching), `accumulate()` (101-point interpolated
 * precision, max recall) and `summarize()` (the 12 standard numbers). Pure TypeScript.
 */
import {
  CocoAnnotation,
  CocoDetection,
  CocoGroundTruth,
  stableOrderByScoreDesc,
  validateCocoGroundTruth,
  validateCocoResults,
} from './cocoFormat';
import { xywhIou } from '../boxes/iou';

/** Average precision / recall of one category (null where COCO has no data: every entry -1). */
export interface CocoClassResult {
  categoryId: number;
  name: string;
  AP: number | null;
  AP50: number | null;
  AP75: number | null;
  APs: number | null;
  APm: number | null;
  APl: number | null;
  AR100: number | null;
  /** Non-crowd ground-truth boxes of this category. */
  numGt: number;
  /** Detections of this category (before any maxDets cut). */
  numDets: number;
}

/** The 12 COCOeval summary numbers (-1 where there is no data, as pycocotools prints). */
export interface CocoStats {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARs: number;
  ARm: number;
  ARl: number;
}

/** Raw accumulated arrays, laid out as pycocotools' `eval['precision']` / `eval['recall']`. */
export interface CocoEvalArrays {
  /** [T, R, K, A, M], C order. */
  precision: Float64Array;
  precisionShape: [number, number, number, number, number];
  /** [T, K, A, M], C order. */
  recall: Float64Array;
  recallShape: [number, number, number, number];
  iouThresholds: number[];
  recallThresholds: number[];
  catIds: number[];
  areaRanges: [number, number][];
  maxDets: number[];
}

export interface CocoEvalResult extends CocoStats {
  perClass: CocoClassResult[];
  /** The 12 numbers in pycocotools' `stats` order. */
  stats: number[];
  /** Present when `opts.keepArrays` is true. */
  arrays?: CocoEvalArrays;
}

export interface CocoEvaluateOptions {
  /** Keep the raw precision/recall arrays in the result (for debugging / plotting). */
  keepArrays?: boolean;
}

/** pycocotools' default parameters (Params.setDetParams), built the way numpy builds them. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}
const IOU_THRS = linspace(0.5, 0.95, 10);
const REC_THRS = linspace(0, 1, 101);
const MAX_DETS = [1, 10, 100];
const AREA_RNG: [number, number][] = [
  [0, 1e10],
  [0, 32 * 32],
  [32 * 32, 96 * 96],
  [96 * 96, 1e10],
];
/** numpy's `np.spacing(1)`. */
const EPS = 2.220446049250313e-16;

interface GtBox {
  id: number;
  bbox: number[];
  area: number;
  crowd: boolean;
}
interface DtBox {
  id: number;
  bbox: number[];
  area: number;
  score: number;
}
interface ImageEval {
  dtScores: number[];
  /** [T][D]: matched gt id, 0 when unmatched (as pycocotools). */
  dtMatches: number[][];
  /** [T][D]. */
  dtIgnore: boolean[][];
  gtIgnore: boolean[];
}

/** pycocotools' maskApi `bbIou`: [D][G]; crowd gt -> intersection / detection area. */
function boxIou(dts: DtBox[], gts: GtBox[]): number[][] {
  return dts.map((dt) => gts.map((gt) => xywhIou(dt.bbox, gt.bbox, gt.crowd)));
}

/** COCOeval.evaluateImg for one image, category and area range (maxDet = the largest). */
function evaluateImage(gtsIn: GtBox[], dtsSorted: DtBox[], ious: number[][], aRng: [number, number], maxDet: number): ImageEval | null {
  if (gtsIn.length === 0 && dtsSorted.length === 0) return null;
  const ignoreFlag = gtsIn.map((g) => g.crowd || g.area < aRng[0] || g.area > aRng[1]);
  // gt sorted with ignored last (stable), dt already sorted by score and cut to maxDets[-1].
  const gtind = Array.from({ length: gtsIn.length }, (_, i) => i).sort((a, b) => Number(ignoreFlag[a]) - Number(ignoreFlag[b]));
  const gt = gtind.map((i) => gtsIn[i]);
  const gtIg = gtind.map((i) => ignoreFlag[i]);
  const dt = dtsSorted.slice(0, maxDet);
  const T = IOU_THRS.length;
  const G = gt.length;
  const D = dt.length;
  const gtm: number[][] = IOU_THRS.map(() => new Array<number>(G).fill(0));
  const dtm: number[][] = IOU_THRS.map(() => new Array<number>(D).fill(0));
  const dtIg: boolean[][] = IOU_THRS.map(() => new Array<boolean>(D).fill(false));
  const haveIous = ious.length > 0 && G > 0;
  if (haveIous) {
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        let iou = Math.min(IOU_THRS[t], 1 - 1e-10);
        let m = -1;
        for (let g = 0; g < G; g++) {
          // already matched and not a crowd region
          if (gtm[t][g] > 0 && !gt[g].crowd) continue;
          // matched to a regular gt and reached the ignored ones: stop
          if (m > -1 && !gtIg[m] && gtIg[g]) break;
          const v = ious[d][gtind[g]];
          if (v < iou) continue;
          iou = v;
          m = g;
        }
        if (m === -1) continue;
        dtIg[t][d] = gtIg[m];
        dtm[t][d] = gt[m].id;
        gtm[t][m] = dt[d].id;
      }
    }
  }
  // unmatched detections outside the area range are ignored
  for (let d = 0; d < D; d++) {
    const outside = dt[d].area < aRng[0] || dt[d].area > aRng[1];
    if (!outside) continue;
    for (let t = 0; t < T; t++) if (dtm[t][d] === 0) dtIg[t][d] = true;
  }
  return { dtScores: dt.map((d) => d.score), dtMatches: dtm, dtIgnore: dtIg, gtIgnore: gtIg };
}

function meanOfValid(values: Iterable<number>): number {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (v > -1) {
      s += v;
      n++;
    }
  }
  return n === 0 ? -1 : s / n;
}

/**
 * Evaluates COCO-format detections against COCO-format ground truth with pycocotools'
 * COCOeval rules for boxes: IoU thresholds .50:.05:.95, 101 recall points, maxDets 1/10/100
 * (per image and category), area ranges all/small/medium/large taken from each annotation's
 * `area`, crowd regions (IoU = intersection / detection area; a detection matched to a crowd
 * region or to an out-of-range gt is ignored), detections ordered by a stable sort on score.
 * As in pycocotools, an annotation's `ignore` field is overwritten by `iscrowd`, detections of
 * categories absent from `gt.categories` are dropped, and -1 means "no data".
 *
 * @param gt COCO ground truth `{images, annotations, categories}`.
 * @param results COCO results `[{image_id, category_id, bbox: [x, y, w, h], score}]`.
 * @returns the 12 summary numbers, per-category numbers and optionally the raw arrays.
 */
export function cocoEvaluate(gt: CocoGroundTruth, results: CocoDetection[], opts: CocoEvaluateOptions = {}): CocoEvalResult {
  validateCocoGroundTruth(gt);
  validateCocoResults(results, gt);

  const imgIds = Array.from(new Set(gt.images.map((im) => im.id))).sort((a, b) => a - b);
  const catIds = Array.from(new Set(gt.categories.map((c) => c.id))).sort((a, b) => a - b);
  const imgSet = new Set(imgIds);
  const catSet = new Set(catIds);
  const key = (img: number, cat: number): string => `${img}:${cat}`;

  const gts = new Map<string, GtBox[]>();
  const numGtPerCat = new Map<number, number>();
  for (const src of gt.annotations) {
    if (!imgSet.has(src.image_id) || !catSet.has(src.category_id)) continue;
    const box: GtBox = {
      id: src.id,
      bbox: src.bbox,
      area: src.area ?? src.bbox[2] * src.bbox[3],
      crowd: Boolean(src.iscrowd),
    };
    const k = key(src.image_id, src.category_id);
    if (!gts.has(k)) gts.set(k, []);
    gts.get(k)!.push(box);
    if (!box.crowd) numGtPerCat.set(src.category_id, (numGtPerCat.get(src.category_id) ?? 0) + 1);
  }
  const dts = new Map<string, DtBox[]>();
  const numDetsPerCat = new Map<number, number>();
  results.forEach((r, i) => {
    if (!catSet.has(r.category_id)) return;
    const k = key(r.image_id, r.category_id);
    if (!dts.has(k)) dts.set(k, []);
    dts.get(k)!.push({ id: i + 1, bbox: r.bbox, area: r.bbox[2] * r.bbox[3], score: r.score });
    numDetsPerCat.set(r.category_id, (numDetsPerCat.get(r.category_id) ?? 0) + 1);
  });

  const T = IOU_THRS.length;
  const R = REC_THRS.length;
  const K = catIds.length;
  const A = AREA_RNG.length;
  const M = MAX_DETS.length;
  const I = imgIds.length;
  const maxDetLast = MAX_DETS[M - 1];

  // evaluate(): evalImgs[k][a][i]
  const evalImgs: (ImageEval | null)[][][] = [];
  for (const catId of catIds) {
    const perArea: (ImageEval | null)[][] = AREA_RNG.map(() => []);
    for (const imgId of imgIds) {
      const g = gts.get(key(imgId, catId)) ?? [];
      const dRaw = dts.get(key(imgId, catId)) ?? [];
      const order = stableOrderByScoreDesc(dRaw.map((d) => d.score));
      const dSorted = order.map((i) => dRaw[i]).slice(0, maxDetLast);
      const ious = g.length === 0 || dSorted.length === 0 ? [] : boxIou(dSorted, g);
      AREA_RNG.forEach((aRng, a) => perArea[a].push(evaluateImage(g, dSorted, ious, aRng, maxDetLast)));
    }
    evalImgs.push(perArea);
  }

  // accumulate()
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIdx = (t: number, r: number, k: number, a: number, m: number): number => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number): number => ((t * K + k) * A + a) * M + m;
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E = evalImgs[k][a].filter((e): e is ImageEval => e !== null);
      if (E.length === 0) continue;
      let npig = 0;
      for (const e of E) for (const ig of e.gtIgnore) if (!ig) npig++;
      for (let m = 0; m < M; m++) {
        const maxDet = MAX_DETS[m];
        const scores: number[] = [];
        const owner: [ImageEval, number][] = [];
        for (const e of E) {
          const n = Math.min(maxDet, e.dtScores.length);
          for (let d = 0; d < n; d++) {
            scores.push(e.dtScores[d]);
            owner.push([e, d]);
          }
        }
        if (npig === 0) continue;
        const inds = stableOrderByScoreDesc(scores);
        const nd = inds.length;
        for (let t = 0; t < T; t++) {
          const rc = new Float64Array(nd);
          const pr = new Array<number>(nd);
          let tp = 0;
          let fp = 0;
          for (let j = 0; j < nd; j++) {
            const [e, d] = owner[inds[j]];
            const matched = e.dtMatches[t][d] !== 0;
            const ignored = e.dtIgnore[t][d];
            if (matched && !ignored) tp++;
            else if (!matched && !ignored) fp++;
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + EPS);
          }
          recall[rIdx(t, k, a, m)] = nd ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          // searchsorted(rc, recThrs, 'left'): first index with rc >= thr
          let pi = 0;
          for (let ri = 0; ri < R; ri++) {
            const thr = REC_THRS[ri];
            while (pi < nd && rc[pi] < thr) pi++;
            precision[pIdx(t, ri, k, a, m)] = pi < nd ? pr[pi] : 0;
          }
        }
      }
    }
  }

  // summarize()
  const apOf = (kSel: number[], tSel: number[], a: number, m: number): number => {
    const vals: number[] = [];
    for (const t of tSel) for (let r = 0; r < R; r++) for (const k of kSel) vals.push(precision[pIdx(t, r, k, a, m)]);
    return meanOfValid(vals);
  };
  const arOf = (kSel: number[], a: number, m: number): number => {
    const vals: number[] = [];
    for (let t = 0; t < T; t++) for (const k of kSel) vals.push(recall[rIdx(t, k, a, m)]);
    return meanOfValid(vals);
  };
  const allT = IOU_THRS.map((_, t) => t);
  const allK = catIds.map((_, k) => k);
  const t50 = IOU_THRS.indexOf(0.5);
  const t75 = IOU_THRS.indexOf(0.75);
  const m100 = M - 1;
  const stats: CocoStats = {
    AP: apOf(allK, allT, 0, m100),
    AP50: apOf(allK, [t50], 0, m100),
    AP75: apOf(allK, [t75], 0, m100),
    APs: apOf(allK, allT, 1, m100),
    APm: apOf(allK, allT, 2, m100),
    APl: apOf(allK, allT, 3, m100),
    AR1: arOf(allK, 0, 0),
    AR10: arOf(allK, 0, 1),
    AR100: arOf(allK, 0, 2),
    ARs: arOf(allK, 1, m100),
    ARm: arOf(allK, 2, m100),
    ARl: arOf(allK, 3, m100),
  };
  const orNull = (v: number): number | null => (v === -1 ? null : v);
  const names = new Map(gt.categories.map((c) => [c.id, String(c.name)]));
  const perClass: CocoClassResult[] = catIds.map((catId, k) => ({
    categoryId: catId,
    name: names.get(catId) ?? String(catId),
    AP: orNull(apOf([k], allT, 0, m100)),
    AP50: orNull(apOf([k], [t50], 0, m100)),
    AP75: orNull(apOf([k], [t75], 0, m100)),
    APs: orNull(apOf([k], allT, 1, m100)),
    APm: orNull(apOf([k], allT, 2, m100)),
    APl: orNull(apOf([k], allT, 3, m100)),
    AR100: orNull(arOf([k], 0, m100)),
    numGt: numGtPerCat.get(catId) ?? 0,
    numDets: numDetsPerCat.get(catId) ?? 0,
  }));
  const out: CocoEvalResult = {
    ...stats,
    stats: [stats.AP, stats.AP50, stats.AP75, stats.APs, stats.APm, stats.APl, stats.AR1, stats.AR10, stats.AR100, stats.ARs, stats.ARm, stats.ARl],
    perClass,
  };
  if (opts.keepArrays) {
    out.arrays = {
      precision,
      precisionShape: [T, R, K, A, M],
      recall,
      recallShape: [T, K, A, M],
      iouThresholds: IOU_THRS.slice(),
      recallThresholds: REC_THRS.slice(),
      catIds,
      areaRanges: AREA_RNG.map((r) => [r[0], r[1]]),
      maxDets: MAX_DETS.slice(),
    };
  }
  return out;
}
