/**
 * A small synthetic detection dataset: circles, squares and triangles in random colours and
 * sizes on textured backgrounds (gradients, stripes, noise), drawn into RGB buffers and written
 * as YOLO txt datasets (`<dir>/<split>/{classes.txt, images/*.jpg, labels/*.txt}`), train/val
 * split. Deterministic under a seed. `renderSyntheticImage` is pure; writing is Node-only (sharp).
 */
import { Rng, hashSeed, mulberry32, uniform } from '../util/random';
import { nodeRequire } from '../util/nodeRequire';

/** The classes, in label order. */
export const SYNTHETIC_CLASSES = ['circle', 'square', 'triangle'];

/** One drawn shape (pixel box, x2 = x1 + width). */
export interface SyntheticObject {
  classId: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A rendered image. */
export interface SyntheticImage {
  width: number;
  height: number;
  /** RGB, row-major. */
  data: Uint8Array;
  objects: SyntheticObject[];
}

/** Options of the generator. */
export interface SyntheticOptions {
  /** Image `[width, height]` range, e.g. [[256, 192], [352, 288]]. Default [[256, 192], [384, 320]]. */
  sizeRange?: [[number, number], [number, number]];
  /** Objects per image, inclusive range. Default [1, 4]. */
  objects?: [number, number];
  /** Object side range as a fraction of the shorter image side. Default [0.15, 0.45]. */
  objectScale?: [number, number];
}

function texture(rng: Rng, w: number, h: number, data: Uint8Array): void {
  const kind = Math.floor(rng() * 3);
  const c0 = [0, 1, 2].map(() => 40 + rng() * 170);
  const c1 = [0, 1, 2].map(() => 40 + rng() * 170);
  const period = 6 + rng() * 30;
  const angle = rng() * Math.PI;
  const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
  const noise = 10 + rng() * 30;
  let s = hashSeed(Math.floor(rng() * 2 ** 32));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let t: number;
      if (kind === 0) t = (x * ca + y * sa) / Math.hypot(w, h) + 0.5; // gradient
      else if (kind === 1) t = Math.sin(((x * ca + y * sa) / period) * Math.PI) * 0.5 + 0.5; // stripes
      else t = (Math.floor(x / period) + Math.floor(y / period)) % 2 ? 0.3 : 0.7; // checks
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const n = (s / 4294967296 - 0.5) * noise;
        data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, c0[c] * (1 - t) + c1[c] * t + n));
      }
    }
  }
}

