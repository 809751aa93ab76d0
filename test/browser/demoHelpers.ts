/**
 * Helpers of the demo page test: Chromium's software WebGL flags, CSS colour parsing (to find
 * the drawn boxes on the canvas) and a Y4M writer (a clip for Chromium's fake webcam).
 */
import * as fs from 'fs';

/**
 * WebGL in headless Chromium without a GPU: ANGLE on SwiftShader (CPU). Newer Chromium also
 * wants `--enable-unsafe-swiftshader` before it falls back to SwiftShader for WebGL.
 */
export const CHROMIUM_GL_ARGS = ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

/** `hsl(h, s%, l%)` or `#rrggbb` to `[r, g, b]` (0-255, rounded as canvases store them). */
export function cssColorToRgb(css: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css);
  if (hex) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  const m = /^hsl\(\s*([\d.]+)\s*,\s*([\d.]+)%\s*,\s*([\d.]+)%\s*\)$/.exec(css);
  if (!m) throw new Error(`unsupported colour ${css}`);
  const h = Number(m[1]) / 360;
  const s = Number(m[2]) / 100;
  const l = Number(m[3]) / 100;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number): number => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    if (u < 1 / 6) return p + (q - p) * 6 * u;
    if (u < 1 / 2) return q;
    if (u < 2 / 3) return p + (q - p) * (2 / 3 - u) * 6;
    return p;
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)].map((v) => Math.round(v * 255)) as [number, number, number];
}

/**
 * Writes RGB pixels (`width * height * 3`, even sizes) as a Y4M clip of `frames` identical
 * 4:2:0 frames (BT.601 limited range, what Chromium's fake capture device decodes), for
 * `--use-file-for-fake-video-capture`.
 */
export function writeY4m(file: string, rgb: Uint8Array, width: number, height: number, frames = 2): void {
  if (width % 2 || height % 2) throw new Error('Y4M 4:2:0 needs even sizes');
  const y = new Uint8Array(width * height);
  const u = new Uint8Array((width / 2) * (height / 2));
  const v = new Uint8Array(u.length);
  const clamp = (x: number): number => Math.max(0, Math.min(255, Math.round(x)));
  for (let i = 0; i < width * height; i++) {
    const r = rgb[i * 3] / 255;
    const g = rgb[i * 3 + 1] / 255;
    const b = rgb[i * 3 + 2] / 255;
    y[i] = clamp(16 + 65.481 * r + 128.553 * g + 24.966 * b);
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < width / 2; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const i = (cy * 2 + dy) * width + cx * 2 + dx;
        r += rgb[i * 3] / 1020;
        g += rgb[i * 3 + 1] / 1020;
        b += rgb[i * 3 + 2] / 1020;
      }
      const k = cy * (width / 2) + cx;
      u[k] = clamp(128 - 37.797 * r - 74.203 * g + 112 * b);
      v[k] = clamp(128 + 112 * r - 93.786 * g - 18.214 * b);
    }
  }
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) parts.push(Buffer.from('FRAME\n'), Buffer.from(y), Buffer.from(u), Buffer.from(v));
  fs.writeFileSync(file, Buffer.concat(parts));
}
