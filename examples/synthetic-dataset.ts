/**
 * Write a small synthetic detection dataset (circles, squares, triangles on textured
 * backgrounds) in YOLO txt format with a train/val split.
 *
 *   npx ts-node examples/synthetic-dataset.ts [outDir] [numTrain] [numVal] [seed]
 */
import * as path from 'path';
import { writeSyntheticDataset } from '../src/train/syntheticDataset';

async function main(): Promise<void> {
  const [dir = path.join('tmp', 'synthetic'), nTrain = '200', nVal = '50', seed = '1'] = process.argv.slice(2);
  const splits = await writeSyntheticDataset(dir, { splits: { train: Number(nTrain), val: Number(nVal) }, seed: Number(seed) });
  console.log(`wrote ${Object.entries(splits).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
