/**
 * The `classes` option of `postprocess` / `detect`: keep only detections of some classes, given
 * by name (`'person'`) or id (`0`). The filter applies to the candidates before NMS, so a box of
 * an ignored class never suppresses a wanted one and `maxDetections` counts wanted boxes only.
 * Single-label models (one best class per box) drop a box whose best class is not wanted.
 */
import { DecodedOutputs } from '../decode/decode';

/** How many class names an error message lists. */
const LISTED = 8;
/** Longer unknown names get no "did you mean" (bounded work) and are cut in the message. */
const LONGEST_NAME = 64;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** "valid classes include ..." with the names closest to `wrong` first. */
function someValidNames(classNames: readonly string[], wrong: string): string {
  const w = wrong.toLowerCase();
  const near = wrong.length > LONGEST_NAME ? [] : classNames
    .map((n, i) => ({ n, i, d: editDistance(n.toLowerCase(), w) }))
    .filter((x) => x.d <= 2 || x.n.toLowerCase().includes(w) || (w.length >= 3 && w.includes(x.n.toLowerCase())))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.n);
  const listed = [...new Set([...near, ...classNames])].slice(0, LISTED);
  const hint = near.length ? `did you mean '${near[0]}'? ` : '';
  return `${hint}valid classes include ${listed.join(', ')}${classNames.length > LISTED ? ` (${classNames.length} in all)` : ''}`;
}

/**
 * Class ids of a `classes` option. Names match exactly, else ignoring case; ids must be
 * integers in [0, number of classes). An empty list keeps nothing.
 * @throws for an unknown name (suggesting the nearest valid ones), a bad id, or a non-array.
 */
export function resolveClassFilter(classNames: readonly string[], classes: ReadonlyArray<string | number>): Set<number> {
  if (!Array.isArray(classes)) {
    throw new Error(`classes must be an array of class names or ids, got ${typeof classes === 'string' ? `'${classes}'` : typeof classes}`);
  }
  const ids = new Set<number>();
  for (const c of classes) {
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0 || c >= classNames.length) {
        throw new Error(`class id ${c} is out of range: this model has classes 0..${classNames.length - 1}`);
      }
      ids.add(c);
    } else if (typeof c === 'string') {
      let id = classNames.indexOf(c);
      if (id < 0) id = classNames.findIndex((n) => n.toLowerCase() === c.toLowerCase());
      if (id < 0) {
        const shown = c.length > LONGEST_NAME ? `${c.slice(0, LONGEST_NAME)}...` : c;
        throw new Error(`unknown class '${shown}': ${someValidNames(classNames, c)}`);
      }
      ids.add(id);
    } else {
      throw new Error(`classes must hold class names or ids, got ${c === null ? 'null' : typeof c}`);
    }
  }
  return ids;
}

/** Make the candidates of unwanted classes fall below any score threshold (in place). */
export function keepOnlyClasses(d: DecodedOutputs, wanted: ReadonlySet<number>): void {
  const rows = d.rows;
  const S = d.stride;
  const rowsTotal = d.batch * d.count;
  for (let r = 0; r < rowsTotal; r++) {
    const o = r * S;
    if (d.multiLabel) {
      for (let c = 0; c < d.numClasses; c++) if (!wanted.has(c)) rows[o + 4 + c] = -Infinity;
    } else if (!wanted.has(rows[o + 5])) {
      rows[o + 4] = -Infinity;
    }
  }
}
