/**
 * The network-slimming comparison at our scale (README "Channel pruning"): on the synthetic
 * shapes dataset, a Darknet-cfg detector trained (`--base yolo-fastest-1.1` (default) or
 * `yolo-fastest-1.1-xl`: fine-tuned from the fixtures' real COCO weights, as Lam1360 fine-tunes a
 * COCO-trained YOLOv3; `yolov3-tiny`: from scratch, the fixtures have no trained weights for it),
 * sparsity-trained (L1 on BN gammas), pruned at several ratios and fine-tuned; RFSong trained
 * from scratch (as upstream). For every
 * model: parameters, FLOPs, weights size, ms per image on our wasm kernels with 1 and 2
 * threads, held-out mAP@0.5.
 *
 *   npm run experiment:prune -- [--base yolo-fastest-1.1|yolo-fastest-1.1-xl|yolov3-tiny]
 *       [--out tmp/prune-experiment] [--size 224] [--train 240] [--val 60]
 *       [--objects 1,5] [--object-scale 0.12,0.45] [--epochs 16] [--sparse-epochs 3]
 *       [--sparse-lr 0.0005] [--sparsity 1] [--ft-epochs 3] [--ratios 0.3,0.5,0.7]
 *       [--rfsong-epochs 10] [--rfsong-batch 2] [--rfsong-steps N]
 *       [--train-minutes M] [--sparse-minutes M] [--ft-minutes M] [--rfsong-minutes M]
 *       [--threads 2] [--recal-batches 10] [--only yolo|rfsong|reestimate|timing] [--from-trained|--from-sparse] [--quick]
 *
 * Budgets: a `--*-minutes` option caps that stage's training steps at what fits in M minutes
 * (the step time is probed with one step first; the lr schedule is laid over the whole epochs
 * the capped run starts). `--ft-minutes` is per pruning ratio.
 *
 * `--from-trained` skips stage 1 and starts from an earlier run's <out>/base.cfg and
 * trained/final.weights (its row stays in results.json); `--from-sparse` skips stages 1 and 2
 * (sparse/final.weights). Pruned models get their BN statistics re-estimated on
 * `--recal-batches` training batches before fine-tuning and after it (see recalibrateBatchNorm).
 *
 * `--quick` is a smoke run (tiny dataset, 1 epoch each). Results go to <out>/results.json and
 * <out>/results.md after every row (merged with an earlier run's, so `--only rfsong` adds its
 * row later, and a run stopped half-way still leaves its rows); the pruned cfg/.weights,
 * training logs and the |gamma| plot (sparse/gammas.png) stay in <out>.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, setBackend } from '../src/backend';
import { Detector } from '../src/detector';
import { writeSyntheticDataset } from '../src/train/syntheticDataset';
import { readYoloDataset } from '../src/train/data/readYoloDataset';
import { DetectionDataset } from '../src/train/data/dataset';
import { evaluate } from '../src/train/evaluate';
import { train, TrainOptions, TrainResult } from '../src/train/train';
import { withClasses } from '../src/train/withClasses';
import { batchCount, batches } from '../src/train/batches';
import { kmeansAnchors } from '../src/train/kmeansAnchors';
import { buildDarknetModel } from '../src/models/darknet/darknetCfg';
import { darknetModelSpec } from '../src/models/darknet/darknetSpec';
import { parseDarknetCfg } from '../src/weights/parseDarknetCfg';
import { writeDarknetWeights } from '../src/weights/writeDarknetWeights';
import { getDarknetWeights } from '../src/models/darknet/getDarknetWeights';
import { prune, formatPruneReport, darknetCost } from '../src/prune';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}
const quick = process.argv.includes('--quick');
const num = (name: string, def: number, quickDef: number) => Number(arg(name, String(quick ? quickDef : def)));

/** One table row. */
interface Row {
  model: string;
  params: number;
  flops: number;
  bytes: number;
  ms1: number;
  ms2: number;
  mAP50: number;
  /** mAP@0.5 right after pruning, before fine-tuning. */
  mAP50Pruned?: number;
  /** The same, after re-estimating the BN statistics (recalibrateBatchNorm). */
  mAP50PrunedRecal?: number;
  /** mAP@0.5 of this row's model with its BN statistics re-estimated (trained / sparsity rows). */
  mAP50Recal?: number;
  note?: string;
  trainSeconds?: number;
  /** Training steps this row's last stage got (budgets cap them). */
  trainSteps?: string;
}

