/**
 * The two training paths of train() in ONE process, interleaved: one tfjs-path step (autodiff of
 * model.apply, `trainStep`), then one engine step (`createEngineTrainer`), round after round, on
 * the same synthetic batch. On a shared, loaded machine both paths then see the same slow and
 * fast phases, so the per-round ratio (tfjs ms / engine ms) is far steadier than the ratio of
 * two separate runs.
 *
 *   node -r ts-node/register/transpile-only bench/interleavedTrain.ts <model substring>
 *        [--batch 2,4] [--rounds 3] [--threads 2] [--json out.json]
 *
 * The model is an entry of bench/models.ts. Each round times one step of each path (the first
 * round is a warm-up, not counted). Prints per batch: median ms of each path, CPU ms, the
 * median of the per-round ratios; a batch whose tfjs step throws (e.g. the wasm heap) is
 * reported with the error and the engine figures alone.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { MODELS } from './models';
import { setBackend } from '../src/backend';
import { Detector } from '../src/detector';
import { registerTrainingKernelsForBackend } from '../src/train/wasmGradients';
import { syntheticTrainBoxes } from '../src/train/timeTrainSteps';
import { lossForSpec } from '../src/train/lossForSpec';
import { modelVariables } from '../src/train/ema';
import { KERNEL_NAME, trainStep } from '../src/train/trainStep';
import { createEngineTrainer } from '../src/train/engineTrainStep';
import { median } from './stats';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}


interface Row {
  model: string;
  batch: number;
  threads: number;
  rounds: number;
  tfjsMs?: number;
  tfjsCpuMs?: number;
  engineMs: number;
  engineCpuMs: number;
  /** Median over rounds of tfjs ms / engine ms. */
  ratio?: number;
  tfjsError?: string;
  tfjsLoss?: number;
  engineLoss: number;
  loadAvg: number[];
}

/** Wall and process CPU ms of f. */
function timed(f: () => void): { ms: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpu: (c.user + c.system) / 1000 };
}

async function main(): Promise<void> {
  const filter = process.argv[2];
  if (!filter || filter.startsWith('--')) throw new Error('usage: interleavedTrain.ts <model substring> [--batch 2,4] [--rounds 3] [--threads 2] [--json file]');
  const entry = MODELS.find((m) => m.name.toLowerCase().includes(filter.toLowerCase()));
  if (!entry) throw new Error(`no bench model matches '${filter}' (${MODELS.map((m) => m.name).join(', ')})`);
  const batches = arg('batch', '2,4').split(',').map(Number);
  const rounds = Number(arg('rounds', '3'));
  const threads = Number(arg('threads', '2'));
  await setBackend('wasm', { threads });
  tf.enableProdMode();
  registerTrainingKernelsForBackend();
  const rows: Row[] = [];
  for (const batch of batches) {
    // Two detectors with the same starting weights: each path trains its own.
    const a = (await entry.build()) as unknown as Detector;
    const b = (await entry.build()) as unknown as Detector;
    b.model.setWeights(a.model.getWeights());
    const [h, w] = a.spec.input.size;
    const images = tf.randomUniform([batch, h, w, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
    const boxes = syntheticTrainBoxes(batch, [h, w], a.spec.classNames.length, 0);
    const loss = lossForSpec(a.spec);
    const varsA = modelVariables(a.model, true);
    const varsB = modelVariables(b.model, true);
    const opt = tf.train.adam(1e-4, 0.9);
    const trainer = createEngineTrainer(b, { batchSize: batch, vars: varsB, kind: 'adam', momentum: 0.9, decays: (v) => KERNEL_NAME.test(v.name), threads });
    const tf_: { ms: number; cpu: number }[] = [];
    const en: { ms: number; cpu: number }[] = [];
    const ratios: number[] = [];
    let tfjsError: string | undefined;
    let tfjsLoss: number | undefined;
    let engineLoss = NaN;
    for (let r = 0; r <= rounds; r++) {
      let t: { ms: number; cpu: number } | null = null;
      if (!tfjsError) {
        try {
          t = timed(() => (tfjsLoss = trainStep(a, images, boxes, loss, opt, varsA, 1e-4, 5e-4).total));
        } catch (e) {
          tfjsError = (e as Error).message.split('\n')[0];
          process.stderr.write(`batch ${batch}: tfjs path failed: ${tfjsError}\n`);
        }
      }
      const e = timed(() => (engineLoss = trainer.step(images, boxes, loss, 1e-4, 5e-4).total));
      process.stderr.write(`batch ${batch} round ${r}: tfjs ${t ? t.ms.toFixed(0) : '-'} ms, engine ${e.ms.toFixed(0)} ms, load ${require('os').loadavg()[0].toFixed(1)}\n`);
      if (r === 0) continue;
      en.push(e);
      if (t) {
        tf_.push(t);
        ratios.push(t.ms / e.ms);
      }
    }
    rows.push({
      model: entry.name, batch, threads, rounds,
      ...(tf_.length ? { tfjsMs: median(tf_.map((x) => x.ms)), tfjsCpuMs: median(tf_.map((x) => x.cpu)), ratio: median(ratios), tfjsLoss } : {}),
      engineMs: median(en.map((x) => x.ms)), engineCpuMs: median(en.map((x) => x.cpu)), engineLoss,
      ...(tfjsError ? { tfjsError } : {}),
      loadAvg: require('os').loadavg(),
    });
    trainer.dispose();
    opt.dispose();
    images.dispose();
    a.dispose();
    b.dispose();
  }
  for (const r of rows) {
    console.log(
      `${r.model} batch ${r.batch}, ${r.threads} threads: tfjs ${r.tfjsMs?.toFixed(0) ?? '-'} ms (CPU ${r.tfjsCpuMs?.toFixed(0) ?? '-'}), ` +
        `engine ${r.engineMs.toFixed(0)} ms (CPU ${r.engineCpuMs.toFixed(0)}), tfjs/engine ${r.ratio?.toFixed(2) ?? '-'}${r.tfjsError ? ` [tfjs: ${r.tfjsError}]` : ''}`,
    );
  }
  const out = arg('json', '');
  if (out) fs.writeFileSync(out, JSON.stringify(rows, null, 2));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
