/**
 * `npm run bench`: speed of every model on tfjs-wasm (1 and 2 threads, layers and fused
 * paths), tfjs-cpu for one model, and onnxruntime-node / onnxruntime-web (wasm) on an ONNX
 * file of the same weights where there is one. Each configuration runs in its own child
 * process (bench/child.ts), one after the other. Writes bench/results/<date>.json and prints a
 * markdown table.
 *
 * Options: --models <substr,...>  --runs N (20)  --warmup N (3)  --memory-calls N (100)
 *          --threads 1,2  --variants layers,fused,kernels  --no-onnx  --no-cpu
 *
 * Training table (issue 15): ms per training step (bench/trainChild.ts, the step `train()`
 * runs) of the configurations of bench/trainConfigs.ts at each --threads, next to PyTorch CPU
 * running the same step (bench/pytorch/train_step.py, our own PyTorch version of the network
 * and loss) when `/usr/bin/python3 -c "import torch"` works.
 *          --no-train (inference only)  --train-only  --train-steps N (5)  --train-warmup N (1)
 *          --train-paths auto,tfjs (default auto: the path train() takes)  --no-pytorch
 * e.g. one row: `npm run bench -- --train-only --models fastestv2 --threads 2`.
 * The figures are wall-clock medians on whatever else the machine is doing: compare columns
 * of the same run, and read single numbers as noisy.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ChildJob } from './child';
import { MODELS } from './models';
import { BenchResult, markdownTable } from './stats';
import { selectTrainConfigs } from './trainConfigs';
import { TrainJob, TrainResult, trainMarkdownTable } from './trainStats';

interface Args {
  models: string[];
  runs: number;
  warmup: number;
  memoryCalls: number;
  threads: number[];
  variants: string[];
  onnx: boolean;
  cpu: boolean;
  /** Run the inference table / the training table. */
  inference: boolean;
  train: boolean;
  trainSteps: number;
  trainWarmup: number;
  trainPaths: ('auto' | 'engine' | 'tfjs')[];
  pytorch: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    models: [],
    runs: 20,
    warmup: 3,
    memoryCalls: 100,
    threads: [1, 2],
    variants: ['layers', 'fused', 'kernels'],
    onnx: true,
    cpu: true,
    inference: true,
    train: true,
    trainSteps: 5,
    trainWarmup: 1,
    trainPaths: ['auto'],
    pytorch: true,
  };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const next = () => argv[++i];
    if (f === '--models') a.models = next().split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    else if (f === '--runs') a.runs = int(f, next(), 1);
    else if (f === '--warmup') a.warmup = int(f, next(), 0);
    else if (f === '--memory-calls') a.memoryCalls = int(f, next(), 0);
    else if (f === '--threads') a.threads = next().split(',').map((s) => int(f, s, 1));
    else if (f === '--variants') a.variants = next().split(',').map((s) => s.trim());
    else if (f === '--no-onnx') a.onnx = false;
    else if (f === '--no-cpu') a.cpu = false;
    else if (f === '--no-train') a.train = false;
    else if (f === '--train-only') a.inference = false;
    else if (f === '--train-steps') a.trainSteps = int(f, next(), 1);
    else if (f === '--train-warmup') a.trainWarmup = int(f, next(), 0);
    else if (f === '--no-pytorch') a.pytorch = false;
    else if (f === '--train-paths') {
      a.trainPaths = next().split(',').map((s) => s.trim()) as Args['trainPaths'];
      for (const p of a.trainPaths) if (!['auto', 'engine', 'tfjs'].includes(p)) throw new Error(`--train-paths: unknown path '${p}' (auto, engine, tfjs)`);
    }
    else throw new Error(`unknown option ${f} (see the header of bench/run.ts)`);
  }
  return a;
}

