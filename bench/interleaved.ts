/**
 * Interleaved comparison: onnxruntime-node, onnxruntime-web, tfjs-wasm fused ops and our wasm
 * kernels on the SAME weights (our ONNX export) in ONE process, one call of each per round, in
 * rotating order. This shared VM has slow and fast phases lasting about a second (run-to-run
 * spread 20-40%); interleaving exposes every engine to the same phases, so the per-round time
 * ratios are much steadier than ratios of separate runs.
 *
 *   npm run bench:interleaved -- [--models a,b] [--threads 1,2] [--rounds 40]
 *
 * Prints median / min ms per engine and the median of per-round ratios (ours vs each peer);
 * writes bench/results/<date>-interleaved.json. One child process per thread count (the tfjs
 * wasm thread count is fixed per process).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MODELS } from './models';

interface Row {
  model: string;
  threads: number;
  ms: Record<string, { median: number; min: number }>;
  /** Median over rounds of (peer time / kernels time): > 1 means our kernels are faster. */
  speedup: Record<string, number>;
  rounds: number;
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function child(threads: number, only: string[], rounds: number): Promise<Row[]> {
  const tf = await import('@tensorflow/tfjs');
  const backend = await import('../src/backend');
  await backend.setBackend('wasm', { threads });
  tf.enableProdMode();
  const { exportOnnx } = await import('../src/export/onnx');
  const ortNode = await import('onnxruntime-node');
  const ortWeb = await import('onnxruntime-web');
  (ortWeb.env as { wasm: { numThreads: number } }).wasm.numThreads = threads;
  const rows: Row[] = [];
  for (const m of MODELS) {
    if (only.length && !only.some((s) => m.name.toLowerCase().includes(s))) continue;
    let net;
    try {
      net = await m.build();
    } catch (e) {
      process.stderr.write(`${m.name}: skipped (${(e as Error).message})\n`);
      continue;
    }
    if (typeof net === 'function') continue;
    const det = net as unknown as import('../src/detector').Detector;
    const [h, w] = m.inputSize;
    const data = new Float32Array(h * w * 3);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
    const x = tf.tensor4d(data, [1, h, w, 3]);
    const onnx = exportOnnx(det);
    // Both packages share onnxruntime-common's backend registry: without an explicit execution
    // provider an onnxruntime-web session in a process that loaded onnxruntime-node runs NATIVE.
    // onnxruntime-node's idle pool threads spin by default; in this one process that would steal
    // the other engines' second core, so spinning is off here (the separate-process bench,
    // `npm run bench`, measures onnxruntime-node with its defaults).
    const sNode = await ortNode.InferenceSession.create(onnx, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const sWeb = await ortWeb.InferenceSession.create(onnx, { graphOptimizationLevel: 'all', executionProviders: ['wasm'] });
    const feedsNode = { [sNode.inputNames[0]]: new ortNode.Tensor('float32', data, [1, h, w, 3]) };
    const feedsWeb = { [sWeb.inputNames[0]]: new ortWeb.Tensor('float32', data, [1, h, w, 3]) };
    const tfjsDet = det;
    const { compileInference } = await import('../src/infer/compileInference');
    const fused = compileInference(tfjsDet.model);
    const { compileWasmInference } = await import('../src/engine/wasmInference');
    const kernels = compileWasmInference(tfjsDet.model, { threads });
    await kernels.ready();
    const read = (outs: import('@tensorflow/tfjs').Tensor[]) => {
      for (const o of outs) o.dataSync();
      tf.dispose(outs);
    };
    const engines: Record<string, () => Promise<void>> = {
      'onnxruntime-node': async () => {
        await sNode.run(feedsNode);
      },
      'onnxruntime-web': async () => {
        await sWeb.run(feedsWeb);
      },
      'tfjs-wasm fused': async () => read(fused.run(x)),
      'wasm kernels': async () => read(kernels.run(x)),
    };
    const names = Object.keys(engines);
    for (let r = 0; r < 3; r++) for (const n of names) await engines[n]();
    const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(k + r) % names.length];
        const t0 = performance.now();
        await engines[n]();
        times[n].push(performance.now() - t0);
      }
    }
    const ours = times['wasm kernels'];
    rows.push({
      model: m.name,
      threads,
      rounds,
      ms: Object.fromEntries(names.map((n) => [n, { median: median(times[n]), min: Math.min(...times[n]) }])),
      speedup: Object.fromEntries(names.filter((n) => n !== 'wasm kernels').map((n) => [n, median(times[n].map((t, i) => t / ours[i]))])),
    });
    process.stderr.write(`${m.name} ${threads} thr: ${names.map((n) => `${n} ${median(times[n]).toFixed(1)}`).join(', ')}\n`);
    fused.dispose();
    kernels.dispose();
    await sNode.release();
    await sWeb.release();
    x.dispose();
    det.dispose();
  }
  return rows;
}

function table(rows: Row[]): string {
  const f = (v: number) => v.toFixed(1);
  const lines = [
    '| model | threads | onnxruntime-node | onnxruntime-web | tfjs-wasm fused | wasm kernels (ours) | ours vs ort-web | ours vs tfjs fused | ort-node vs ours |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const c = (n: string) => `${f(r.ms[n].median)} (${f(r.ms[n].min)})`;
    lines.push(
      `| ${r.model} | ${r.threads} | ${c('onnxruntime-node')} | ${c('onnxruntime-web')} | ${c('tfjs-wasm fused')} | ${c('wasm kernels')} | ` +
        `${r.speedup['onnxruntime-web'].toFixed(2)}x faster | ${r.speedup['tfjs-wasm fused'].toFixed(2)}x faster | ${(1 / r.speedup['onnxruntime-node']).toFixed(2)}x faster |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = (arg('--models') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const rounds = Number(arg('--rounds') ?? 40);
  if (arg('--child')) {
    const rows = await child(Number(arg('--child')), only, rounds);
    process.stdout.write(`ROWS ${JSON.stringify(rows)}\n`);
    return;
  }
  const threads = (arg('--threads') ?? '1,2').split(',').map(Number);
  const all: Row[] = [];
  const started = new Date();
  for (const t of threads) {
    const out = execFileSync(
      process.execPath,
      ['--max-old-space-size=8192', '-r', 'ts-node/register/transpile-only', __filename, '--child', String(t), '--rounds', String(rounds), ...(only.length ? ['--models', only.join(',')] : [])],
      { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
    ).toString();
    const line = out.split('\n').find((l) => l.startsWith('ROWS '));
    if (line) all.push(...(JSON.parse(line.slice(5)) as Row[]));
  }
  all.sort((a, b) => MODELS.findIndex((m) => m.name === a.model) - MODELS.findIndex((m) => m.name === b.model) || a.threads - b.threads);
  const file = path.join(__dirname, 'results', `${started.toISOString().slice(0, 16).replace(':', '-')}-interleaved.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ date: started.toISOString(), machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version }, rounds, rows: all }, null, 2) + '\n');
  console.log(`${table(all)}\n\nmedian (min) ms over ${rounds} rounds; ratios are medians of per-round ratios. written: ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
