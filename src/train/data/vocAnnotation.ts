/**
 * Parsing of one Pascal VOC annotation XML into the common format. Pure (no file access).
 */
import { checkBoxInImage, DatasetBox, WarningSink } from './dataset';
import { parseXml, xmlChild, xmlChildren, xmlChildText } from './xml';

export interface VocAnnotation {
  filename?: string;
  /** From <size>; undefined when absent or zero. */
  width?: number;
  height?: number;
  objects: { name: string; difficult: boolean; xmin: number; ymin: number; xmax: number; ymax: number; line: number }[];
}

/**
 * Parses a VOC annotation document. Objects without a name or with a missing / non-numeric
 * <bndbox> coordinate are reported (file + line) and skipped. Throws on malformed XML or a
 * root element that is not <annotation>.
 */
export function parseVocAnnotation(xml: string, file: string, sink: WarningSink): VocAnnotation {
  let root;
  try {
    root = parseXml(xml);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (root.name !== 'annotation') throw new Error(`${file}: root element is <${root.name}>, expected <annotation>`);
  const out: VocAnnotation = { filename: xmlChildText(root, 'filename'), objects: [] };
  const size = xmlChild(root, 'size');
  if (size) {
    const w = Number(xmlChildText(size, 'width'));
    const h = Number(xmlChildText(size, 'height'));
    if (w > 0 && h > 0 && Number.isFinite(w) && Number.isFinite(h)) {
      out.width = w;
      out.height = h;
    }
  }
  for (const obj of xmlChildren(root, 'object')) {
    const name = xmlChildText(obj, 'name');
    if (!name) {
      sink.add('malformed', file, obj.line, '<object> without a <name>');
      continue;
    }
    const bb = xmlChild(obj, 'bndbox');
    if (!bb) {
      sink.add('malformed', file, obj.line, `<object> "${name}" without a <bndbox>`);
      continue;
    }
    const coords = ['xmin', 'ymin', 'xmax', 'ymax'].map((k) => {
      const t = xmlChildText(bb, k);
      return t === undefined || t === '' ? NaN : Number(t);
    });
    if (!coords.every(Number.isFinite)) {
      sink.add('malformed', file, bb.line, `<object> "${name}": <bndbox> needs numeric xmin, ymin, xmax, ymax`);
      continue;
    }
    const diff = xmlChildText(obj, 'difficult');
    out.objects.push({ name, difficult: diff !== undefined && Number(diff) !== 0 && diff !== '', xmin: coords[0], ymin: coords[1], xmax: coords[2], ymax: coords[3], line: obj.line });
  }
  return out;
}

/**
 * Turns parsed VOC objects into boxes (coordinates kept as written: x1 = xmin, x2 = xmax).
 * Unknown class names and boxes outside the image or empty are reported and skipped.
 */
export function vocObjectsToBoxes(
  ann: VocAnnotation,
  opts: { file: string; width: number; height: number; classIndex: Map<string, number>; sink: WarningSink; boundsTolerance?: number },
): DatasetBox[] {
  const boxes: DatasetBox[] = [];
  for (const o of ann.objects) {
    const cls = opts.classIndex.get(o.name);
    if (cls === undefined) {
      opts.sink.add('unknown-class', opts.file, o.line, `unknown class "${o.name}"`);
      continue;
    }
    const checked = checkBoxInImage(o.xmin, o.ymin, o.xmax, o.ymax, opts.width, opts.height, opts.boundsTolerance ?? 1e-6);
    if (!('box' in checked)) {
      opts.sink.add(checked.kind, opts.file, o.line, `"${o.name}": ${checked.message}`);
      continue;
    }
    const [x1, y1, x2, y2] = checked.box;
    const box: DatasetBox = { x1, y1, x2, y2, classId: cls };
    if (o.difficult) box.difficult = true;
    boxes.push(box);
  }
  return boxes;
}
