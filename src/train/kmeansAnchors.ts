/**
 * k-means anchor clustering on box sizes with the 1 - IoU distance (boxes compared as if they
 * shared a corner), as Darknet's `calc_anchors` and the YOLOv2/v3 papers do. Pure, seeded.
 */

import { mulberry32 } from '../util/random';

export interface KmeansAnchorsOptions {
  /** PRNG seed for the k-means++ initialisation. Default 0. */
  seed?: number;
  /** Maximum Lloyd iterations (it stops earlier when no assignment changes). Default 300. */
  iterations?: number;
}

export interface KmeansAnchorsResult {
  /** k anchors [w, h], sorted by area (then width), in the units of the input boxes. */
  anchors: [number, number][];
  /** Mean over boxes of the best IoU with any anchor. */
  avgIoU: number;
  /** Iterations run until the assignment was stable (or the limit). */
  iterations: number;
}

/** IoU of two boxes sharing a corner. */
export function cornerIoU(w1: number, h1: number, w2: number, h2: number): number {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  return inter / (w1 * h1 + w2 * h2 - inter);
}

function nearest(w: number, h: number, centers: [number, number][]): { index: number; iou: number } {
  let index = 0;
  let best = -1;
  for (let j = 0; j < centers.length; j++) {
    const v = cornerIoU(w, h, centers[j][0], centers[j][1]);
    if (v > best) {
      best = v;
      index = j;
    }
  }
  return { index, iou: best };
}

/**
 * Clusters box sizes into k anchors: k-means++ initialisation (seeded) and Lloyd iterations
 * with the distance 1 - IoU, each centre the mean width/height of its boxes (an emptied
 * cluster keeps its centre). Deterministic for a given seed.
 *
 * @param boxesWH box sizes [w, h] (any unit, e.g. network pixels); all must be > 0.
 * @param k number of anchors (at most the number of boxes).
 */
export function kmeansAnchors(boxesWH: ReadonlyArray<readonly [number, number]>, k: number, opts: KmeansAnchorsOptions = {}): KmeansAnchorsResult {
  if (!Number.isInteger(k) || k < 1) throw new Error(`kmeansAnchors: k must be a positive integer, got ${k}`);
  if (!Array.isArray(boxesWH)) throw new Error('kmeansAnchors: boxesWH must be an array of [w, h]');
  if (boxesWH.length < k) throw new Error(`kmeansAnchors: need at least k = ${k} boxes, got ${boxesWH.length}`);
  boxesWH.forEach((b, i) => {
    if (!b || !(b[0] > 0) || !(b[1] > 0) || !Number.isFinite(b[0]) || !Number.isFinite(b[1])) {
      throw new Error(`kmeansAnchors: box ${i} ${JSON.stringify(b)} needs a positive finite width and height`);
    }
  });
  const maxIter = opts.iterations ?? 300;
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new Error(`kmeansAnchors: iterations must be a positive integer, got ${maxIter}`);
  const rand = mulberry32(opts.seed ?? 0);
  const n = boxesWH.length;

  // k-means++: first centre uniform, then proportional to the squared distance to the nearest.
  const centers: [number, number][] = [];
  const first = boxesWH[Math.min(n - 1, Math.floor(rand() * n))];
  centers.push([first[0], first[1]]);
  const d2 = new Float64Array(n);
  while (centers.length < k) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = 1 - nearest(boxesWH[i][0], boxesWH[i][1], centers).iou;
      d2[i] = d * d;
      sum += d2[i];
    }
    let pick = n - 1;
    if (sum > 0) {
      let r = rand() * sum;
      for (let i = 0; i < n; i++) {
        r -= d2[i];
        if (r < 0) {
          pick = i;
          break;
        }
      }
    } else pick = Math.min(n - 1, Math.floor(rand() * n));
    centers.push([boxesWH[pick][0], boxesWH[pick][1]]);
  }

  const assign = new Int32Array(n).fill(-1);
  let it = 0;
  for (; it < maxIter; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      const j = nearest(boxesWH[i][0], boxesWH[i][1], centers).index;
      if (assign[i] !== j) {
        assign[i] = j;
        changed = true;
      }
    }
    if (!changed) break;
    const sw = new Float64Array(k);
    const sh = new Float64Array(k);
    const cnt = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      sw[assign[i]] += boxesWH[i][0];
      sh[assign[i]] += boxesWH[i][1];
      cnt[assign[i]]++;
    }
    for (let j = 0; j < k; j++) if (cnt[j] > 0) centers[j] = [sw[j] / cnt[j], sh[j] / cnt[j]];
  }

  const anchors = centers.slice().sort((a, b) => a[0] * a[1] - b[0] * b[1] || a[0] - b[0]);
  let iouSum = 0;
  for (const b of boxesWH) iouSum += nearest(b[0], b[1], anchors).iou;
  return { anchors, avgIoU: iouSum / n, iterations: it };
}
