/**
 * `yolo-tfjs train --model <m> --data <dir> --format yolo|voc|coco --epochs N --batch B --lr X
 *  --out <dir> [--val <dir>] [--optimizer sgd|adam] [--freeze backbone|headOnly|p1,p2]
 *  [--ema] [--resume <ckpt>] [--json]`: fine-tune a model on a dataset (classes taken from the
 * dataset; the heads are rebuilt when they differ). Writes checkpoints, train.jsonl and
 * curves.png to --out, and the final detector to <out>/final; a Darknet .cfg model also gets
 * <out>/final.cfg + final.weights (what `prune` and Darknet read). --sparsity s adds the L1
 * penalty on BatchNorm gammas and writes gammas.png.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { ARCH_OPTION, PORT_OPTION, isPytorchFile, resolveModel } from '../resolveModel';
import { DatasetFormat, readDataset } from '../../train/data/readDataset';
import { formatDatasetWarning } from '../../train/data/dataset';
import { ready } from '../../backend';
import { modelBuilders } from '../../models/families';

export const trainOptions: OptionDef[] = [
  { name: 'model', alias: 'm', type: 'string', description: `registry name, model folder, .cfg (+ --weights), .pth (+ --arch) or a builder name to train from scratch (${Object.keys(modelBuilders()).join(', ')})` },
  { name: 'weights', type: 'string', description: 'weights of a .cfg model: Darknet .weights, or a PyTorch .pt/.pth of the cfg-defined Darknet' },
  ARCH_OPTION,
  PORT_OPTION,
  { name: 'data', alias: 'd', type: 'string', description: 'training dataset folder (or COCO JSON)' },
  { name: 'val', type: 'string', description: 'held-out dataset (same format) for mAP after each epoch' },
  { name: 'format', alias: 'f', type: 'string', description: 'yolo | voc | coco', default: 'yolo' },
  { name: 'images', type: 'string', description: 'COCO: images folder' },
  { name: 'epochs', alias: 'e', type: 'number', description: 'epochs', default: 10, min: 1, max: 100000, integer: true },
  { name: 'batch', alias: 'b', type: 'number', description: 'batch size', default: 8, min: 1, max: 1024, integer: true },
  { name: 'lr', type: 'number', description: 'peak learning rate (default 0.01 sgd, 0.001 adam)', min: 0, max: 10, minExclusive: true },
  { name: 'optimizer', type: 'string', description: 'adam | sgd', default: 'adam' },
  { name: 'schedule', type: 'string', description: 'cosine | step | constant', default: 'cosine' },
  { name: 'warmup', type: 'number', description: 'warm-up epochs', min: 0, max: 100000 },
  { name: 'weight-decay', type: 'number', description: 'decoupled weight decay', default: 5e-4, min: 0, max: 1 },
  { name: 'sparsity', type: 'number', description: 'L1 penalty s on BatchNorm gammas (sparsity training before `prune`)', min: 0, max: 10 },
  { name: 'freeze', type: 'string', description: 'backbone | headOnly | comma-separated layer-name prefixes' },
  { name: 'ema', type: 'boolean', description: 'keep an EMA of the weights' },
  { name: 'no-augment', type: 'boolean', description: 'resize only (no augmentation)' },
  { name: 'mosaic', type: 'number', description: 'mosaic probability', default: 0, min: 0, max: 1 },
  { name: 'seed', type: 'number', description: 'seed', default: 0, integer: true },
  { name: 'size', type: 'number', description: 'input size override (square)', min: 32, max: 4096, integer: true },
  { name: 'out', alias: 'o', type: 'string', description: 'output folder', default: 'runs/train' },
  { name: 'resume', type: 'string', description: 'resume from a checkpoint folder' },
  { name: 'json', type: 'boolean', description: 'print the result as JSON' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

/**
 * A model given as a Darknet cfg + .weights is also saved as cfg + .weights (same classes as
 * trained). Not one given as cfg + PyTorch checkpoint: that follows the PyTorch port's
 * conventions (BatchNorm eps, decode), which a Darknet .weights file would not carry.
 */
async function saveDarknetCopy(model: string, weights: string | undefined, detector: import('../../detector').Detector, out: string): Promise<{ cfg: string; weights: string } | undefined> {
  if (!model.endsWith('.cfg') || (weights !== undefined && isPytorchFile(weights))) return undefined;
  const cfgText = fs.readFileSync(model, 'utf8');
  const { parseDarknetCfg } = await import('../../weights/parseDarknetCfg');
  const { getDarknetWeights } = await import('../../models/darknet/getDarknetWeights');
  const { writeDarknetWeights } = await import('../../weights/writeDarknetWeights');
  const cfg = parseDarknetCfg(cfgText);
  let tensors;
  try {
    tensors = getDarknetWeights(detector.model, cfg);
  } catch {
    return undefined; // the classes changed, so the heads no longer match the cfg
  }
  const files = { cfg: path.join(out, 'final.cfg'), weights: path.join(out, 'final.weights') };
  fs.writeFileSync(files.cfg, cfgText);
  fs.writeFileSync(files.weights, writeDarknetWeights(cfg, tensors));
  return files;
}

