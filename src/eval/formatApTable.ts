/**
 * A plain-text per-class AP table for the results of `cocoEvaluate` or `vocEvaluate`.
 */
import type { CocoClassResult } from './cocoEvaluate';
import type { VocClassResult } from './vocEvaluate';

const METRIC_COLUMNS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR100'] as const;
const COUNT_COLUMNS = ['npos', 'numGt', 'numDets', 'tp', 'fp'] as const;

/**
 * Formats per-class results as an aligned text table (one row per class, a header row).
 * Metric columns present in the rows are shown with `digits` decimals ('-' for null / no
 * data); count columns (gt, detections, tp, fp) follow when present.
 */
export function formatApTable(perClass: ReadonlyArray<CocoClassResult | VocClassResult>, digits = 4): string {
  if (!Array.isArray(perClass)) throw new Error('formatApTable: perClass must be an array of per-class results');
  const rows = perClass as ReadonlyArray<Record<string, unknown>>;
  const present = (k: string): boolean => rows.some((r) => k in r);
  const metrics = METRIC_COLUMNS.filter(present);
  const counts = COUNT_COLUMNS.filter(present);
  const header = ['class', 'id', ...metrics, ...counts];
  const body = rows.map((r) => [
    String(r.name ?? ''),
    String(r.categoryId ?? ''),
    ...metrics.map((k) => (typeof r[k] === 'number' && Number.isFinite(r[k] as number) ? (r[k] as number).toFixed(digits) : '-')),
    ...counts.map((k) => (r[k] === undefined ? '-' : String(r[k]))),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
