/**
 * Draw labelled boxes on an image and write it (Node, sharp): an SVG overlay of rectangles and
 * labels composited onto the decoded image. Colours are stable per class.
 */
import { Detection } from '../detection';
import { nodeRequire } from '../util/nodeRequire';

/** A distinct, stable colour per class id. */
export function classColor(classId: number): string {
  const hue = (classId * 137.508) % 360; // golden angle
  return `hsl(${hue.toFixed(1)}, 85%, 50%)`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** The SVG overlay (exposed for tests). */
export function detectionsSvg(dets: Detection[], width: number, height: number): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 40));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`];
  // Boxes first, then all labels on top so no box hides a label.
  const labels: string[] = [];
  for (const d of dets) {
    const [x1, y1, x2, y2] = d.box.map((v) => Math.round(v * 10) / 10);
    const c = classColor(d.classId);
    const text = `${d.label} ${(d.score * 100).toFixed(0)}%`;
    const tw = Math.round(text.length * font * 0.6) + 6;
    const ty = Math.max(0, y1 - font - 4);
    parts.push(
      `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="${c}" stroke-width="${stroke}"/>`,
    );
    labels.push(
      `<rect x="${x1}" y="${ty}" width="${tw}" height="${font + 4}" fill="${c}"/>`,
      `<text x="${x1 + 3}" y="${ty + font}" font-family="sans-serif" font-size="${font}" fill="white">${escapeXml(text)}</text>`,
    );
  }
  parts.push(...labels);
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Draw `dets` on the image (path or encoded bytes) and write it to `outPath` (format from the
 * extension: .jpg, .png, .webp).
 */
export async function drawDetections(image: string | Uint8Array, dets: Detection[], outPath: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sharp = nodeRequire('sharp') as (input: string | Uint8Array) => import('sharp').Sharp;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = nodeRequire('fs') as typeof import('fs');
  const input = typeof image === 'string' ? fs.readFileSync(image) : image;
  const meta = await sharp(input).metadata();
  if (!meta.width || !meta.height) throw new Error('cannot read the image size to draw on');
  // Boxes are in the upright frame (detect applies EXIF orientation), so draw on it too.
  const [w, h] = (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
  const svg = Buffer.from(detectionsSvg(dets, w, h));
  const upright = await sharp(input).autoOrient().toBuffer();
  await sharp(upright).composite([{ input: svg, top: 0, left: 0 }]).toFile(outPath);
}