/** tiny YOLOv3 (Darknet's yolov3-tiny.cfg layer for layer) for `classes` at `size`, with `anchors`. */
function yolov3TinyCfg(size: number, classes: number, anchors: [number, number][]): string {
  const conv = (filters: number, k: number, act = 'leaky', stride = 1) =>
    `[convolutional]\nbatch_normalize=1\nfilters=${filters}\nsize=${k}\nstride=${stride}\npad=1\nactivation=${act}\n`;
  const pool = (stride: number) => `[maxpool]\nsize=2\nstride=${stride}\n`;
  const anchorText = anchors.map(([w, h]) => `${Math.round(w)},${Math.round(h)}`).join(', ');
  const head = (mask: string) =>
    `[convolutional]\nsize=1\nstride=1\npad=1\nfilters=${3 * (5 + classes)}\nactivation=linear\n\n` +
    `[yolo]\nmask=${mask}\nanchors=${anchorText}\nclasses=${classes}\nnum=6\n`;
  return [
    `[net]\nwidth=${size}\nheight=${size}\nchannels=3\n`,
    conv(16, 3), pool(2), conv(32, 3), pool(2), conv(64, 3), pool(2), conv(128, 3), pool(2), conv(256, 3), pool(2),
    conv(512, 3), pool(1), conv(1024, 3), conv(256, 1), conv(512, 3), head('3,4,5'),
    '[route]\nlayers=-4\n', conv(128, 1), '[upsample]\nstride=2\n', '[route]\nlayers=-1,8\n', conv(256, 3), head('0,1,2'),
  ].join('\n');
}

const FIXTURES = process.env.YOLO_TFJS_FIXTURES ?? path.join(__dirname, '..', '..', 'shared', 'fixtures');

/**
 * A Yolo-Fastest cfg from the fixtures (real COCO weights) at `size` for `classNames`:
 * `withClasses` keeps the COCO weights in every layer whose shape does not depend on the class
 * count and in the box and objectness channels of the head convs. Also returns the cfg text of
 * the result (classes and head filters changed), which `prune` needs.
 */
async function cocoStart(base: string, size: number, classNames: string[]): Promise<{ det: Detector; cfgText: string }> {
  const { loadDarknet } = require('../src/models/darknet/loadDarknet') as typeof import('../src/models/darknet/loadDarknet');
  const cocoCfg = fs.readFileSync(path.join(FIXTURES, 'darknet', 'weights', `${base}.cfg`), 'utf8')
    .replace(/^width=\d+/m, `width=${size}`).replace(/^height=\d+/m, `height=${size}`);
  const coco = loadDarknet(cocoCfg, fs.readFileSync(path.join(FIXTURES, 'darknet', 'weights', `${base}.weights`)), { name: base });
  try {
    const det = await withClasses(coco, classNames);
    const cfgText = cocoCfg.replace(/^classes\s*=\s*\d+/gm, `classes=${classNames.length}`).replace(/^filters=255$/gm, `filters=${3 * (5 + classNames.length)}`);
    return { det, cfgText };
  } finally {
    coco.dispose();
  }
}

/** FLOPs (2 x multiply-adds) of the conv layers of any LayersModel, from kernel and output shapes. */
function modelFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (!/Conv2D$/.test(cls) && cls !== 'Conv2D') continue;
    const kernel = layer.getWeights()[0];
    if (!kernel || kernel.shape.length !== 4) continue;
    const out = layer.outputShape as number[];
    flops += 2 * out[1] * out[2] * kernel.shape.reduce((a, b) => a * b, 1);
  }
  return flops;
}