function jobsFor(args: Args): ChildJob[] {
  const jobs: ChildJob[] = [];
  if (!args.inference) return jobs;
  const common = { warmup: args.warmup, runs: args.runs, memoryCalls: args.memoryCalls };
  for (const m of MODELS) {
    if (args.models.length && !args.models.some((s) => m.name.toLowerCase().includes(s))) continue;
    if (args.onnx) {
      for (const backend of ['onnxruntime-node', 'onnxruntime-web']) {
        for (const threads of args.threads) jobs.push({ model: m.name, backend, variant: 'onnx', threads, ...common });
      }
      if (m.upstreamOnnx) {
        for (const threads of args.threads) {
          jobs.push({ model: m.name, backend: 'onnxruntime-node', variant: 'upstream-onnx', threads, ...common });
        }
      }
    }
    for (const variant of args.variants) {
      for (const threads of args.threads) jobs.push({ model: m.name, backend: 'tfjs-wasm', variant, threads, ...common });
    }
    if (args.cpu && m.cpu) {
      // The plain-JS backend is slow: a few runs are enough.
      jobs.push({
        model: m.name,
        backend: 'tfjs-cpu',
        variant: 'layers',
        threads: 1,
        warmup: 0,
        runs: Math.min(args.runs, 3),
        memoryCalls: Math.min(args.memoryCalls, 3),
      });
    }
  }
  return jobs;
}

function runChild(job: ChildJob): BenchResult {
  const env = { ...process.env };
  delete env.YOLO_TFJS_BACKEND;
  delete env.YOLO_TFJS_THREADS;
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=8192', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'child.ts'), JSON.stringify(job)],
    { cwd: path.resolve(__dirname, '..'), env, encoding: 'utf8', timeout: 30 * 60 * 1000, maxBuffer: 64 << 20 },
  );
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  const base = { model: job.model, backend: job.backend, variant: job.variant, threads: job.threads, inputSize: [0, 0] as [number, number] };
  if (r.error || !line) {
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').slice(-3).join(' / ');
    return { ...base, skipped: `failed: ${why || `exit code ${r.status}`}` };
  }
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as BenchResult;
}

function trainJobsFor(args: Args): TrainJob[] {
  if (!args.train) return [];
  return selectTrainConfigs(args.models).flatMap((c) =>
    args.threads.flatMap((threads) =>
      args.trainPaths.map((path) => ({ model: c.model, batch: c.batch, threads, steps: args.trainSteps, warmup: args.trainWarmup, path })),
    ),
  );
}

/** Whether Debian's python3 has torch (checked once). */
function pytorchAvailable(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8', timeout: 120 * 1000 });
  return r.status === 0;
}

/** Runs a child and parses its `<TAG> <json>` line; a failure becomes a skipped row. */
function runTagged<T>(cmd: string, argv: string[], tag: string, base: T): T {
  const env = { ...process.env };
  delete env.YOLO_TFJS_BACKEND;
  delete env.YOLO_TFJS_THREADS;
  const r = spawnSync(cmd, argv, { cwd: path.resolve(__dirname, '..'), env, encoding: 'utf8', timeout: 60 * 60 * 1000, maxBuffer: 64 << 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(`${tag} `));
  if (r.error || !line) {
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').slice(-3).join(' / ');
    return { ...base, skipped: `failed: ${why || `exit code ${r.status}`}` };
  }
  return JSON.parse(line.slice(tag.length + 1)) as T;
}

function runTrainChild(job: TrainJob, inputSize: [number, number]): TrainResult {
  const base: TrainResult = { model: job.model, batch: job.batch, threads: job.threads, runner: 'yolo-tfjs', inputSize };
  return runTagged(process.execPath, ['--max-old-space-size=8192', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'trainChild.ts'), JSON.stringify(job)], 'TRAIN_RESULT', base);
}

