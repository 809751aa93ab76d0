/**
 * One training-step configuration of the benchmark, in its own process (the wasm thread count
 * is fixed per process). Invoked by bench/run.ts:
 *   node -r ts-node/register/transpile-only bench/trainChild.ts '<json TrainJob>'
 * Prints one line `TRAIN_RESULT <json TrainResult>`: the step `train()` runs, timed by
 * `timeTrainSteps` (src/train/timeTrainSteps.ts), as `yolo-tfjs bench --train` does.
 */
import { MODELS, SkipError } from './models';
import type { TrainJob, TrainResult } from './trainStats';

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as TrainJob;
  const entry = MODELS.find((m) => m.name === job.model);
  if (!entry) throw new Error(`unknown model '${job.model}'`);
  const base: TrainResult = { model: job.model, batch: job.batch, threads: job.threads, runner: 'yolo-tfjs', inputSize: entry.inputSize };
  let result: TrainResult;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const backend = require('../src/backend') as typeof import('../src/backend');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { timeTrainSteps } = require('../src/train/timeTrainSteps') as typeof import('../src/train/timeTrainSteps');
    await backend.setBackend('wasm', { threads: job.threads });
    tf.enableProdMode();
    const net = await entry.build();
    if (typeof net === 'function' || !('model' in net)) throw new SkipError('training needs a Detector');
    const detector = net as import('../src/detector').Detector;
    const t = timeTrainSteps(detector, { batch: job.batch, steps: job.steps, warmup: job.warmup, path: job.path ?? 'auto', threads: job.threads });
    const info = backend.backendInfo();
    result = {
      ...base,
      backend: `tfjs-${info.name}`,
      path: t.path,
      ...(t.engineFallback ? { engineFallback: t.engineFallback } : {}),
      reportedThreads: info.threads,
      msPerStep: t.msPerStep,
      firstStepMs: t.firstStepMs,
      minMs: t.minMs,
      cpuMsPerStep: t.cpuMsPerStep,
      timesMs: t.timesMs,
      loss: t.lastLoss,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    };
    detector.dispose();
  } catch (e) {
    if (!(e instanceof SkipError)) throw e;
    result = { ...base, skipped: e.message };
  }
  process.stdout.write(`TRAIN_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