/** Trainable parameters (kernels, biases, BN gamma and beta; not the BN running statistics). */
function trainableParams(det: Detector): number {
  return det.model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

/**
 * `train()` capped at what fits in `minutes` (when given): three probe steps first (their updates
 * are kept; the slower of the last two sets the step time), then a run of
 * at most `opts.epochs` epochs whose lr schedule is laid over the whole epochs the capped steps
 * start (train() plans by epochs), so a run capped inside an epoch stops before the end of its
 * cosine. Returns the run and a note saying how many steps it got.
 */
async function trainWithin(det: Detector, set: DetectionDataset, opts: TrainOptions, minutes: number): Promise<{ result: TrainResult; steps: number; note: string }> {
  const spe = batchCount(set.images.length, opts.batchSize);
  let steps = opts.epochs * spe;
  let probeSteps = 0;
  if (minutes > 0) {
    // The first step of a run includes its warm-up (engine compile): time the later ones.
    const probe = await train(det, set, { ...opts, outDir: undefined, valDataset: undefined, maxSteps: 3, ema: false });
    probe.optimizer.dispose();
    const later = probe.steps.slice(1).map((s) => s.ms);
    const ms = later.length ? Math.max(...later) : probe.steps[0].ms;
    probeSteps = probe.steps.length;
    steps = Math.max(1, Math.min(steps, Math.floor((minutes * 60000) / ms) - 1));
    console.log(`[budget] ${minutes} min at ${(ms / 1000).toFixed(1)} s per step: ${steps} steps (of ${opts.epochs * spe} planned)`);
  }
  const epochs = Math.ceil(steps / spe);
  const result = await train(det, set, { ...opts, epochs, maxSteps: steps });
  return { result, steps: steps + probeSteps, note: `${steps + probeSteps} steps (${((steps + probeSteps) / spe).toFixed(1)} epochs)` };
}

/**
 * Re-estimate every BatchNorm's running mean and variance on the training images (no
 * augmentation): forward passes in training mode with the BN momentum lowered to 0.5, so
 * that the running statistics follow the last few batches. Needed after pruning: removing
 * channels changes the next layers' input statistics, and Darknet's BN momentum (0.99 in
 * Keras terms, as Darknet's rolling update) moves the running statistics by only 1% per step,
 * so a few dozen fine-tuning steps leave them stale (training looks fine, inference does not).
 */
async function recalibrateBatchNorm(det: Detector, set: DetectionDataset, nBatches: number): Promise<void> {
  const bns = det.model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as { momentum: number }[];
  const saved = bns.map((b) => b.momentum);
  bns.forEach((b) => { b.momentum = 0.5; });
  try {
    let k = 0;
    for await (const batch of batches(set, det.spec.input, { batchSize: 8, epoch: 0, seed: 7, augment: false })) {
      tf.tidy(() => { det.model.apply(batch.images, { training: true }); });
      batch.images.dispose();
      if (++k >= nBatches) break;
    }
  } finally {
    bns.forEach((b, i) => { b.momentum = saved[i]; });
  }
}

/** Median ms per image (batch 1) on our wasm kernels with `threads` threads. */
async function msPerImage(det: Detector, threads: number, runs: number): Promise<number> {
  det.engine = 'wasm-kernels';
  det.engineThreads = threads;
  const [h, w] = det.spec.input.size;
  const x = tf.randomUniform([1, h, w, 3]) as tf.Tensor4D;
  const once = async () => {
    const t0 = performance.now();
    const out = det.predict(x);
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < 3; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    x.dispose();
    det.engine = 'auto';
    det.engineThreads = undefined;
  }
}

async function measure(model: string, det: Detector, val: DetectionDataset, size: { flops: number; bytes: number }, runs: number): Promise<Row> {
  const ev = await evaluate(det, val, { progress: false });
  const row: Row = {
    model,
    params: trainableParams(det),
    flops: size.flops,
    bytes: size.bytes,
    ms1: await msPerImage(det, 1, runs),
    ms2: await msPerImage(det, 2, runs),
    mAP50: ev.mAP50,
  };
  console.log(`[${model}] mAP@0.5 ${row.mAP50.toFixed(4)}, ${(row.params / 1e6).toFixed(3)}M params, ${(row.flops / 1e9).toFixed(3)} GFLOPs, ${row.ms1.toFixed(1)} / ${row.ms2.toFixed(1)} ms (1 / 2 threads)`);
  return row;
}

function table(rows: Row[], meta: Record<string, unknown>): string {
  const base = rows.find((r) => / trained$/.test(r.model));
  const rel = (v: number, b: number | undefined) => (b ? ` (${v >= b ? '+' : ''}${(((v - b) / b) * 100).toFixed(0)}%)` : '');
  const lines = [
    `| model | params | FLOPs | weights | ms/img 1 thread | ms/img 2 threads | training | mAP@0.5 right after pruning | mAP@0.5 |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.model} | ${(r.params / 1e6).toFixed(3)}M${rel(r.params, base?.params)} | ${(r.flops / 1e9).toFixed(3)}G${rel(r.flops, base?.flops)} | ` +
        `${(r.bytes / 1048576).toFixed(2)} MiB | ${r.ms1.toFixed(1)}${rel(r.ms1, base?.ms1)} | ${r.ms2.toFixed(1)}${rel(r.ms2, base?.ms2)} | ` +
        `${r.trainSteps ?? '-'}${r.trainSeconds !== undefined ? `, ${(r.trainSeconds / 60).toFixed(1)} min` : ''} | ` +
        `${r.mAP50Pruned !== undefined ? r.mAP50Pruned.toFixed(3) : '-'}${r.mAP50PrunedRecal !== undefined ? ` (BN re-estimated: ${r.mAP50PrunedRecal.toFixed(3)})` : ''} | ${r.note ?? r.mAP50.toFixed(3)}${r.mAP50Recal !== undefined ? ` (BN re-estimated: ${r.mAP50Recal.toFixed(3)})` : ''} |`,
    );
  }
  return `${lines.join('\n')}\n\n${Object.entries(meta).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n')}\n`;
}

