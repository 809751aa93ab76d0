/**
 * Node-only reader for Pascal VOC datasets (fs/path are loaded lazily).
 *
 * Layout: Annotations/<stem>.xml, JPEGImages/<filename> (optional when every XML has a <size>),
 * ImageSets/Main/<split>.txt (optional: without `split`, every XML in Annotations/ is read).
 */
import { DatasetImage, ReadDatasetOptions, ReadDatasetResult, WarningSink } from './dataset';
import { readImageSize } from './imageSize';
import { parseVocAnnotation, vocObjectsToBoxes } from './vocAnnotation';
import { parseClassNames } from './yoloLabels';
import { nodeRequire } from '../../util/nodeRequire';

export interface ReadVocOptions extends ReadDatasetOptions {
  /** ImageSets/Main/<split>.txt to read (e.g. 'trainval', 'test'); default: all annotations. */
  split?: string;
  /**
   * Class names; objects of other classes are reported and skipped. Default: classes.txt /
   * labels.txt in the folder if present, else every name found, in order of first appearance.
   */
  classNames?: string[];
}

/**
 * Reads a Pascal VOC dataset into the common format (`<difficult>` -> `difficult: true`).
 * Unknown classes, boxes outside the image or empty, malformed objects, annotation files that
 * are missing or unreadable and images that are missing (when JPEGImages/ exists) or cannot be
 * sized are reported with file and line and skipped. Image ids are 1..N in list order.
 */
export async function readVocDataset(dir: string, opts: ReadVocOptions = {}): Promise<ReadDatasetResult> {
  const fs = (nodeRequire('fs') as typeof import('fs'));
  const path = (nodeRequire('path') as typeof import('path'));
  const sink = new WarningSink(opts.onWarning);
  const root = path.resolve(dir);
  const annDir = path.join(root, 'Annotations');
  if (!fs.existsSync(annDir) || !fs.statSync(annDir).isDirectory()) throw new Error(`readVocDataset: ${annDir} is not a folder`);
  const jpegDir = path.join(root, 'JPEGImages');
  const haveJpegDir = fs.existsSync(jpegDir);

  let stems: { stem: string; listFile?: string; line?: number }[];
  if (opts.split !== undefined) {
    const listFile = path.join(root, 'ImageSets', 'Main', `${opts.split}.txt`);
    if (!fs.existsSync(listFile)) throw new Error(`readVocDataset: split file ${listFile} does not exist`);
    stems = [];
    fs.readFileSync(listFile, 'utf8').split(/\r?\n/).forEach((raw, i) => {
      const t = raw.trim().split(/\s+/)[0];
      if (t) stems.push({ stem: t, listFile, line: i + 1 });
    });
  } else {
    stems = fs.readdirSync(annDir).filter((n) => n.toLowerCase().endsWith('.xml')).sort().map((n) => ({ stem: n.slice(0, -4) }));
  }

  let classNames = opts.classNames ? opts.classNames.map(String) : undefined;
  if (!classNames) {
    const namesFile = ['classes.txt', 'labels.txt'].map((n) => path.join(root, n)).find((p) => fs.existsSync(p));
    if (namesFile) classNames = parseClassNames(fs.readFileSync(namesFile, 'utf8'));
  }
  const collect = !classNames;
  const names: string[] = classNames ?? [];
  const classIndex = new Map(names.map((n, i) => [n, i]));

  const images: DatasetImage[] = [];
  const seen = new Set<string>();
  for (const s of stems) {
    const xmlFile = path.join(annDir, `${s.stem}.xml`);
    const listWhere = s.listFile ?? xmlFile;
    if (seen.has(s.stem)) {
      sink.add('duplicate-image', listWhere, s.line, `${s.stem} is listed twice; the repeat is skipped`);
      continue;
    }
    seen.add(s.stem);
    if (!fs.existsSync(xmlFile)) {
      sink.add('missing-label', listWhere, s.line, `annotation ${xmlFile} not found; image skipped`);
      continue;
    }
    let ann;
    try {
      ann = parseVocAnnotation(fs.readFileSync(xmlFile, 'utf8'), xmlFile, sink);
    } catch (e) {
      sink.add('malformed', xmlFile, undefined, `${(e as Error).message}; image skipped`);
      continue;
    }
    const filename = ann.filename ?? `${s.stem}.jpg`;
    const imagePath = haveJpegDir ? path.join(jpegDir, filename) : filename;
    if (haveJpegDir && !fs.existsSync(imagePath)) {
      sink.add('missing-image', xmlFile, undefined, `image ${imagePath} not found; skipped with its objects`);
      continue;
    }
    let width = ann.width;
    let height = ann.height;
    if (width === undefined || height === undefined) {
      if (!haveJpegDir) {
        sink.add('missing-image', xmlFile, undefined, `no <size> and no JPEGImages/${filename} to read it from; skipped`);
        continue;
      }
      try {
        ({ width, height } = await readImageSize(imagePath));
      } catch (e) {
        sink.add('missing-image', xmlFile, undefined, `${(e as Error).message}; skipped`);
        continue;
      }
    }
    if (collect) {
      for (const o of ann.objects) {
        if (!classIndex.has(o.name)) {
          classIndex.set(o.name, names.length);
          names.push(o.name);
        }
      }
    }
    const boxes = vocObjectsToBoxes(ann, { file: xmlFile, width, height, classIndex, sink, boundsTolerance: opts.boundsTolerance });
    images.push({ id: images.length + 1, file: imagePath, width, height, boxes });
  }
  return { images, classNames: names, warnings: sink.warnings };
}
