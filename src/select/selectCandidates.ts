/**
 * Candidate selection: the decoded boxes of one image whose score passes the threshold, with
 * their class (every passing class of a multi-label spec, else the best class), in decode
 * order; and the final top-k by score.
 */
import { DecodedOutputs } from '../decode/decode';

/** The candidates of one image (network pixels). */
export interface Candidates {
  /** Flat `[x1, y1, x2, y2]` per candidate. */
  boxes: Float64Array;
  classes: number[];
  scores: number[];
}

/** Candidates of batch item `b` with score > `scoreThreshold` (strict, as Darknet). */
export function selectCandidates(d: DecodedOutputs, b: number, scoreThreshold: number): Candidates {
  const K = d.count;
  const C = d.numClasses;
  const thr = scoreThreshold;
  const boxIdx: number[] = [];
  const classes: number[] = [];
  const scores: number[] = [];
  const rows = d.rows;
  const S = d.stride;
  const base = b * K * S;
  if (d.multiLabel) {
    for (let k = 0; k < K; k++) {
      const row = base + k * S + 4;
      for (let c = 0; c < C; c++) {
        const v = rows[row + c];
        if (v > thr) {
          boxIdx.push(k);
          classes.push(c);
          scores.push(v);
        }
      }
    }
  } else {
    for (let k = 0; k < K; k++) {
      const v = rows[base + k * S + 4];
      if (v > thr) {
        boxIdx.push(k);
        classes.push(rows[base + k * S + 5]);
        scores.push(v);
      }
    }
  }
  const n = scores.length;
  const boxes = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const src = base + boxIdx[i] * S;
    for (let j = 0; j < 4; j++) boxes[i * 4 + j] = rows[src + j];
  }
  return { boxes, classes, scores };
}

/** The kept indices sorted by descending score, at most `maxDetections` of them (0 = all). */
export function topK(keep: number[], scores: ArrayLike<number>, maxDetections: number): number[] {
  const sorted = keep.slice().sort((a, c) => scores[c] - scores[a]);
  return maxDetections > 0 ? sorted.slice(0, maxDetections) : sorted;
}