/** The RFSong builder, wherever this build keeps it (the main entry, or its family folder). */
function findRfsong(): ((o: { classNames: string[] }) => Detector) | undefined {
  for (const m of ['../src/index', '../src/models/rfsong', '../src/models/rfsong/rfsong']) {
    try {
      const f = (require(m) as Record<string, unknown>).rfsong;
      if (typeof f === 'function') return f as (o: { classNames: string[] }) => Detector;
    } catch {
      // not there in this build
    }
  }
  return undefined;
}

/**
 * Time the saved tiny-YOLOv3 models again, round-robin (one run of each model in turn), so that
 * the load of a shared machine hits them alike; overwrites their ms columns.
 */
async function retimeInterleaved(out: string, rows: Row[], meta: Record<string, unknown>, rounds: number): Promise<void> {
  const { loadDarknet } = require('../src/models/darknet/loadDarknet') as typeof import('../src/models/darknet/loadDarknet');
  const cfgText = fs.readFileSync(path.join(out, 'base.cfg'), 'utf8');
  const models: { match: (r: Row) => boolean; det: Detector }[] = [];
  const add = (match: (r: Row) => boolean, cfg: string, weights: string) => {
    if (fs.existsSync(weights)) models.push({ match, det: loadDarknet(cfg, fs.readFileSync(weights)) });
  };
  add((r) => / trained$/.test(r.model), cfgText, path.join(out, 'trained', 'final.weights'));
  for (const dir of fs.readdirSync(out).filter((d) => d.startsWith('pruned-'))) {
    const pct = Math.round(Number(dir.slice('pruned-'.length)) * 100);
    add((r) => r.model.startsWith(`pruned ${pct}% `), fs.readFileSync(path.join(out, dir, 'pruned.cfg'), 'utf8'), path.join(out, dir, 'finetuned.weights'));
  }
  for (const threads of [1, 2]) {
    const times = models.map(() => [] as number[]);
    const inputs = models.map((m) => tf.randomUniform([1, ...m.det.spec.input.size, 3]) as tf.Tensor4D);
    models.forEach((m) => { m.det.engine = 'wasm-kernels'; m.det.engineThreads = threads; });
    for (let round = -3; round < rounds; round++) {
      for (let k = 0; k < models.length; k++) {
        const t0 = performance.now();
        const o = models[k].det.predict(inputs[k]);
        await Promise.all(o.map((t) => t.data()));
        tf.dispose(o);
        if (round >= 0) times[k].push(performance.now() - t0);
      }
    }
    tf.dispose(inputs);
    models.forEach((m, k) => {
      const sorted = times[k].sort((a, b) => a - b);
      const row = rows.find(m.match);
      if (row) row[threads === 1 ? 'ms1' : 'ms2'] = sorted[Math.floor(sorted.length / 2)];
    });
  }
  models.forEach((m) => m.det.dispose());
  meta.timing = `Darknet rows re-timed round-robin (one run of each model in turn, median of ${rounds} rounds after 3 warm-up rounds) on a shared 2-core VM that other jobs were loading`;
}

