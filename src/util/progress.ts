/**
 * A minimal progress bar on stderr for long work (conversion, training, evaluation): a bar,
 * count, rate, ETA and free-form fields (e.g. loss terms). Redraws in place on a TTY; on a
 * non-TTY (CI logs) prints a line every `logEvery` steps.
 */

export interface ProgressOptions {
  total: number;
  label?: string;
  /** Stream to draw on (default process.stderr when it exists). */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Non-TTY: print every N steps (default ~10 lines per run). */
  logEvery?: number;
  /** Disable output entirely. */
  silent?: boolean;
}

export class ProgressBar {
  private current = 0;
  private readonly start = Date.now();
  private readonly stream?: ProgressOptions['stream'];
  private readonly logEvery: number;

  constructor(private readonly opts: ProgressOptions) {
    const g = globalThis as { process?: { stderr?: ProgressOptions['stream'] } };
    this.stream = opts.silent ? undefined : opts.stream ?? g.process?.stderr;
    this.logEvery = opts.logEvery ?? Math.max(1, Math.ceil(opts.total / 10));
  }

  /** Advance by `n` steps and redraw with optional fields such as `{loss: 1.23}`. */
  tick(n = 1, fields: Record<string, number | string> = {}): void {
    this.current = Math.min(this.opts.total, this.current + n);
    if (!this.stream) return;
    const done = this.current >= this.opts.total;
    if (!this.stream.isTTY && !done && this.current % this.logEvery !== 0) return;
    this.stream.write((this.stream.isTTY ? '\r\x1b[K' : '') + this.render(fields) + (this.stream.isTTY && !done ? '' : '\n'));
  }

  /** The current line (exposed for tests). */
  render(fields: Record<string, number | string> = {}): string {
    const { total, label } = this.opts;
    const frac = total > 0 ? this.current / total : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.current / elapsed : 0;
    const eta = rate > 0 ? (total - this.current) / rate : NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNum(v) : v}`)
      .join('  ');
    return (
      `${label ? `${label} ` : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.current}/${total}` +
      ` ${rate.toFixed(rate < 10 ? 2 : 0)}/s ETA ${Number.isFinite(eta) ? fmtTime(eta) : '?'}` +
      (extra ? `  ${extra}` : '')
    );
  }
}

function fmtNum(v: number): string {
  return Math.abs(v) >= 100 || v === Math.round(v) ? String(Math.round(v * 100) / 100) : v.toPrecision(4);
}

function fmtTime(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
