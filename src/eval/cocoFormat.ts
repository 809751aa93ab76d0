/**
 * COCO-format ground truth and detection results, as used by pycocotools, plus input checks
 * shared by `cocoEvaluate` and `vocEvaluate`.
 */

/** One image of a COCO ground-truth file. */
export interface CocoImage {
  id: number;
  file_name?: string;
  width?: number;
  height?: number;
  [key: string]: unknown;
}

/** One annotation (box) of a COCO ground-truth file; `bbox` is `[x, y, w, h]`. */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  /** Used for the COCO area ranges; computed as `w * h` when absent. */
  area?: number;
  iscrowd?: number | boolean;
  /** Non-standard: a VOC "difficult" box (used by `vocEvaluate`; `cocoEvaluate` ignores it). */
  difficult?: number | boolean;
  [key: string]: unknown;
}

/** One category of a COCO ground-truth file. */
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [key: string]: unknown;
}

/** A COCO ground-truth object (`instances_*.json`). */
export interface CocoGroundTruth {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  [key: string]: unknown;
}

/**
 * The official COCO category ids (1..90 with gaps) of the 80 classes in the order Darknet and
 * most YOLO releases list them (the order of `COCO_CLASSES`).
 */
export const COCO80_CATEGORY_IDS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
  35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
  64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
];

/** One detection of a COCO results file; `bbox` is `[x, y, w, h]` in original pixels. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
  [key: string]: unknown;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Throws a clear error when `gt` is not a usable COCO ground-truth object. */
export function validateCocoGroundTruth(gt: CocoGroundTruth): void {
  if (gt === null || typeof gt !== 'object') throw new Error('ground truth must be a COCO object {images, annotations, categories}');
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(gt[key])) throw new Error(`ground truth: "${key}" must be an array`);
  }
  gt.images.forEach((im, i) => {
    if (!im || !isFiniteNumber(im.id)) throw new Error(`ground truth: images[${i}] has no numeric "id"`);
  });
  gt.categories.forEach((c, i) => {
    if (!c || !isFiniteNumber(c.id)) throw new Error(`ground truth: categories[${i}] has no numeric "id"`);
  });
  const seenIds = new Set<number>();
  gt.annotations.forEach((a, i) => {
    if (!a || !isFiniteNumber(a.id)) throw new Error(`ground truth: annotations[${i}] has no numeric "id"`);
    if (seenIds.has(a.id)) throw new Error(`ground truth: annotations[${i}] repeats annotation id ${a.id}; ids must be unique`);
    seenIds.add(a.id);
    if (!isFiniteNumber(a.image_id) || !isFiniteNumber(a.category_id)) {
      throw new Error(`ground truth: annotations[${i}] needs numeric "image_id" and "category_id"`);
    }
    if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every(isFiniteNumber)) {
      throw new Error(`ground truth: annotations[${i}] (id ${a.id}) has a bad "bbox" ${JSON.stringify(a.bbox)}; expected [x, y, w, h]`);
    }
    if (a.area !== undefined && !isFiniteNumber(a.area)) throw new Error(`ground truth: annotations[${i}] (id ${a.id}) has a non-numeric "area"`);
  });
}

/**
 * Throws a clear error when `results` is not a COCO results array or refers to an image the
 * ground truth does not have (pycocotools' "Results do not correspond to current coco set").
 */
export function validateCocoResults(results: CocoDetection[], gt: CocoGroundTruth): void {
  if (!Array.isArray(results)) throw new Error('results must be an array of {image_id, category_id, bbox, score}');
  const imageIds = new Set(gt.images.map((im) => im.id));
  results.forEach((d, i) => {
    if (!d || !isFiniteNumber(d.image_id) || !isFiniteNumber(d.category_id)) {
      throw new Error(`results[${i}] needs numeric "image_id" and "category_id"`);
    }
    if (!Array.isArray(d.bbox) || d.bbox.length !== 4 || !d.bbox.every(isFiniteNumber)) {
      throw new Error(`results[${i}] has a bad "bbox" ${JSON.stringify(d.bbox)}; expected [x, y, w, h]`);
    }
    if (!isFiniteNumber(d.score)) throw new Error(`results[${i}] has a non-numeric "score"`);
    if (!imageIds.has(d.image_id)) {
      throw new Error(`results[${i}]: image_id ${d.image_id} is not in the ground truth (results do not correspond to this set)`);
    }
  });
}

/** Stable order of indices by descending score (numpy `argsort(-score, kind='mergesort')`). */
export function stableOrderByScoreDesc(scores: ArrayLike<number>): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  // Array.prototype.sort is stable (ES2019+).
  idx.sort((a, b) => scores[b] - scores[a]);
  return idx;
}
