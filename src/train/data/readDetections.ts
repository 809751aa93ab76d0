/**
 * Node-only readers for detection RESULTS in YOLO txt and Pascal VOC devkit formats, producing
 * COCO results arrays for `cocoEvaluate` / `vocEvaluate` (fs/path loaded lazily).
 */
import type { CocoDetection } from '../../eval/cocoFormat';
import { DatasetWarning, DetectionDataset, WarningSink, fileStem } from './dataset';
import { categoryIdOf } from './cocoConvert';
import { parseYoloText } from './yoloLabels';
import { nodeRequire } from '../../util/nodeRequire';

export interface ReadDetectionsOptions {
  onWarning?: (w: DatasetWarning) => void;
}

export interface ReadDetectionsResult {
  results: CocoDetection[];
  warnings: DatasetWarning[];
}

/**
 * Reads YOLO txt predictions (`<dir>/<image stem>.txt`, lines `class cx cy w h score`,
 * normalised) for the images of `dataset` (sizes and ids from it). An image without a file has
 * no detections. Malformed lines and unknown classes are reported with file and line and
 * skipped; files that match no image of the dataset are reported.
 */
export async function readYoloPredictions(dir: string, dataset: DetectionDataset, opts: ReadDetectionsOptions = {}): Promise<ReadDetectionsResult> {
  const fs = (nodeRequire('fs') as typeof import('fs'));
  const path = (nodeRequire('path') as typeof import('path'));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`readYoloPredictions: ${dir} is not a folder`);
  const sink = new WarningSink(opts.onWarning);
  const results: CocoDetection[] = [];
  const stems = new Set<string>();
  for (const im of dataset.images) {
    const stem = fileStem(im.file);
    stems.add(stem);
    const file = path.join(dir, `${stem}.txt`);
    if (!fs.existsSync(file)) continue;
    const lines = parseYoloText(fs.readFileSync(file, 'utf8'), {
      file,
      width: im.width,
      height: im.height,
      numClasses: dataset.classNames.length,
      sink,
      withScore: true,
    });
    for (const l of lines) {
      results.push({
        image_id: im.id,
        category_id: categoryIdOf(dataset, l.box.classId),
        bbox: [l.box.x1, l.box.y1, l.box.x2 - l.box.x1, l.box.y2 - l.box.y1],
        score: l.score as number,
      });
    }
  }
  for (const n of fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    if (!stems.has(n.slice(0, -4))) sink.add('unknown-image', path.join(dir, n), undefined, `no image "${n.slice(0, -4)}" in the dataset; file ignored`);
  }
  return { results, warnings: sink.warnings };
}

/**
 * Reads Pascal VOC devkit results: one file per class named `<anything>_<class>.txt`
 * (e.g. comp4_det_test_car.txt) or `<class>.txt`, lines `<image stem> <score> <x1> <y1> <x2> <y2>`
 * in pixels (kept as written: bbox = [x1, y1, x2 - x1, y2 - y1]). Image stems are matched to
 * the dataset's image files. Unknown images, malformed lines and files matching no class are
 * reported (file + line) and skipped.
 *
 * @param source a folder of result files, or a list of files.
 */
export async function readVocResults(source: string | string[], dataset: DetectionDataset, opts: ReadDetectionsOptions = {}): Promise<ReadDetectionsResult> {
  const fs = (nodeRequire('fs') as typeof import('fs'));
  const path = (nodeRequire('path') as typeof import('path'));
  const sink = new WarningSink(opts.onWarning);
  let files: string[];
  if (Array.isArray(source)) files = source;
  else {
    if (!fs.existsSync(source) || !fs.statSync(source).isDirectory()) throw new Error(`readVocResults: ${source} is not a folder`);
    files = fs.readdirSync(source).filter((f) => f.endsWith('.txt')).sort().map((f) => path.join(source, f));
  }
  const byStem = new Map(dataset.images.map((im) => [fileStem(im.file), im]));
  // longest class name that the file name ends with
  const classes = dataset.classNames.map((n, i) => ({ n, i })).sort((a, b) => b.n.length - a.n.length);
  const results: CocoDetection[] = [];
  for (const file of files) {
    const base = path.basename(file, '.txt');
    const cls = classes.find(({ n }) => base === n || base.endsWith(`_${n}`));
    if (!cls) {
      sink.add('unknown-class', file, undefined, `file name names none of the classes (${dataset.classNames.join(', ')}); file ignored`);
      continue;
    }
    fs.readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, idx) => {
      const line = raw.trim();
      if (!line) return;
      const tok = line.split(/\s+/);
      if (tok.length !== 6) {
        sink.add('malformed', file, idx + 1, `expected 6 fields (image score x1 y1 x2 y2), found ${tok.length}`);
        return;
      }
      const [score, x1, y1, x2, y2] = tok.slice(1).map(Number);
      if (![score, x1, y1, x2, y2].every(Number.isFinite)) {
        sink.add('malformed', file, idx + 1, `non-numeric field in "${line}"`);
        return;
      }
      if (!(x2 > x1) || !(y2 > y1)) {
        sink.add('empty-box', file, idx + 1, `box [${x1}, ${y1}, ${x2}, ${y2}] has zero or negative size`);
        return;
      }
      const im = byStem.get(tok[0]);
      if (!im) {
        sink.add('unknown-image', file, idx + 1, `image "${tok[0]}" is not in the dataset`);
        return;
      }
      results.push({ image_id: im.id, category_id: categoryIdOf(dataset, cls.i), bbox: [x1, y1, x2 - x1, y2 - y1], score });
    });
  }
  return { results, warnings: sink.warnings };
}
