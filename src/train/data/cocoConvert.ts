/**
 * Conversions between the common dataset format and COCO ground truth / results.
 * Pure (no file access).
 */
import type { CocoAnnotation, CocoDetection, CocoGroundTruth } from '../../eval/cocoFormat';
import { checkBoxInImage, DatasetImage, DetectionDataset, ReadDatasetOptions, ReadDatasetResult, WarningSink, fileBase } from './dataset';

/** The COCO category id of class `classId` (the dataset's `categoryIds`, else classId + 1). */
export function categoryIdOf(dataset: DetectionDataset, classId: number): number {
  return dataset.categoryIds ? dataset.categoryIds[classId] : classId + 1;
}

export interface ToCocoGtOptions {
  /** Also mark difficult boxes iscrowd = 1 (so COCO evaluation ignores them). Default false. */
  difficultAsCrowd?: boolean;
}

/**
 * Converts a dataset to COCO ground truth (`bbox` = [x1, y1, x2 - x1, y2 - y1], `area` = w*h,
 * `iscrowd` from `crowd`, a non-standard `difficult: 1` that `vocEvaluate` honours), ready
 * for `cocoEvaluate` / `vocEvaluate`. Annotation ids are 1..N.
 */
export function toCocoGt(dataset: DetectionDataset, opts: ToCocoGtOptions = {}): CocoGroundTruth {
  const annotations: CocoAnnotation[] = [];
  for (const im of dataset.images) {
    for (const b of im.boxes) {
      const w = b.x2 - b.x1;
      const h = b.y2 - b.y1;
      const ann: CocoAnnotation = {
        id: annotations.length + 1,
        image_id: im.id,
        category_id: categoryIdOf(dataset, b.classId),
        bbox: [b.x1, b.y1, w, h],
        area: w * h,
        iscrowd: b.crowd || (opts.difficultAsCrowd && b.difficult) ? 1 : 0,
      };
      if (b.difficult) ann.difficult = 1;
      annotations.push(ann);
    }
  }
  return {
    images: dataset.images.map((im) => ({ id: im.id, file_name: fileBase(im.file), width: im.width, height: im.height })),
    annotations,
    categories: dataset.classNames.map((name, i) => ({ id: categoryIdOf(dataset, i), name })),
  };
}

/** Options of `cocoToDataset` / `readCocoDataset`. */
export interface CocoToDatasetOptions extends ReadDatasetOptions {
  /** Name used in warnings for the JSON (its path when read from a file). */
  sourceName?: string;
  /** Prefixed to each image's file_name (e.g. the images folder). */
  imagesDir?: string;
  /** Join function for imagesDir + file_name (default: '/' join). */
  joinPath?: (dir: string, file: string) => string;
}

/**
 * Converts COCO ground truth to the common format: classes are the categories sorted by id
 * (`categoryIds` keeps the ids), crowd annotations become `crowd: true`, a `difficult` field is
 * kept. Annotations with an unknown image or category, a malformed bbox or a box outside the
 * image (or empty), and images without a size are reported (`annotations[i] (id ...)`) and
 * skipped. Throws when the object is not COCO ground truth.
 */
