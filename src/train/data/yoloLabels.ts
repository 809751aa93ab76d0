/**
 * Parsing of Darknet YOLO txt lines (`class cx cy w h`, normalised to the image size), for
 * labels and, with a trailing score, for detection results. Pure (no file access).
 */
import { checkBoxInImage, DatasetBox, WarningSink } from './dataset';

export interface YoloLine {
  box: DatasetBox;
  /** Present when parsing results (`withScore`). */
  score?: number;
}

/**
 * Parses one YOLO txt file (labels, or results with `withScore`: `class cx cy w h score`,
 * not bounds-checked since detections may extend past the image). Bad lines (wrong field count, non-numbers, class not an integer in
 * [0, numClasses), box outside the image or empty) are reported to `sink` with the file and
 * 1-based line and skipped. Blank lines and `#` comments are ignored.
 */
export function parseYoloText(
  text: string,
  opts: { file: string; width: number; height: number; numClasses: number; sink: WarningSink; boundsTolerance?: number; withScore?: boolean },
): YoloLine[] {
  const { file, width, height, numClasses, sink } = opts;
  const tol = opts.boundsTolerance ?? 1e-6;
  const nFields = opts.withScore ? 6 : 5;
  const out: YoloLine[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const tok = line.split(/\s+/);
    if (tok.length !== nFields) {
      sink.add('malformed', file, lineNo, `expected ${nFields} fields (${opts.withScore ? 'class cx cy w h score' : 'class cx cy w h'}), found ${tok.length}: "${line}"`);
      return;
    }
    const nums = tok.map(Number);
    if (!nums.every(Number.isFinite)) {
      sink.add('malformed', file, lineNo, `non-numeric field in "${line}"`);
      return;
    }
    const [cls, cx, cy, w, h] = nums;
    if (!Number.isInteger(cls) || !/^[0-9]+$/.test(tok[0]) || cls >= numClasses) {
      sink.add('unknown-class', file, lineNo, `class "${tok[0]}" is not one of the ${numClasses} classes (0..${numClasses - 1})`);
      return;
    }
    const raw4: [number, number, number, number] = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height];
    // Detections may extend past the image: only labels are bounds-checked (and clamped).
    const checked = opts.withScore
      ? raw4[2] > raw4[0] && raw4[3] > raw4[1]
        ? { box: raw4 }
        : { kind: 'empty-box' as const, message: `box [${raw4.join(', ')}] has zero or negative width/height` }
      : checkBoxInImage(...raw4, width, height, tol);
    if (!('box' in checked)) {
      sink.add(checked.kind, file, lineNo, `${checked.message} (normalised cx ${cx} cy ${cy} w ${w} h ${h})`);
      return;
    }
    const [x1, y1, x2, y2] = checked.box;
    const entry: YoloLine = { box: { x1, y1, x2, y2, classId: cls } };
    if (opts.withScore) entry.score = nums[5];
    out.push(entry);
  });
  return out;
}

/** Parses a class-names file (one name per line; blank lines skipped). */
export function parseClassNames(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
