/** Test-only: match our detections against a Darknet `detections_*.json` list as sets. */
import { Detection } from '../../src/detector';

export interface ExpectedDetection {
  class_id: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * For each expected detection, the unused detection of the same class with the closest box.
 * Returns how many matched within `boxTol` px (every coordinate) and `scoreTol`, and the worst
 * box / score differences among the matches.
 */
export function matchDetections(
  ours: Detection[],
  expected: ExpectedDetection[],
  boxTol = 0.5,
  scoreTol = 1e-3,
): { matched: number; worstBox: number; worstScore: number } {
  const used = new Array<boolean>(ours.length).fill(false);
  let matched = 0;
  let worstBox = 0;
  let worstScore = 0;
  for (const e of expected) {
    let best = -1;
    let bestD = Infinity;
    ours.forEach((d, i) => {
      if (used[i] || d.classId !== e.class_id) return;
      const dist = Math.max(
        Math.abs(d.box[0] - e.x1), Math.abs(d.box[1] - e.y1), Math.abs(d.box[2] - e.x2), Math.abs(d.box[3] - e.y2),
      );
      if (dist < bestD) {
        bestD = dist;
        best = i;
      }
    });
    if (best < 0) continue;
    const ds = Math.abs(ours[best].score - e.score);
    if (bestD <= boxTol && ds <= scoreTol) {
      used[best] = true;
      matched++;
      worstBox = Math.max(worstBox, bestD);
      worstScore = Math.max(worstScore, ds);
    }
  }
  return { matched, worstBox, worstScore };
}