/**
 * The trained and sparsity-trained models again, BN statistics re-estimated on `nBatches`
 * training batches (as the pruned rows are): their raw mAP rests on running statistics that
 * Darknet's 0.99 momentum leaves behind the weights after a short run.
 */
async function reestimateBaseRows(out: string, rows: Row[], set: DetectionDataset, val: DetectionDataset, nBatches: number): Promise<void> {
  const { loadDarknet } = require('../src/models/darknet/loadDarknet') as typeof import('../src/models/darknet/loadDarknet');
  const cfgText = fs.readFileSync(path.join(out, 'base.cfg'), 'utf8');
  const stages: [RegExp, string][] = [[/ trained$/, 'trained'], [/sparsity-trained/, 'sparse']];
  for (const [match, dir] of stages) {
    const row = rows.find((r) => match.test(r.model));
    const weights = path.join(out, dir, 'final.weights');
    if (!row || !fs.existsSync(weights)) continue;
    const det = loadDarknet(cfgText, fs.readFileSync(weights), { classNames: set.classNames });
    try {
      await recalibrateBatchNorm(det, set, nBatches);
      row.mAP50Recal = (await evaluate(det, val, { progress: false })).mAP50;
      console.log(`[${row.model}] mAP@0.5 ${row.mAP50.toFixed(4)}, BN re-estimated ${row.mAP50Recal.toFixed(4)}`);
    } finally {
      det.dispose();
    }
  }
}

