/**
 * Profile of one training step on the ENGINE path (src/engine/training): wall time per kernel
 * (summed by name), per node kind and direction (`conv forward`, `batchNorm backward`, ...), per
 * layer, and what is left for the loss and the glue (the step minus the nodes' time).
 *
 *   node -r ts-node/register/transpile-only bench/profileEngineStep.ts <model substring>
 *        [--batch N] [--threads 2] [--steps 3] [--top 15] [--json out.json]
 *
 * `--steps` profiled steps after one warm-up step; per entry the median over them is reported.
 * The model is an entry of bench/models.ts. On a loaded machine read shares, not absolutes.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { MODELS } from './models';
import { TRAIN_CONFIGS } from './trainConfigs';
import { setBackend } from '../src/backend';
import { Detector } from '../src/detector';
import { syntheticTrainBoxes } from '../src/train/timeTrainSteps';
import { lossForSpec } from '../src/train/lossForSpec';
import { modelVariables } from '../src/train/ema';
import { KERNEL_NAME } from '../src/train/trainStep';
import { registerTrainingKernelsForBackend } from '../src/train/wasmGradients';
import { createEngineTrainer } from '../src/train/engineTrainStep';
import { median } from './stats';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}


async function main(): Promise<void> {
  const filter = process.argv[2];
  if (!filter || filter.startsWith('--')) throw new Error('usage: profileEngineStep.ts <model substring> [--batch N] [--threads 2] [--steps 3] [--top 15] [--json file]');
  const entry = MODELS.find((m) => m.name.toLowerCase().includes(filter.toLowerCase()));
  if (!entry) throw new Error(`no bench model matches '${filter}' (${MODELS.map((m) => m.name).join(', ')})`);
  const batch = Number(arg('batch', String(TRAIN_CONFIGS.find((c) => c.model === entry.name)?.batch ?? 8)));
  const threads = Number(arg('threads', '2'));
  const steps = Number(arg('steps', '3'));
  const top = Number(arg('top', '15'));
  await setBackend('wasm', { threads });
  tf.enableProdMode();
  registerTrainingKernelsForBackend(); // the loss's gradients (gather) on wasm
  const d = (await entry.build()) as unknown as Detector;
  const [h, w] = d.spec.input.size;
  const images = tf.randomUniform([batch, h, w, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
  const boxes = syntheticTrainBoxes(batch, [h, w], d.spec.classNames.length, 0);
  const loss = lossForSpec(d.spec);
  const vars = modelVariables(d.model, true);
  const trainer = createEngineTrainer(d, { batchSize: batch, vars, kind: 'adam', momentum: 0.9, decays: (v) => KERNEL_NAME.test(v.name), threads });
  await trainer.engine.ready();
  trainer.step(images, boxes, loss, 1e-4, 5e-4);
  const kernels = new Map<string, number[]>();
  const kinds = new Map<string, number[]>();
  const layers = new Map<string, number[]>();
  const totals: number[] = [];
  const glue: number[] = [];
  const add = (m: Map<string, number[]>, k: string, v: number, i: number) => {
    const a = m.get(k) ?? new Array(steps).fill(0);
    a[i] += v;
    m.set(k, a);
  };
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const p = trainer.profileStep(images, boxes, loss, 1e-4);
    totals.push(performance.now() - t0);
    let nodes = 0;
    for (const e of p.entries) {
      if (e.layer === '(step)') {
        add(kinds, e.what, e.ms, i);
        continue;
      }
      nodes += e.ms;
      add(kinds, e.what, e.ms, i);
      add(layers, `${e.layer} ${e.what.split(' ')[1]}`, e.ms, i);
    }
    const fb = p.entries.find((e) => e.what === 'forward+loss+backward')!.ms;
    glue.push(fb - nodes);
    for (const [k, v] of Object.entries(p.kernels)) add(kernels, k, v, i);
  }
  const step = median(totals);
  const table = (title: string, m: Map<string, number[]>, n: number) => {
    const rows = [...m].map(([k, v]) => [k, median(v)] as [string, number]).sort((a, b) => b[1] - a[1]).slice(0, n);
    console.log(`\n${title}`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(48)} ${v.toFixed(1).padStart(8)} ms  ${((100 * v) / step).toFixed(1).padStart(5)}%`);
    return Object.fromEntries(rows);
  };
  console.log(`${entry.name}, batch ${batch}, ${threads} threads: step ${step.toFixed(0)} ms (median of ${steps}; ${totals.map((t) => t.toFixed(0)).join(', ')}), loss + glue ${median(glue).toFixed(0)} ms, load ${require('os').loadavg()[0].toFixed(1)}`);
  const out = {
    model: entry.name, batch, threads, stepMs: step, lossAndGlueMs: median(glue),
    kernels: table('per kernel', kernels, 40), kinds: table('per node kind', kinds, 40), layers: table('top layers', layers, top),
  };
  const file = arg('json', '');
  if (file) fs.writeFileSync(file, JSON.stringify(out, null, 2));
  trainer.dispose();
  images.dispose();
  d.dispose();
}

main().catch((e) => {
  process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
