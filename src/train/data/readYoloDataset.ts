/**
 * Node-only reader for Darknet YOLO txt datasets (fs/path are loaded lazily).
 *
 * Layout, as a folder:
 *   classes.txt | obj.names | *.names     class names, one per line (or `classNames` option)
 *   images.txt (optional)                 one image per line: a path, or
 *                                         `<path|stem> <width> <height> [<image id>]`
 *   images/ (or the folder itself)        *.jpg|*.jpeg|*.png|*.bmp|*.gif when there is no list
 *   labels/<stem>.txt                     `class cx cy w h` normalised, one box a line
 * Label files are looked up in labels/ (or `labels`), then Darknet's images->labels path
 * rewrite, then next to the image. Image sizes come from the list or the image header.
 */
import { DatasetImage, ReadDatasetOptions, ReadDatasetResult, WarningSink, fileStem } from './dataset';
import { readImageSize } from './imageSize';
import { parseClassNames, parseYoloText } from './yoloLabels';
import { nodeRequire } from '../../util/nodeRequire';

/** Explicit locations instead of a dataset folder. */
export interface YoloDatasetSource {
  /** A list file (images.txt / train.txt) or a folder of images. */
  images: string;
  /** Folder of label .txt files (default: see the lookup order above). */
  labels?: string;
  /** Class names, or a names file. */
  classes: string[] | string;
}

export interface ReadYoloOptions extends ReadDatasetOptions {
  /** Class names (overrides the names file of a dataset folder). */
  classNames?: string[];
}

const IMAGE_EXT = /\.(jpe?g|png|bmp|gif)$/i;
const IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.JPG', '.JPEG', '.PNG'];

interface Entry {
  /** What the list said (for messages). */
  listed: string;
  /** Resolved image path, or undefined when it could not be found. */
  file?: string;
  stem: string;
  width?: number;
  height?: number;
  id?: number;
  /** Where the entry came from, for warnings. */
  origin: { file: string; line?: number };
  /** The list named an explicit file (so it must exist). */
  explicitFile: boolean;
}

/**
 * Reads a YOLO txt dataset into the common format. Bad label lines (malformed, unknown class,
 * box outside the image or empty), images that cannot be found or sized, and duplicate list
 * entries are reported (file + line) in `warnings` / `onWarning` and skipped. An image without
 * a label file is kept as a background image and reported as 'missing-label'.
 *
 * @param source a dataset folder, or explicit {images, labels, classes} locations.
 */