function runPytorch(job: TrainJob, script: string, inputSize: [number, number]): TrainResult {
  const base: TrainResult = { model: job.model, batch: job.batch, threads: job.threads, runner: 'pytorch', inputSize };
  const argv = [
    path.join(__dirname, 'pytorch', 'train_step.py'), '--model', script, '--batch', String(job.batch), '--size', String(inputSize[0]),
    '--threads', String(job.threads), '--steps', String(job.steps), '--warmup', String(job.warmup),
  ];
  const r = runTagged<TrainResult & { torch?: string }>('/usr/bin/python3', argv, 'PYTORCH_RESULT', base);
  return r.skipped ? r : { ...base, backend: 'pytorch-cpu', msPerStep: r.msPerStep, firstStepMs: r.firstStepMs, minMs: r.minMs, cpuMsPerStep: r.cpuMsPerStep, timesMs: r.timesMs, loss: r.loss, torch: r.torch };
}

function stamp(d: Date): string {
  return d.toISOString().slice(0, 16).replace(':', '-');
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const jobs = jobsFor(args);
  const trainJobs = trainJobsFor(args);
  if (jobs.length === 0 && trainJobs.length === 0) throw new Error(`no model matches --models ${args.models.join(',')}`);
  const started = new Date();
  const loadBefore = os.loadavg();
  const results: BenchResult[] = [];
  const trainResults: TrainResult[] = [];
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp(started)}.json`);
  const write = () => fs.writeFileSync(file, JSON.stringify(report(), null, 2) + '\n');
  const report = () => ({
    date: started.toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      loadavgBefore: loadBefore,
      loadavgAfter: os.loadavg(),
    },
    settings: args,
    note: 'Wall-clock figures on a shared machine: noisy. Each row ran in its own process, one after another.',
    results,
    trainResults,
  });
  // Written after every row, so an interrupted run keeps what it measured.
  for (const [i, job] of jobs.entries()) {
    process.stderr.write(`[${i + 1}/${jobs.length}] ${job.model} | ${job.backend} ${job.variant} | ${job.threads} thread(s) ... `);
    const r = runChild(job);
    results.push(r);
    write();
    process.stderr.write(r.skipped ? `skipped: ${r.skipped}\n` : `median ${r.medianMs!.toFixed(1)} ms\n`);
  }
  const torchOk = trainJobs.length > 0 && args.pytorch && pytorchAvailable();
  if (trainJobs.length && args.pytorch && !torchOk) process.stderr.write('PyTorch: /usr/bin/python3 cannot import torch; training rows without PyTorch\n');
  for (const [i, job] of trainJobs.entries()) {
    const cfg = selectTrainConfigs([job.model]).find((c) => c.model === job.model);
    const inputSize = MODELS.find((m) => m.name === job.model)?.inputSize ?? [0, 0];
    process.stderr.write(`[train ${i + 1}/${trainJobs.length}] ${job.model} b${job.batch} | ${job.threads} thread(s) | yolo-tfjs (${job.path}) ... `);
    const r = runTrainChild(job, inputSize);
    trainResults.push(r);
    write();
    process.stderr.write(r.skipped ? `skipped: ${r.skipped}\n` : `${r.msPerStep!.toFixed(0)} ms/step (${r.path})\n`);
    const firstPath = trainJobs.findIndex((j) => j.model === job.model && j.threads === job.threads) === i;
    if (torchOk && cfg?.pytorch && firstPath) {
      process.stderr.write(`[train ${i + 1}/${trainJobs.length}] ${job.model} b${job.batch} | ${job.threads} thread(s) | PyTorch ... `);
      const p = runPytorch(job, cfg.pytorch, inputSize);
      trainResults.push(p);
      write();
      process.stderr.write(p.skipped ? `skipped: ${p.skipped}\n` : `${p.msPerStep!.toFixed(0)} ms/step\n`);
    }
  }
  const tables = [results.length ? markdownTable(results) : '', trainResults.length ? `Training step (forward + loss + backward + Adam):\n\n${trainMarkdownTable(trainResults)}` : '']
    .filter(Boolean)
    .join('\n\n');
  process.stdout.write(`${tables}\n\nload average before/after: ${loadBefore.map((v) => v.toFixed(1)).join(' ')} / ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}\nwritten: ${path.relative(process.cwd(), file)}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
}
