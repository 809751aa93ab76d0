/**
 * Fine-tune YOLO-FastestV2 from its COCO weights to the synthetic shapes dataset, and report
 * held-out mAP@0.5 before and after, and the time per training step.
 *
 *   npx ts-node --transpile-only examples/finetune.ts [--epochs 12] [--batch 8] [--lr 0.01]
 *       [--optimizer sgd|adam] [--size 352] [--backend wasm|cpu] [--threads N] [--train 200]
 *       [--val 50] [--steps N] [--evalEvery 4] [--out tmp/finetune]
 *
 * Needs the fixture weights (../shared/fixtures/yolo-fastestv2/coco2017-0.241078ap-model.pth,
 * or YOLO_TFJS_FIXTURES) - no download.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../src/backend';
import { loadPytorch } from '../src/weights/loadPytorch';
import { writeSyntheticDataset } from '../src/train/syntheticDataset';
import { readYoloDataset } from '../src/train/data/readYoloDataset';
import { withClasses } from '../src/train/withClasses';
import { evaluate } from '../src/train/evaluate';
import { train } from '../src/train/train';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm');
  const threads = Number(arg('threads', '0'));
  if (backend === 'wasm' && threads > 0) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).setThreadsCount(threads);
  }
  await setBackend(backend);
  tf.enableProdMode();
  const out = arg('out', path.join('tmp', 'finetune'));
  const dataDir = path.join(out, 'data');
  if (!fs.existsSync(path.join(dataDir, 'val', 'classes.txt'))) {
    await writeSyntheticDataset(dataDir, { splits: { train: Number(arg('train', '200')), val: Number(arg('val', '50')) }, seed: 1 });
  }
  const trainSet = await readYoloDataset(path.join(dataDir, 'train'));
  const valSet = await readYoloDataset(path.join(dataDir, 'val'));
  if (trainSet.warnings.length || valSet.warnings.length) console.warn(`dataset warnings: ${trainSet.warnings.length + valSet.warnings.length}`);

  const fixtures = process.env.YOLO_TFJS_FIXTURES ?? path.join(__dirname, '..', '..', 'shared', 'fixtures');
  const pth = fs.readFileSync(path.join(fixtures, 'yolo-fastestv2', 'coco2017-0.241078ap-model.pth'));
  const coco = loadPytorch('yolo-fastestv2', pth, { inputSize: Number(arg('size', '352')) });
  const detector = await withClasses(coco, trainSet.classNames);
  coco.dispose();

  const before = await evaluate(detector, valSet, { progress: true, label: 'eval before' });
  console.log(`mAP@0.5 before fine-tuning: ${before.mAP50.toFixed(4)}`);

  const t0 = Date.now();
  const result = await train(detector, trainSet, {
    epochs: Number(arg('epochs', '12')),
    batchSize: Number(arg('batch', '8')),
    lr: Number(arg('lr', '0.01')),
    optimizer: arg('optimizer', 'sgd') as 'sgd' | 'adam',
    maxSteps: arg('steps', '') ? Number(arg('steps', '')) : undefined,
    ema: true,
    valDataset: valSet,
    evalEvery: Number(arg('evalEvery', '4')),
    outDir: out,
    seed: 1,
  });
  const secs = (Date.now() - t0) / 1000;
  const stepMs = result.steps.map((s) => s.ms).sort((a, b) => a - b);
  const median = stepMs[Math.floor(stepMs.length / 2)];
  const after = await evaluate(result.detector, valSet, { progress: true, label: 'eval after', coco: true });
  console.log(`mAP@0.5 after fine-tuning: ${after.mAP50.toFixed(4)} (COCO mAP@[.5:.95] ${after.mAP?.toFixed(4)})`);
  for (const c of after.voc.perClass) console.log(`  ${c.name.padEnd(10)} AP50 ${c.AP?.toFixed(4)}`);
  console.log(`backend ${tf.getBackend()}${threads ? ` (${threads} threads)` : ''}: ${result.steps.length} steps of batch ${arg('batch', '8')}, median ${median} ms/step, ${secs.toFixed(0)} s total`);
  console.log(JSON.stringify({ backend, threads, before: before.mAP50, after: after.mAP50, cocoAfter: after.mAP, steps: result.steps.length, medianStepMs: median, seconds: secs }));
  result.detector.dispose();
  result.optimizer.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
