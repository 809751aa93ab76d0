/**
 * A tiny line-plot renderer for training curves: panels of line series drawn into an RGBA
 * buffer (axes, grid, anti-aliasing-free Bresenham lines), pure TypeScript. `writeCurvesPng`
 * (Node only) encodes it with sharp and adds the titles and axis numbers as an SVG overlay.
 */
import { nodeRequire } from '../util/nodeRequire';

/** One line. */
export interface PlotSeries {
  label: string;
  /** x values (e.g. step or epoch) and y values, same length. */
  x: number[];
  y: number[];
  /** `[r, g, b]`. */
  color: [number, number, number];
}

/** One panel (its own axes). */
export interface PlotPanel {
  title: string;
  series: PlotSeries[];
  /** Fixed y range (default: the data's, padded). */
  yRange?: [number, number];
}

/** An RGBA image. */
export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Pixel layout of one panel inside the image (for the overlay text). */
export interface PanelFrame {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  xRange: [number, number];
  yRange: [number, number];
}

const MARGIN = { left: 56, right: 16, top: 28, bottom: 28 };

function setPx(img: RgbaImage, x: number, y: number, c: [number, number, number]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const i = (y * img.width + x) * 4;
  img.data[i] = c[0];
  img.data[i + 1] = c[1];
  img.data[i + 2] = c[2];
  img.data[i + 3] = 255;
}

/** Bresenham line, `thick` pixels wide (square pen). */
export function drawLine(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, c: [number, number, number], thick = 1): void {
  x0 = Math.round(x0); y0 = Math.round(y0); x1 = Math.round(x1); y1 = Math.round(y1);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  const h = Math.floor((thick - 1) / 2);
  for (;;) {
    for (let a = -h; a < thick - h; a++) for (let b = -h; b < thick - h; b++) setPx(img, x0 + a, y0 + b, c);
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) { err += dy; x0 += sx; }
    if (e2 <= dx) { err += dx; y0 += sy; }
  }
}

function range(values: number[]): [number, number] {
  const f = values.filter(Number.isFinite);
  if (f.length === 0) return [0, 1];
  let lo = Math.min(...f);
  let hi = Math.max(...f);
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/**
 * Render panels side by side into an RGBA buffer (white background, grey grid, black axes,
 * one coloured polyline per series; non-finite points break the line).
 */
export function renderPlot(panels: PlotPanel[], width = 900, height = 320): { image: RgbaImage; frames: PanelFrame[] } {
  if (panels.length === 0) throw new Error('renderPlot: needs at least one panel');
  const img: RgbaImage = { data: new Uint8Array(width * height * 4).fill(255), width, height };
  const pw = Math.floor(width / panels.length);
  const frames: PanelFrame[] = [];
  panels.forEach((p, k) => {
    const x0 = k * pw + MARGIN.left;
    const x1 = (k + 1) * pw - MARGIN.right;
    const y0 = MARGIN.top;
    const y1 = height - MARGIN.bottom;
    const xs = p.series.flatMap((s) => s.x);
    const xr = range(xs);
    const yr = p.yRange ?? range(p.series.flatMap((s) => s.y));
    const X = (v: number): number => x0 + ((v - xr[0]) / (xr[1] - xr[0])) * (x1 - x0);
    const Y = (v: number): number => y1 - ((v - yr[0]) / (yr[1] - yr[0])) * (y1 - y0);
    for (let g = 0; g <= 4; g++) {
      const gy = y0 + ((y1 - y0) * g) / 4;
      drawLine(img, x0, gy, x1, gy, [225, 225, 225]);
      const gx = x0 + ((x1 - x0) * g) / 4;
      drawLine(img, gx, y0, gx, y1, [225, 225, 225]);
    }
    drawLine(img, x0, y1, x1, y1, [0, 0, 0]);
    drawLine(img, x0, y0, x0, y1, [0, 0, 0]);
    for (const s of p.series) {
      if (s.x.length !== s.y.length) throw new Error(`renderPlot: series '${s.label}' has ${s.x.length} x and ${s.y.length} y values`);
      let prev: [number, number] | null = null;
      for (let i = 0; i < s.x.length; i++) {
        if (!Number.isFinite(s.y[i]) || !Number.isFinite(s.x[i])) { prev = null; continue; }
        const pt: [number, number] = [X(s.x[i]), Y(Math.min(Math.max(s.y[i], yr[0]), yr[1]))];
        if (prev) drawLine(img, prev[0], prev[1], pt[0], pt[1], s.color, 2);
        else drawLine(img, pt[0], pt[1], pt[0], pt[1], s.color, 3);
        prev = pt;
      }
    }
    frames.push({ x0, y0, x1, y1, xRange: xr, yRange: yr });
  });
  return { image: img, frames };
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 1000 || (a < 0.01 && a > 0) ? v.toExponential(1) : String(Math.round(v * 1000) / 1000);
}

function esc(s: string): string {
  return s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);
}

/** The SVG text overlay: titles, legends, axis numbers. */
export function plotLabelsSvg(panels: PlotPanel[], frames: PanelFrame[], width: number, height: number): string {
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`];
  panels.forEach((p, k) => {
    const f = frames[k];
    parts.push(`<text x="${f.x0}" y="16" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
    let lx = f.x0 + 8;
    for (const s of p.series) {
      if (!s.label) continue; // unlabelled series (e.g. intermediate epochs) stay out of the legend
      parts.push(`<text x="${lx}" y="${f.y0 + 14}" fill="rgb(${s.color.join(',')})">${esc(s.label)}</text>`);
      lx += s.label.length * 7 + 14;
    }
    for (let g = 0; g <= 4; g++) {
      const yv = f.yRange[1] - ((f.yRange[1] - f.yRange[0]) * g) / 4;
      parts.push(`<text x="${f.x0 - 4}" y="${f.y0 + ((f.y1 - f.y0) * g) / 4 + 4}" text-anchor="end">${fmt(yv)}</text>`);
      const xv = f.xRange[0] + ((f.xRange[1] - f.xRange[0]) * g) / 4;
      parts.push(`<text x="${f.x0 + ((f.x1 - f.x0) * g) / 4}" y="${f.y1 + 16}" text-anchor="middle">${fmt(xv)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Node only: render `panels` and write a PNG (lines from `renderPlot`, text by sharp's SVG). */
export async function writeCurvesPng(file: string, panels: PlotPanel[], width = 900, height = 320): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sharp = nodeRequire('sharp') as (input: Buffer, o?: import('sharp').SharpOptions) => import('sharp').Sharp;
  const { image, frames } = renderPlot(panels, width, height);
  const svg = Buffer.from(plotLabelsSvg(panels, frames, width, height));
  await sharp(Buffer.from(image.data), { raw: { width, height, channels: 4 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toFile(file);
}
