/**
 * NODE-ONLY (with `outDir`): `train.jsonl`, one JSON record per step and per epoch.
 */
import { nodeRequire } from '../util/nodeRequire';

/** A writer appending records to `<outDir>/train.jsonl` (created); without `outDir`, a no-op. */
export function jsonl(outDir: string | undefined): (rec: object) => void {
  if (!outDir) return () => undefined;
  const fs = nodeRequire('fs') as typeof import('fs');
  const path = nodeRequire('path') as typeof import('path');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'train.jsonl');
  return (rec) => fs.appendFileSync(file, `${JSON.stringify(rec)}\n`);
}
