/**
 * `yolo-tfjs bench --model <m>`: median / min inference time of one model after warm-up (the
 * first call, which allocates and compiles, is reported apart). For the full comparison
 * table against onnxruntime use `npm run bench`.
 *
 * `yolo-tfjs bench --train --model <m>`: median time of one training step (forward, the
 * family's loss, gradients, Adam update) on seeded synthetic images and boxes, the step
 * `train()` runs (see src/train/timeTrainSteps.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { OptionDef, UsageError, parseArgs, usage } from '../args';
import { resolveModel, resolveOptionsFrom, MODEL_SOURCE_OPTIONS, MODEL_OPTION, ENGINE_OPTION, applyEngineOption } from '../resolveModel';
import { ready, setBackend, backendInfo } from '../../backend';
import { timeTrainSteps } from '../../train/timeTrainSteps';

export const benchOptions: OptionDef[] = [
  MODEL_OPTION,
  ...MODEL_SOURCE_OPTIONS,
  { name: 'runs', type: 'number', description: 'timed runs', default: 30, min: 1, max: 100000, integer: true },
  { name: 'warmup', type: 'number', description: 'warm-up runs', default: 5, min: 0, max: 10000, integer: true },
  { name: 'batch', type: 'number', description: 'batch size', default: 1, min: 1, max: 256, integer: true },
  { name: 'backend', type: 'string', description: 'tfjs backend' },
  { name: 'threads', type: 'number', description: 'wasm threads (default: all cores)', min: 1, max: 256, integer: true },
  ENGINE_OPTION,
  { name: 'json', type: 'boolean', description: 'print JSON' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

/** The options of `bench --train` (training steps have their own defaults: batch 8, 5 timed steps). */
export const benchTrainOptions: OptionDef[] = [
  { name: 'train', type: 'boolean', description: 'time training steps instead of inference' },
  MODEL_OPTION,
  ...MODEL_SOURCE_OPTIONS,
  { name: 'steps', type: 'number', description: 'timed training steps', default: 5, min: 1, max: 10000, integer: true },
  { name: 'warmup', type: 'number', description: 'untimed steps after the first', default: 1, min: 0, max: 1000, integer: true },
  { name: 'batch', type: 'number', description: 'batch size', default: 8, min: 1, max: 256, integer: true },
  { name: 'seed', type: 'number', description: 'seed of the synthetic images and boxes', default: 0, min: 0, max: 2 ** 32 - 1, integer: true },
  { name: 'path', type: 'string', description: "training path: auto (as train(): the engine on wasm/cpu when the model fits it) | engine | tfjs", default: 'auto' },
  { name: 'backend', type: 'string', description: 'tfjs backend' },
  { name: 'threads', type: 'number', description: 'wasm threads (default: all cores)', min: 1, max: 256, integer: true },
  { name: 'json', type: 'boolean', description: 'print JSON' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

const TRAIN_PATHS = ['auto', 'engine', 'tfjs'];

async function selectBackend(o: Record<string, unknown>): Promise<void> {
  if (o.backend || o.threads) await setBackend(String(o.backend ?? 'wasm'), { threads: o.threads as number | undefined });
  else await ready();
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--train')) return runTrain(argv);
  const { options: o } = parseArgs(argv, benchOptions);
  if (o.help) {
    console.log(usage('bench', '[options]   (bench --train --help: training steps)', benchOptions));
    return 0;
  }
  await selectBackend(o);
  const detector = await resolveModel(o.model as string | undefined, resolveOptionsFrom(o));
  let engine: string;
  try {
    engine = applyEngineOption(detector, o.engine);
  } catch (e) {
    detector.dispose();
    throw e;
  }
  const [h, w] = detector.spec.input.size;
  const x = tf.randomUniform([o.batch as number, h, w, 3]) as tf.Tensor4D;
  const once = async () => {
    const t0 = performance.now();
    const out = detector.predict(x);
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    return performance.now() - t0;
  };
  try {
    const first = await once();
    for (let i = 1; i < (o.warmup as number); i++) await once();
    const times: number[] = [];
    for (let i = 0; i < (o.runs as number); i++) times.push(await once());
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const result = {
      model: detector.spec.name,
      input: [h, w],
      batch: o.batch,
      backend: backendInfo(),
      engine: detector.inferenceInfo(),
      firstMs: first,
      medianMs: median,
      minMs: times[0],
      fps: (1000 * (o.batch as number)) / median,
      tensorsHeld: tf.memory().numTensors,
    };
    if (o.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(
        `${result.model} ${h}x${w} batch ${o.batch}, engine ${engine}, tfjs backend ${result.backend.name}: ` +
          `first ${first.toFixed(1)} ms, median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, ${result.fps.toFixed(1)} FPS`,
      );
    }
    return 0;
  } finally {
    x.dispose();
    detector.dispose();
  }
}

/** `bench --train`: ms per training step (median after warm-up). */
async function runTrain(argv: string[]): Promise<number> {
  const { options: o } = parseArgs(argv, benchTrainOptions);
  if (o.help) {
    console.log(usage('bench --train', '[options]', benchTrainOptions));
    return 0;
  }
  const path = String(o.path);
  if (!TRAIN_PATHS.includes(path)) throw new UsageError(`--path must be one of ${TRAIN_PATHS.join(', ')}, got '${path}'`);
  await selectBackend(o);
  const detector = await resolveModel(o.model as string | undefined, resolveOptionsFrom(o));
  try {
    const [h, w] = detector.spec.input.size;
    const t = timeTrainSteps(detector, {
      batch: o.batch as number, steps: o.steps as number, warmup: o.warmup as number, seed: o.seed as number,
      path: path as 'auto' | 'engine' | 'tfjs', threads: o.threads as number | undefined,
    });
    const info = backendInfo();
    const result = {
      msPerStep: t.msPerStep,
      firstStepMs: t.firstStepMs,
      minMs: t.minMs,
      cpuMsPerStep: t.cpuMsPerStep,
      steps: o.steps,
      warmup: o.warmup,
      batch: o.batch,
      size: [h, w],
      threads: info.threads,
      backend: info.name,
      path: t.path,
      ...(t.engineFallback ? { engineFallback: t.engineFallback } : {}),
      model: detector.spec.name,
      loss: t.lastLoss,
      timesMs: t.timesMs,
    };
    if (o.json) console.log(JSON.stringify(result, null, 2));
    else {
      const row = [result.model, `${h}x${w}`, o.batch, `${info.name} (${info.threads} thr)`, t.path, t.firstStepMs.toFixed(0), t.msPerStep.toFixed(0), t.minMs.toFixed(0)];
      console.log('| model | size | batch | backend | path | first step ms | ms/step (median) | min ms |');
      console.log('|---|---|---|---|---|---|---|---|');
      console.log(`| ${row.join(' | ')} |`);
      console.log(`(${o.steps} timed steps after the first and ${o.warmup} warm-up; synthetic data, seed ${o.seed})`);
    }
    return 0;
  } finally {
    detector.dispose();
  }
}