async function main(): Promise<void> {
  await setBackend('wasm', { threads: 2 });
  tf.enableProdMode();
  const t00 = Date.now();
  const out = arg('out', path.join('tmp', quick ? 'prune-experiment-quick' : 'prune-experiment'));
  const size = num('size', 224, 64);
  const only = arg('only', '');
  const runs = quick ? 3 : 15;
  fs.mkdirSync(out, { recursive: true });
  const resultsFile = path.join(out, 'results.json');
  const previous: { rows: Row[]; meta?: Record<string, unknown> } = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : { rows: [] };
  const rows: Row[] = [];
  // an earlier run's notes stay unless this run writes the same key
  const meta: Record<string, unknown> = { ...(previous.meta ?? {}) };
  const save = () => {
    const merged = [...rows, ...previous.rows.filter((p) => !rows.some((r) => r.model === p.model))];
    // trained, sparsity-trained, pruned by ratio, RFSong
    const order = (m: string) => (/ trained$/.test(m) ? 0 : m.includes('sparsity') ? 1 : m.startsWith('pruned') ? 2 + parseFloat(m.slice(7)) / 100 : 9);
    merged.sort((a, b) => order(a.model) - order(b.model));
    fs.writeFileSync(resultsFile, JSON.stringify({ meta, rows: merged }, null, 1));
    fs.writeFileSync(path.join(out, 'results.md'), table(merged, meta));
  };

  // The dataset: circles, squares, triangles, 2-6 per image, 10-35% of the short side, on
  // gradient / stripe / checker textures with noise.
  const dataDir = path.join(out, 'data');
  const nTrain = num('train', 240, 16);
  const nVal = num('val', 60, 8);
  const pair = (name: string, def: string) => arg(name, def).split(',').map(Number) as [number, number];
  const synth = {
    sizeRange: [[256, 192], [384, 320]] as [[number, number], [number, number]],
    objects: pair('objects', '1,5'),
    objectScale: pair('object-scale', '0.12,0.45'),
  };
  if (!fs.existsSync(path.join(dataDir, 'val', 'classes.txt'))) {
    await writeSyntheticDataset(dataDir, { splits: { train: nTrain, val: nVal }, seed: 11, ...synth });
  }
  const trainSet = await readYoloDataset(path.join(dataDir, 'train'));
  const valSet = await readYoloDataset(path.join(dataDir, 'val'));
  const info = backendInfo();
  Object.assign(meta, {
    dataset: `synthetic shapes (${trainSet.images.length} train / ${valSet.images.length} held-out images of ${synth.sizeRange.map((r) => r.join('x')).join(' to ')}, ${trainSet.classNames.join(', ')}; ${synth.objects.join('-')} objects per image, ${synth.objectScale.map((s) => `${Math.round(s * 100)}%`).join('-')} of the short side)`,
    input: `${size}x${size}`,
    backend: `training on the yolo-tfjs engine (tfjs wasm ${info.threads} threads${info.simd ? ' SIMD' : ''} for the loss); timings on the yolo-tfjs wasm kernels, batch 1, median of ${runs} runs`,
  });

  const epochs = num('epochs', 16, 1);
  const sparseEpochs = num('sparse-epochs', 3, 1);
  const ftEpochs = num('ft-epochs', 3, 1);
  const minutes = (name: string) => Number(arg(`${name}-minutes`, '0'));
  const recalBatches = num('recal-batches', 10, 2);
  const sparsity = Number(arg('sparsity', '1'));
  const sparseLr = Number(arg('sparse-lr', '0.0005'));
  const ratios = arg('ratios', quick ? '0.5' : '0.3,0.5,0.7').split(',').map(Number);
  const baseModel = arg('base', 'yolo-fastest-1.1');
  if (!['yolov3-tiny', 'yolo-fastest-1.1', 'yolo-fastest-1.1-xl'].includes(baseModel)) throw new Error(`--base: yolov3-tiny, yolo-fastest-1.1 or yolo-fastest-1.1-xl, not ${baseModel}`);
  // Training-engine threads: 1 keeps the run steady when other work shares the 2-core machine.
  const trainThreads = num('threads', 2, 2);
  const common: Omit<TrainOptions, 'epochs'> = { batchSize: 8, optimizer: 'adam', lr: 0.001, ema: true, seed: 1, progress: true, engineThreads: trainThreads };

  meta.schedule = `Adam lr 0.001 (warm-up + cosine), EMA, batch 8, training engine on ${trainThreads} thread(s); up to ${epochs} epochs ${baseModel === 'yolov3-tiny' ? 'from scratch' : 'from the COCO weights'}; sparsity s=${sparsity} with SGD lr ${sparseLr} momentum 0.9 for up to ${sparseEpochs} epochs; fine-tuning up to ${ftEpochs} epochs (see each row's steps)`;
  if (only !== 'rfsong' && only !== 'timing' && only !== 'reestimate') {
    let cfgText: string;
    let det: Detector;
    let label: string;
    const fromSparse = process.argv.includes('--from-sparse');
    const fromTrained = fromSparse || process.argv.includes('--from-trained');
    if (fromTrained) {
      // stage 1 of an earlier run (its row stays in results.json): <out>/base.cfg + trained/final.weights
      const { loadDarknet } = require('../src/models/darknet/loadDarknet') as typeof import('../src/models/darknet/loadDarknet');
      cfgText = fs.readFileSync(path.join(out, 'base.cfg'), 'utf8');
      det = loadDarknet(cfgText, fs.readFileSync(path.join(out, fromSparse ? 'sparse' : 'trained', 'final.weights')), { classNames: trainSet.classNames, name: baseModel });
      label = baseModel === 'yolov3-tiny' ? baseModel : `${baseModel} (from COCO)`;
    } else if (baseModel === 'yolov3-tiny') {
      // from scratch, k-means anchors of the training boxes stretched to the input size
      const wh = trainSet.images.flatMap((im) => im.boxes.map((b) => [((b.x2 - b.x1) * size) / im.width, ((b.y2 - b.y1) * size) / im.height] as [number, number]));
      const anchors = kmeansAnchors(wh, 6, { seed: 1 }).anchors.slice().sort((a, b) => a[0] * a[1] - b[0] * b[1]);
      cfgText = yolov3TinyCfg(size, trainSet.classNames.length, anchors);
      const c = parseDarknetCfg(cfgText);
      det = new Detector(buildDarknetModel(c, { name: 'yolov3-tiny' }), darknetModelSpec(c, { classNames: trainSet.classNames, name: 'yolov3-tiny' }));
      label = 'yolov3-tiny';
    } else {
      // fine-tuned from the fixtures' COCO weights, as Lam1360 fine-tunes COCO-trained YOLOv3
      ({ det, cfgText } = await cocoStart(baseModel, size, trainSet.classNames));
      label = `${baseModel} (from COCO)`;
      const before = await evaluate(det, valSet, { progress: false });
      meta[`${label} before fine-tuning`] = `mAP@0.5 ${before.mAP50.toFixed(3)} (COCO features, new class channels)`;
    }
    fs.writeFileSync(path.join(out, 'base.cfg'), cfgText);
    const cfg = parseDarknetCfg(cfgText);
    const costOf = (c: string) => {
      const k = darknetCost(parseDarknetCfg(c));
      return { flops: k.flops, bytes: k.weightsBytes };
    };

    // 1. trained (from scratch or from COCO)
    let t0 = Date.now();
    if (!fromTrained) {
      const r1 = await trainWithin(det, trainSet, { ...common, epochs, outDir: path.join(out, 'trained') }, minutes('train'));
      r1.result.optimizer.dispose();
      console.log(`[check] FLOPs of the tfjs model ${modelFlops(det.model)} vs the cfg count ${darknetCost(cfg).flops}`);
      const trainedRow = await measure(`${label} trained`, det, valSet, costOf(cfgText), runs);
      trainedRow.trainSeconds = (Date.now() - t0) / 1000;
      trainedRow.trainSteps = r1.note;
      rows.push(trainedRow);
      fs.writeFileSync(path.join(out, 'trained', 'final.weights'), writeDarknetWeights(cfg, getDarknetWeights(det.model, cfg)));
      save();
    }

    // 2. sparsity training, continuing from the trained weights
    t0 = Date.now();
    if (!fromSparse) {
      // Plain SGD (momentum 0.9, constant lr) so that the L1 term moves a gamma by lr * s per
      // step whatever the loss does; Adam would normalise it to ~lr per step, far too slow here.
      const sparse = await trainWithin(det, trainSet, {
        ...common, optimizer: 'sgd', lr: sparseLr, momentum: 0.9, schedule: 'constant', warmupEpochs: 0,
        epochs: sparseEpochs, sparsity, outDir: path.join(out, 'sparse'),
      }, minutes('sparse'));
      const r2 = sparse.result;
      r2.optimizer.dispose();
      const sparseRow = await measure(`${label} sparsity-trained (s=${sparsity}, SGD lr ${sparseLr})`, det, valSet, costOf(cfgText), runs);
      sparseRow.trainSeconds = (Date.now() - t0) / 1000;
      sparseRow.trainSteps = sparse.note;
      rows.push(sparseRow);
      fs.writeFileSync(path.join(out, 'sparse', 'final.weights'), writeDarknetWeights(cfg, getDarknetWeights(det.model, cfg)));
      const g = r2.epochs[r2.epochs.length - 1]?.gamma;
      if (g) meta['|gamma| after sparsity training'] = `mean ${g.mean.toFixed(4)}, median ${g.median.toFixed(4)}, ${(g.below001 * 100).toFixed(1)}% below 0.01 (plot: sparse/gammas.png)`;
      save();
    }

    // 3. pruned at each ratio, then fine-tuned
    for (const ratio of ratios) {
      const dir = path.join(out, `pruned-${ratio}`);
      fs.mkdirSync(dir, { recursive: true });
      const p = prune(det, { cfg: cfgText, ratio });
      fs.writeFileSync(path.join(dir, 'pruned.cfg'), p.cfgText);
      fs.writeFileSync(path.join(dir, 'pruned.weights'), p.weights);
      fs.writeFileSync(path.join(dir, 'report.txt'), formatPruneReport(p.report));
      const prunedMap = (await evaluate(p.detector, valSet, { progress: false })).mAP50;
      // the same pruned weights with re-estimated BN statistics (nothing trained)
      await recalibrateBatchNorm(p.detector, trainSet, recalBatches);
      const recalMap = (await evaluate(p.detector, valSet, { progress: false })).mAP50;
      console.log(`[pruned ${ratio}] ${formatPruneReport(p.report).split('\n').slice(0, 4).join('\n  ')}\n  mAP@0.5 before fine-tuning ${prunedMap.toFixed(4)}, with BN statistics re-estimated ${recalMap.toFixed(4)}`);
      t0 = Date.now();
      const r3 = await trainWithin(p.detector, trainSet, { ...common, epochs: ftEpochs, outDir: path.join(dir, 'finetune') }, minutes('ft'));
      r3.result.optimizer.dispose();
      await recalibrateBatchNorm(p.detector, trainSet, recalBatches);
      const row = await measure(`pruned ${Math.round(ratio * 100)}% + fine-tuned`, p.detector, valSet, costOf(p.cfgText), runs);
      row.mAP50Pruned = prunedMap;
      row.mAP50PrunedRecal = recalMap;
      row.trainSeconds = (Date.now() - t0) / 1000;
      row.trainSteps = r3.note;
      rows.push(row);
      const prunedCfg = parseDarknetCfg(p.cfgText);
      fs.writeFileSync(path.join(dir, 'finetuned.weights'), writeDarknetWeights(prunedCfg, getDarknetWeights(p.detector.model, prunedCfg)));
      p.detector.dispose();
      save();
    }
    det.dispose();
  }

  if (only !== 'yolo' && only !== 'timing' && only !== 'reestimate') {
    // RFSong (RFBNet300-style, 300x300 by design) from scratch, when this build has it and its loss
    const rfsong = findRfsong();
    const rfEpochs = num('rfsong-epochs', 10, 1);
    const rfSteps = Number(arg('rfsong-steps', '0'));
    // Batch 8 at 300x300 ran tfjs-wasm out of memory (a 'memory access out of bounds' abort).
    const rfBatch = num('rfsong-batch', 2, 2);
    const name = 'RFSong from scratch (300x300)';
    if (!rfsong) {
      console.log('[RFSong] not in this build');
    } else {
      const det = rfsong({ classNames: trainSet.classNames });
      try {
        const t0 = Date.now();
        const rfOpts: TrainOptions = { ...common, batchSize: rfBatch, epochs: rfEpochs, outDir: path.join(out, 'rfsong') };
        const rr = rfSteps > 0
          ? { result: await train(det, trainSet, { ...rfOpts, maxSteps: rfSteps }), note: `${rfSteps} steps` }
          : await trainWithin(det, trainSet, rfOpts, minutes('rfsong'));
        const r = rr.result;
        r.optimizer.dispose();
        const row = await measure(name, det, valSet, { flops: modelFlops(det.model), bytes: 4 * det.model.countParams() }, runs);
        row.trainSeconds = (Date.now() - t0) / 1000;
        row.trainSteps = `${rr.note} of batch ${rfBatch}`;
        const stepMs = r.steps.map((x) => x.ms).sort((a, b) => a - b);
        meta['RFSong training step'] = `${(stepMs[Math.floor(stepMs.length / 2)] / 1000).toFixed(1)} s per step of batch ${rfBatch} at 300x300 (median of ${stepMs.length})`;
        rows.push(row);
        save();
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0];
        console.log(`[RFSong] cannot be trained in this build: ${msg}`);
        rows.push({ model: name, params: trainableParams(det), flops: modelFlops(det.model), bytes: 4 * det.model.countParams(), ms1: await msPerImage(det, 1, runs), ms2: await msPerImage(det, 2, runs), mAP50: NaN, note: `not trained: ${msg}` });
      } finally {
        det.dispose();
      }
    }
  }
  if (only === 'reestimate' || only === '') {
    const all = [...rows, ...previous.rows.filter((p) => !rows.some((r) => r.model === p.model))];
    await reestimateBaseRows(out, all, trainSet, valSet, num('recal-batches', 10, 2));
    rows.splice(0, rows.length, ...all);
    save();
  }
  if (only === 'timing' || only === '') await retimeInterleaved(out, previous.rows.length ? [...rows, ...previous.rows] : rows, meta, quick ? 3 : 25);
  meta.minutes = ((Date.now() - t00) / 60000).toFixed(1);
  save();
  console.log(`\n${fs.readFileSync(path.join(out, 'results.md'), 'utf8')}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