function inside(classId: number, x: number, y: number, b: SyntheticObject): boolean {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const u = (x - b.x1) / w;
  const v = (y - b.y1) / h;
  if (u < 0 || v < 0 || u > 1 || v > 1) return false;
  if (classId === 1) return true;
  if (classId === 0) return (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25;
  // triangle: apex top-centre, base at the bottom
  return v >= Math.abs(u - 0.5) * 2;
}

/** Render one image with its objects (pure; deterministic from `seed`). */
export function renderSyntheticImage(seed: number, o: SyntheticOptions = {}): SyntheticImage {
  const rng = mulberry32(seed);
  const [[w0, h0], [w1, h1]] = o.sizeRange ?? [[256, 192], [384, 320]];
  const width = Math.round(uniform(rng, w0, w1));
  const height = Math.round(uniform(rng, h0, h1));
  const data = new Uint8Array(width * height * 3);
  texture(rng, width, height, data);
  const [n0, n1] = o.objects ?? [1, 4];
  const n = n0 + Math.floor(rng() * (n1 - n0 + 1));
  const [s0, s1] = o.objectScale ?? [0.15, 0.45];
  const objects: SyntheticObject[] = [];
  for (let tries = 0; objects.length < n && tries < 50; tries++) {
    const classId = Math.floor(rng() * SYNTHETIC_CLASSES.length);
    const side = Math.round(uniform(rng, s0, s1) * Math.min(width, height));
    const aspect = classId === 0 || classId === 1 ? uniform(rng, 0.8, 1.25) : uniform(rng, 0.9, 1.2);
    const bw = Math.max(8, Math.round(side * Math.sqrt(aspect)));
    const bh = Math.max(8, Math.round(side / Math.sqrt(aspect)));
    const x1 = Math.floor(rng() * (width - bw));
    const y1 = Math.floor(rng() * (height - bh));
    const b: SyntheticObject = { classId, x1, y1, x2: x1 + bw, y2: y1 + bh };
    // limited overlap with earlier shapes (IoU < 0.1) so every shape stays visible
    const overlaps = objects.some((p) => {
      const iw = Math.min(p.x2, b.x2) - Math.max(p.x1, b.x1);
      const ih = Math.min(p.y2, b.y2) - Math.max(p.y1, b.y1);
      if (iw <= 0 || ih <= 0) return false;
      return (iw * ih) / (bw * bh + (p.x2 - p.x1) * (p.y2 - p.y1) - iw * ih) > 0.1;
    });
    if (overlaps) continue;
    const col = [0, 1, 2].map(() => (rng() < 0.5 ? rng() * 60 : 195 + rng() * 60));
    if (Math.max(...col) - Math.min(...col) < 80) col[Math.floor(rng() * 3)] = 255 - col[0];
    for (let y = b.y1; y < b.y2; y++) {
      for (let x = b.x1; x < b.x2; x++) {
        if (!inside(classId, x + 0.5, y + 0.5, b)) continue;
        for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = col[c];
      }
    }
    objects.push(b);
  }
  return { width, height, data, objects };
}

/** YOLO txt lines (`class cx cy w h`, normalised, 6 decimals) of an image's objects. */
export function yoloLabelLines(img: SyntheticImage): string {
  return img.objects
    .map((b) => [b.classId, (b.x1 + b.x2) / 2 / img.width, (b.y1 + b.y2) / 2 / img.height, (b.x2 - b.x1) / img.width, (b.y2 - b.y1) / img.height]
      .map((v, i) => (i === 0 ? String(v) : v.toFixed(6)))
      .join(' '))
    .join('\n');
}

/** Options of {@link writeSyntheticDataset}. */
export interface WriteSyntheticOptions extends SyntheticOptions {
  /** Images per split. Default { train: 200, val: 50 }. */
  splits?: Record<string, number>;
  seed?: number;
  /** JPEG quality (default 92); 'png' writes lossless PNGs. */
  format?: 'jpg' | 'png';
}

/**
 * NODE-ONLY: write a synthetic YOLO txt dataset to `dir`: one folder per split with
 * `classes.txt`, `images/<split>_<i>.jpg` and `labels/<split>_<i>.txt`. Returns the split folders.
 */
export async function writeSyntheticDataset(dir: string, o: WriteSyntheticOptions = {}): Promise<Record<string, string>> {
  const fs = nodeRequire('fs') as typeof import('fs');
  const path = nodeRequire('path') as typeof import('path');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sharp = nodeRequire('sharp') as (input: Buffer, o?: import('sharp').SharpOptions) => import('sharp').Sharp;
  const splits = o.splits ?? { train: 200, val: 50 };
  const seed = o.seed ?? 0;
  const out: Record<string, string> = {};
  let splitNo = 0;
  for (const [split, count] of Object.entries(splits)) {
    const root = path.join(dir, split);
    fs.mkdirSync(path.join(root, 'images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'labels'), { recursive: true });
    fs.writeFileSync(path.join(root, 'classes.txt'), `${SYNTHETIC_CLASSES.join('\n')}\n`);
    for (let i = 0; i < count; i++) {
      const img = renderSyntheticImage(hashSeed(seed, splitNo, i), o);
      const stem = `${split}_${String(i).padStart(5, '0')}`;
      const s = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } });
      const ext = o.format === 'png' ? 'png' : 'jpg';
      await (ext === 'png' ? s.png() : s.jpeg({ quality: 92 })).toFile(path.join(root, 'images', `${stem}.${ext}`));
      fs.writeFileSync(path.join(root, 'labels', `${stem}.txt`), `${yoloLabelLines(img)}\n`);
    }
    out[split] = root;
    splitNo++;
  }
  return out;
}