export async function run(argv: string[]): Promise<number> {
  const { options: o, positionals } = parseArgs(argv, trainOptions);
  if (o.help) {
    console.log(usage('train', '--model <m> --data <dir> [options]', trainOptions));
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!o.data) throw new UsageError('train: --data is required');
  const format = String(o.format) as DatasetFormat;
  if (!['yolo', 'voc', 'coco'].includes(format)) throw new UsageError(`--format must be yolo, voc or coco, got '${format}'`);
  const optimizer = String(o.optimizer);
  if (optimizer !== 'sgd' && optimizer !== 'adam') throw new UsageError(`--optimizer must be sgd or adam, got '${optimizer}'`);
  const schedule = String(o.schedule);
  if (!['cosine', 'step', 'constant'].includes(schedule)) throw new UsageError(`--schedule must be cosine, step or constant, got '${schedule}'`);
  for (const [flag, loc] of [['--data', o.data], ['--val', o.val]] as const) {
    if (loc !== undefined && !fs.existsSync(String(loc))) throw new UsageError(`train: ${flag} ${String(loc)} does not exist (expected a ${format} dataset ${format === 'coco' ? 'JSON file' : 'folder'})`);
  }
  await ready();
  const read = async (loc: string) => {
    const ds = await readDataset(loc, format, { imagesDir: o.images as string | undefined });
    for (const w of ds.warnings) console.error(`warning: ${formatDatasetWarning(w)}`);
    return ds;
  };
  const dataset = await read(String(o.data));
  const valDataset = o.val ? await read(String(o.val)) : undefined;
  const detector = await resolveModel(o.model as string | undefined, {
    weights: o.weights as string | undefined,
    arch: o.arch as string | undefined,
    inputSize: o.size as number | undefined,
    port: o.port as string | undefined,
    // a model built from scratch (a builder name) gets the dataset's classes directly
    builderClassNames: dataset.classNames,
  });
  const freezeArg = o.freeze as string | undefined;
  const freeze = freezeArg === undefined ? undefined : freezeArg === 'backbone' || freezeArg === 'headOnly' ? freezeArg : freezeArg.split(',').map((s) => s.trim()).filter(Boolean);
  const out = String(o.out);
  const { train } = await import('../../train/train');
  const { defaultAugmentForSpec } = await import('../../train/augmentForSpec');
  const result = await train(detector, dataset, {
    epochs: Number(o.epochs),
    batchSize: Number(o.batch),
    lr: o.lr as number | undefined,
    optimizer,
    schedule: schedule as 'cosine' | 'step' | 'constant',
    warmupEpochs: o.warmup as number | undefined,
    weightDecay: o['weight-decay'] as number,
    sparsity: o.sparsity as number | undefined,
    freeze,
    ema: Boolean(o.ema),
    augment: o['no-augment'] ? false : defaultAugmentForSpec(detector.spec, Number(o.mosaic)),
    seed: Number(o.seed),
    valDataset,
    outDir: out,
    resume: o.resume as string | undefined,
  });
  const { saveDetector } = await import('../../io/saveDetector');
  const finalDir = path.join(out, 'final');
  await saveDetector(result.detector, finalDir);
  const darknet = await saveDarknetCopy(String(o.model ?? ''), o.weights as string | undefined, result.detector, out);
  const last = result.epochs[result.epochs.length - 1];
  if (o.json) {
    console.log(JSON.stringify({ out: finalDir, ...darknet, steps: result.steps.length, path: result.path, engineFallback: result.engineFallback, epochs: result.epochs }, null, 1));
  } else {
    if (result.engineFallback) console.log(`trained with tfjs ops, not the training engine: ${result.engineFallback}`);
    console.log(`trained ${result.steps.length} steps; final loss ${last ? last.total.toFixed(4) : '?'}${last?.mAP50 !== undefined ? `, held-out mAP@0.5 ${last.mAP50.toFixed(4)}` : ''}`);
    if (darknet) console.log(`saved ${darknet.cfg} + ${darknet.weights}`);
    console.log(`saved ${finalDir} (log ${path.join(out, 'train.jsonl')}, curves ${path.join(out, 'curves.png')})`);
  }
  result.optimizer.dispose();
  result.detector.dispose();
  if (result.detector !== detector) detector.dispose();
  return 0;
}