export function cocoToDataset(gt: CocoGroundTruth, opts: CocoToDatasetOptions = {}): ReadDatasetResult {
  const file = opts.sourceName ?? '<coco json>';
  if (!gt || typeof gt !== 'object' || !Array.isArray(gt.images) || !Array.isArray(gt.annotations) || !Array.isArray(gt.categories)) {
    throw new Error(`${file}: not COCO ground truth (needs "images", "annotations" and "categories" arrays)`);
  }
  const sink = new WarningSink(opts.onWarning);
  const tol = opts.boundsTolerance ?? 1e-6;
  const join = opts.joinPath ?? ((d: string, f: string): string => (d.endsWith('/') ? d + f : `${d}/${f}`));
  const cats = gt.categories
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => {
      if (c && Number.isFinite(c.id)) return true;
      sink.add('malformed', file, `categories[${i}]`, 'category without a numeric id; skipped');
      return false;
    })
    .map(({ c }) => c)
    .sort((a, b) => a.id - b.id);
  const classIndex = new Map<number, number>();
  const classNames: string[] = [];
  const categoryIds: number[] = [];
  for (const c of cats) {
    if (classIndex.has(c.id)) {
      sink.add('malformed', file, `categories (id ${c.id})`, `category id ${c.id} repeated; the repeat is skipped`);
      continue;
    }
    classIndex.set(c.id, classNames.length);
    classNames.push(String(c.name ?? c.id));
    categoryIds.push(c.id);
  }
  const images: DatasetImage[] = [];
  const byId = new Map<number, DatasetImage>();
  gt.images.forEach((im, i) => {
    const where = `images[${i}]${im && im.id !== undefined ? ` (id ${im.id})` : ''}`;
    if (!im || !Number.isFinite(im.id)) {
      sink.add('malformed', file, where, 'image without a numeric id; skipped');
      return;
    }
    if (byId.has(im.id)) {
      sink.add('duplicate-image', file, where, `image id ${im.id} repeated; the repeat is skipped`);
      return;
    }
    const w = Number(im.width);
    const h = Number(im.height);
    if (!(w > 0 && h > 0)) {
      sink.add('missing-image', file, where, `image ${im.file_name ?? im.id} has no positive width/height; skipped with its annotations`);
      return;
    }
    const name = String(im.file_name ?? im.id);
    const entry: DatasetImage = { id: im.id, file: opts.imagesDir ? join(opts.imagesDir, name) : name, width: w, height: h, boxes: [] };
    byId.set(im.id, entry);
    images.push(entry);
  });
  const skippedImageIds = new Set(gt.images.filter((im) => im && !byId.has(im.id)).map((im) => im.id));
  gt.annotations.forEach((a, i) => {
    const where = `annotations[${i}]${a && a.id !== undefined ? ` (id ${a.id})` : ''}`;
    if (!a || typeof a !== 'object') {
      sink.add('malformed', file, where, 'annotation is not an object');
      return;
    }
    const im = byId.get(a.image_id);
    if (!im) {
      if (skippedImageIds.has(a.image_id)) return; // its image was already reported
      sink.add('unknown-image', file, where, `image_id ${a.image_id} is not in "images"; skipped`);
      return;
    }
    const cls = classIndex.get(a.category_id);
    if (cls === undefined) {
      sink.add('unknown-class', file, where, `category_id ${a.category_id} is not in "categories"; skipped`);
      return;
    }
    if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      sink.add('malformed', file, where, `bbox ${JSON.stringify(a.bbox)} is not [x, y, w, h]; skipped`);
      return;
    }
    const [x, y, w, h] = a.bbox;
    const checked = checkBoxInImage(x, y, x + w, y + h, im.width, im.height, tol);
    if (!('box' in checked)) {
      sink.add(checked.kind, file, where, `${checked.message} (image ${im.id}); skipped`);
      return;
    }
    const [x1, y1, x2, y2] = checked.box;
    const box: DatasetImage['boxes'][number] = { x1, y1, x2, y2, classId: cls };
    if (a.iscrowd) box.crowd = true;
    if (a.difficult) box.difficult = true;
    im.boxes.push(box);
  });
  return { images, classNames, categoryIds, warnings: sink.warnings };
}

/** One detection in the common format (pixels, classId indexes the dataset's classNames). */
export interface DatasetDetection {
  imageId: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  classId: number;
  score: number;
}

/** Converts detections to a COCO results array for `cocoEvaluate` / `vocEvaluate`. */
export function toCocoResults(dataset: DetectionDataset, detections: DatasetDetection[]): CocoDetection[] {
  return detections.map((d) => ({
    image_id: d.imageId,
    category_id: categoryIdOf(dataset, d.classId),
    bbox: [d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1],
    score: d.score,
  }));
}