export async function readYoloDataset(source: string | YoloDatasetSource, opts: ReadYoloOptions = {}): Promise<ReadDatasetResult> {
  const fs = (nodeRequire('fs') as typeof import('fs'));
  const path = (nodeRequire('path') as typeof import('path'));
  const sink = new WarningSink(opts.onWarning);
  const exists = (p: string): boolean => fs.existsSync(p);
  const isDir = (p: string): boolean => exists(p) && fs.statSync(p).isDirectory();

  let root: string;
  let listFile: string | undefined;
  let imageDir: string | undefined;
  let labelDir: string | undefined;
  let classNames: string[] | undefined = opts.classNames;
  if (typeof source === 'string') {
    root = path.resolve(source);
    if (!isDir(root)) throw new Error(`readYoloDataset: ${root} is not a folder`);
    if (exists(path.join(root, 'images.txt'))) listFile = path.join(root, 'images.txt');
    imageDir = isDir(path.join(root, 'images')) ? path.join(root, 'images') : root;
    if (isDir(path.join(root, 'labels'))) labelDir = path.join(root, 'labels');
    if (!classNames) {
      const names = ['classes.txt', 'obj.names', 'classes.names'].map((n) => path.join(root, n)).find(exists)
        ?? fs.readdirSync(root).filter((n) => n.endsWith('.names')).sort().map((n) => path.join(root, n))[0];
      if (!names) throw new Error(`readYoloDataset: no class names in ${root} (expected classes.txt, obj.names or *.names, or pass classNames)`);
      classNames = parseClassNames(fs.readFileSync(names, 'utf8'));
    }
  } else {
    if (!source || typeof source.images !== 'string') throw new Error('readYoloDataset: source must be a folder or {images, labels?, classes}');
    const images = path.resolve(source.images);
    root = isDir(images) ? images : path.dirname(images);
    if (isDir(images)) imageDir = images;
    else if (exists(images)) listFile = images;
    else throw new Error(`readYoloDataset: ${images} does not exist`);
    if (source.labels !== undefined) {
      labelDir = path.resolve(source.labels);
      if (!isDir(labelDir)) throw new Error(`readYoloDataset: labels folder ${labelDir} does not exist`);
    }
    if (!classNames) {
      if (Array.isArray(source.classes)) classNames = source.classes.map(String);
      else if (typeof source.classes === 'string') {
        if (!exists(source.classes)) throw new Error(`readYoloDataset: class names file ${source.classes} does not exist`);
        classNames = parseClassNames(fs.readFileSync(source.classes, 'utf8'));
      } else throw new Error('readYoloDataset: classes must be a list of names or a names file');
    }
  }
  if (!classNames || classNames.length === 0) throw new Error('readYoloDataset: the class list is empty');

  const findImage = (stem: string, dirs: string[]): string | undefined => {
    for (const d of dirs) for (const ext of IMAGE_EXTS) if (exists(path.join(d, stem + ext))) return path.join(d, stem + ext);
    return undefined;
  };

  // 1. the image entries
  const entries: Entry[] = [];
  if (listFile) {
    const listDir = path.dirname(listFile);
    const searchDirs = [path.join(listDir, 'images'), listDir];
    fs.readFileSync(listFile, 'utf8').split(/\r?\n/).forEach((raw, idx) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const origin = { file: listFile!, line: idx + 1 };
      const tok = line.split(/\s+/);
      let name = line;
      let width: number | undefined;
      let height: number | undefined;
      let id: number | undefined;
      const isInt = (s: string): boolean => /^[0-9]+$/.test(s);
      if ((tok.length === 3 || tok.length === 4) && isInt(tok[1]) && isInt(tok[2]) && (tok.length === 3 || isInt(tok[3]))) {
        name = tok[0];
        width = Number(tok[1]);
        height = Number(tok[2]);
        if (tok.length === 4) id = Number(tok[3]);
        if (width <= 0 || height <= 0) {
          sink.add('malformed', origin.file, origin.line, `image size ${width}x${height} is not positive`);
          return;
        }
      }
      const explicitFile = IMAGE_EXT.test(name);
      let file: string | undefined;
      if (explicitFile) {
        const candidates = path.isAbsolute(name) ? [name] : [path.join(listDir, name), path.resolve(name)];
        file = candidates.find(exists) ?? candidates[0];
        if (!exists(file)) file = undefined;
      } else file = findImage(name, searchDirs);
      entries.push({ listed: name, file, stem: fileStem(name), width, height, id, origin, explicitFile });
    });
  } else {
    const dir = imageDir ?? root;
    const files = fs.readdirSync(dir).filter((n) => IMAGE_EXT.test(n)).sort();
    for (const n of files) {
      entries.push({ listed: n, file: path.join(dir, n), stem: fileStem(n), origin: { file: path.join(dir, n) }, explicitFile: true });
    }
  }

  // 2. images: size, labels
  const images: DatasetImage[] = [];
  const seenIds = new Set<number>();
  const seenStems = new Set<string>();
  for (let n = 0; n < entries.length; n++) {
    const e = entries[n];
    const where = e.origin.line;
    if (e.explicitFile && !e.file) {
      sink.add('missing-image', e.origin.file, where, `image ${e.listed} not found; skipped with its labels`);
      continue;
    }
    let width = e.width;
    let height = e.height;
    if (width === undefined || height === undefined) {
      if (!e.file) {
        sink.add('missing-image', e.origin.file, where, `image ${e.listed} not found (and no size listed); skipped with its labels`);
        continue;
      }
      try {
        const size = await readImageSize(e.file);
        width = size.width;
        height = size.height;
      } catch (err) {
        sink.add('missing-image', e.origin.file, where, `image ${e.listed}: ${(err as Error).message}; skipped with its labels`);
        continue;
      }
    }
    const id = e.id ?? n + 1;
    if (seenIds.has(id) || seenStems.has(e.stem)) {
      sink.add('duplicate-image', e.origin.file, where, `image ${e.listed} (id ${id}) is listed twice; the repeat is skipped`);
      continue;
    }
    seenIds.add(id);
    seenStems.add(e.stem);

    const labelCandidates: string[] = [];
    if (labelDir) labelCandidates.push(path.join(labelDir, e.stem + '.txt'));
    if (e.file) {
      const darknet = e.file
        .replace(/([\\/])images([\\/])/, '$1labels$2')
        .replace(/([\\/])JPEGImages([\\/])/, '$1labels$2')
        .replace(/\.[^.\\/]+$/, '.txt');
      labelCandidates.push(darknet, e.file.replace(/\.[^.\\/]+$/, '.txt'));
    } else labelCandidates.push(path.join(root, 'labels', e.stem + '.txt'));
    const labelFile = labelCandidates.find((p) => exists(p) && p !== e.file);
    const image: DatasetImage = { id, file: e.file ?? e.listed, width, height, boxes: [] };
    if (!labelFile) {
      sink.add('missing-label', e.origin.file, where, `no label file for ${e.listed} (looked for ${labelCandidates[0]}); kept as an image without objects`);
    } else {
      const lines = parseYoloText(fs.readFileSync(labelFile, 'utf8'), {
        file: labelFile,
        width,
        height,
        numClasses: classNames.length,
        sink,
        boundsTolerance: opts.boundsTolerance,
      });
      image.boxes = lines.map((l) => l.box);
    }
    images.push(image);
  }
  return { images, classNames, warnings: sink.warnings };
}
