/**
 * Compare our detections with a reference list as sets: same count, and a one-to-one matching
 * where each pair has the same class, box corners within `boxTol` px and score within `scoreTol`.
 */
import { Detection } from '../../src/detection';

export interface RefDetection {
  class_id: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function matchDetections(
  ours: Detection[],
  ref: RefDetection[],
  tol: { boxTol: number; scoreTol: number },
): { maxBoxErr: number; maxScoreErr: number } {
  const used = new Uint8Array(ours.length);
  let maxBoxErr = 0;
  let maxScoreErr = 0;
  const unmatched: RefDetection[] = [];
  for (const r of ref) {
    let best = -1;
    let bestErr = Infinity;
    for (let i = 0; i < ours.length; i++) {
      if (used[i] || ours[i].classId !== r.class_id) continue;
      const d = ours[i];
      const boxErr = Math.max(
        Math.abs(d.box[0] - r.x1),
        Math.abs(d.box[1] - r.y1),
        Math.abs(d.box[2] - r.x2),
        Math.abs(d.box[3] - r.y2),
      );
      const scoreErr = Math.abs(d.score - r.score);
      if (boxErr <= tol.boxTol && scoreErr <= tol.scoreTol && boxErr + scoreErr < bestErr) {
        best = i;
        bestErr = boxErr + scoreErr;
      }
    }
    if (best < 0) {
      unmatched.push(r);
      continue;
    }
    used[best] = 1;
    const d = ours[best];
    maxBoxErr = Math.max(
      maxBoxErr,
      Math.abs(d.box[0] - r.x1),
      Math.abs(d.box[1] - r.y1),
      Math.abs(d.box[2] - r.x2),
      Math.abs(d.box[3] - r.y2),
    );
    maxScoreErr = Math.max(maxScoreErr, Math.abs(d.score - r.score));
  }
  const extra = ours.filter((_, i) => !used[i]);
  if (unmatched.length || extra.length || ours.length !== ref.length) {
    const fmt = (x: unknown) => JSON.stringify(x);
    throw new Error(
      `detections differ: ours ${ours.length}, reference ${ref.length}; ` +
        `${unmatched.length} reference entries unmatched (first: ${fmt(unmatched.slice(0, 3))}); ` +
        `${extra.length} of ours unmatched (first: ${fmt(extra.slice(0, 3))})`,
    );
  }
  return { maxBoxErr, maxScoreErr };
}

/** Largest difference of two detection lists in order (score, box corners); Infinity when the count or a class differs. */
export function maxDetectionError(a: Detection[], b: Detection[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  a.forEach((d, i) => {
    if (d.classId !== b[i].classId) m = Infinity;
    m = Math.max(m, Math.abs(d.score - b[i].score), ...d.box.map((v, k) => Math.abs(v - b[i].box[k])));
  });
  return m;
}
