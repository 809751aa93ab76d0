/**
 * Fine-tune YOLO-FastestV2 from its COCO weights to the synthetic shapes dataset, and report
 * held-out mAP@0.5 before and after, and the time per training step.
 *
 *   npx ts-node --transpile-only examples/finetune.ts [--epochs 1] [--batch 8] [--lr 0.001]
 *       [--optimizer adam|sgd] [--size 352] [--backend wasm|cpu] [--threads N] [--train 200]
 *       [--val 50] [--steps N] [--evalEvery 1] [--seed 1] [--out tmp/finetune] [--time-only]
 *
 * Defaults: Adam, lr 0.001 (1 epoch of linear warm-up over 10% of the run, then cosine), EMA of
 * the weights, batch 8 at 352x352, 200 training / 50 held-out images. SGD with momentum 0.937
 * at lr 0.01 (the train() default) diverges here (the class term blows up); upstream trains
 * YOLO-FastestV2 with SGD at lr 0.001 and batch 128.
 * `--threads N` sets the wasm thread pool (default: YOLO_TFJS_THREADS, else every core).
 * `--time-only` skips the evaluations and the output files and just times `--steps` training
 * steps (default 5), reporting the median ms per step after the first (warm-up) step.
 *
 * Needs the fixture weights (../shared/fixtures/yolo-fastestv2/coco2017-0.241078ap-model.pth,
 * or YOLO_TFJS_FIXTURES) - no download.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, setBackend } from '../src/backend';
import { loadPytorch } from '../src/models/loadPytorch';
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
  await setBackend(backend, threads > 0 ? { threads } : {});
  tf.enableProdMode();
  const info = backendInfo();
  const where = `backend ${info.name}${info.name === 'wasm' ? ` (${info.threads} thread${info.threads > 1 ? 's' : ''}${info.simd ? ', SIMD' : ''})` : ''}`;
  const timeOnly = process.argv.includes('--time-only');
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

  const epochs = Number(arg('epochs', '1'));
  const batchSize = Number(arg('batch', '8'));
  const stepsArg = arg('steps', timeOnly ? '5' : '');

  const before = timeOnly ? undefined : await evaluate(detector, valSet, { progress: true, label: 'eval before' });
  if (before) console.log(`mAP@0.5 before fine-tuning: ${before.mAP50.toFixed(4)}`);

  const t0 = Date.now();
  const result = await train(detector, trainSet, {
    epochs,
    batchSize,
    lr: Number(arg('lr', '0.001')),
    optimizer: arg('optimizer', 'adam') as 'sgd' | 'adam',
    maxSteps: stepsArg ? Number(stepsArg) : undefined,
    ema: true,
    valDataset: timeOnly ? undefined : valSet,
    evalEvery: Number(arg('evalEvery', '1')),
    outDir: timeOnly ? undefined : out,
    seed: Number(arg('seed', '1')),
  });
  const secs = (Date.now() - t0) / 1000;
  // median over the steps after the first (which also creates the optimiser's slots)
  const timed = (result.steps.length > 1 ? result.steps.slice(1) : result.steps).map((s) => s.ms).sort((a, b) => a - b);
  const median = timed[Math.floor(timed.length / 2)];
  const size = detector.spec.input.size;
  console.log(`${where}: ${result.steps.length} steps of batch ${batchSize} at ${size[1]}x${size[0]}, first ${result.steps[0]?.ms} ms, then median ${median} ms/step (${timed.join(', ')}), ${secs.toFixed(0)} s total`);
  let after: Awaited<ReturnType<typeof evaluate>> | undefined;
  if (!timeOnly) {
    after = await evaluate(result.detector, valSet, { progress: true, label: 'eval after', coco: true });
    console.log(`mAP@0.5 before fine-tuning: ${before?.mAP50.toFixed(4)}, after ${epochs} epochs: ${after.mAP50.toFixed(4)} (COCO mAP@[.5:.95] ${after.mAP?.toFixed(4)})`);
    for (const c of after.voc.perClass) console.log(`  ${c.name.padEnd(10)} AP50 ${c.AP?.toFixed(4)}`);
  }
  console.log(JSON.stringify({
    backend: info.name, threads: info.threads, simd: info.simd, batch: batchSize, size, epochs, steps: result.steps.length,
    firstStepMs: result.steps[0]?.ms, medianStepMs: median, seconds: secs,
    ...(before && after ? { before: before.mAP50, after: after.mAP50, cocoAfter: after.mAP, perEpoch: result.epochs.map((e) => ({ epoch: e.epoch + 1, loss: e.total, mAP50: e.mAP50 })) } : {}),
  }));
  result.detector.dispose();
  result.optimizer.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
