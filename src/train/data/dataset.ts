/**
 * The common in-memory detection dataset every reader (YOLO txt, Pascal VOC XML, COCO JSON)
 * produces, and the warnings they report for annotations they skip.
 */

/** One box in original image pixels (x2 = x1 + width); `classId` indexes `classNames`. */
export interface DatasetBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  classId: number;
  /** Pascal VOC "difficult": not a positive for VOC AP, never a false positive either. */
  difficult?: boolean;
  /** COCO "iscrowd" region. */
  crowd?: boolean;
}

/** One image: `file` is a path (or the bare name when the image itself is not available). */
export interface DatasetImage {
  id: number;
  file: string;
  width: number;
  height: number;
  boxes: DatasetBox[];
}

/** A detection dataset in the common format. */
export interface DetectionDataset {
  images: DatasetImage[];
  classNames: string[];
  /** COCO category id of each class (same order as `classNames`); absent -> classId + 1. */
  categoryIds?: number[];
}

/** What kind of problem a reader found. */
export type DatasetWarningKind =
  | 'box-outside-image'
  | 'empty-box'
  | 'unknown-class'
  | 'malformed'
  | 'missing-image'
  | 'missing-label'
  | 'unknown-image'
  | 'duplicate-image';

/** A problem found while reading; the annotation (or image) concerned was skipped. */
export interface DatasetWarning {
  kind: DatasetWarningKind;
  /** The file the problem is in. */
  file: string;
  /** 1-based line number when the file is line-oriented (txt, XML). */
  line?: number;
  /** Where in the file, for humans: "line 3", "annotations[12] (id 13)". */
  location: string;
  message: string;
}

/** Options every reader accepts. */
export interface ReadDatasetOptions {
  /** Called for each warning as it is found (they are also returned in `warnings`). */
  onWarning?: (w: DatasetWarning) => void;
  /**
   * How far (as a fraction of the image width / height) a box may extend past the image
   * before it is reported and skipped; boxes within it are clamped to the image. Default 1e-6
   * (absorbs the 6-decimal rounding of YOLO txt files).
   */
  boundsTolerance?: number;
}

/** A reader's result: the dataset plus every warning (each one a skipped annotation/image). */
export interface ReadDatasetResult extends DetectionDataset {
  warnings: DatasetWarning[];
}

/** Formats a warning as `file:line: message`. */
export function formatDatasetWarning(w: DatasetWarning): string {
  return `${w.file}${w.line !== undefined ? `:${w.line}` : ` (${w.location})`}: ${w.message}`;
}

/** Collects warnings and forwards them to the callback. */
export class WarningSink {
  readonly warnings: DatasetWarning[] = [];
  constructor(private readonly onWarning?: (w: DatasetWarning) => void) {}
  add(kind: DatasetWarningKind, file: string, where: number | string | undefined, message: string): void {
    const w: DatasetWarning = {
      kind,
      file,
      line: typeof where === 'number' ? where : undefined,
      location: typeof where === 'number' ? `line ${where}` : where ?? 'file',
      message,
    };
    this.warnings.push(w);
    this.onWarning?.(w);
  }
}

/**
 * Checks a pixel box against the image: an empty box or one past the image by more than
 * `tolerance` (fraction of the size) gives an error message; otherwise the clamped box.
 */
export function checkBoxInImage(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  width: number,
  height: number,
  tolerance: number,
): { box: [number, number, number, number] } | { kind: 'empty-box' | 'box-outside-image'; message: string } {
  const desc = `box [${[x1, y1, x2, y2].map((v) => +v.toFixed(4)).join(', ')}]`;
  if (![x1, y1, x2, y2].every(Number.isFinite)) return { kind: 'empty-box', message: `${desc} has non-finite coordinates` };
  if (!(x2 > x1) || !(y2 > y1)) return { kind: 'empty-box', message: `${desc} has zero or negative width/height` };
  const tx = tolerance * width;
  const ty = tolerance * height;
  if (x1 < -tx || y1 < -ty || x2 > width + tx || y2 > height + ty) {
    return { kind: 'box-outside-image', message: `${desc} is outside the ${width}x${height} image` };
  }
  const c = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  return { box: [c(x1, width), c(y1, height), c(x2, width), c(y2, height)] };
}

/** The file name without directory and extension ("a/b/img_1.jpg" -> "img_1"). */
export function fileStem(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** The file name without directory ("a/b/img_1.jpg" -> "img_1.jpg"). */
export function fileBase(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}
