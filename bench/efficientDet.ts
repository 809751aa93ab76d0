/**
 * EfficientDet-D0 forward-pass benchmark at 512 (batch 1), to compare with the PyTorch and
 * onnxruntime figures in ../shared/fixtures/efficientdet/NOTES.md section 16.
 *
 *   node -r ts-node/register/transpile-only bench/efficientDet.ts [--backend wasm] [--threads 1] [--runs 10] [--warmup 3]
 *
 * Prints one JSON line: backend info, median / min / mean ms of `detector.predict` + one data read.
 */
import * as tf from '@tensorflow/tfjs';
import { setBackend, backendInfo } from '../src/backend';
import { efficientDet } from '../src/models/efficientDet/efficientDet';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm');
  const threads = Number(arg('threads', '1'));
  const runs = Number(arg('runs', '10'));
  const warmup = Number(arg('warmup', '3'));
  const phi = Number(arg('phi', '0'));
  await setBackend(backend, { threads });
  tf.enableProdMode();
  const det = efficientDet({ phi, init: 'zeros' });
  // non-zero weights so no kernel takes a shortcut
  det.model.setWeights(
    det.model.weights.map((w) => tf.tidy(() => tf.add(tf.mul(tf.randomNormal(w.shape as number[]), 0.05), w.name.includes('variance') ? 1 : 0))),
  );
  const [h, w] = det.spec.input.size;
  const x = tf.randomNormal([1, h, w, 3]);
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    const out = det.predict(x);
    await out[1].data();
    const dt = performance.now() - t0;
    tf.dispose(out);
    if (i >= warmup) times.push(dt);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(JSON.stringify({ model: det.spec.name, input: h, backend: backendInfo(), runs, medianMs: +median.toFixed(1), minMs: +times[0].toFixed(1), meanMs: +mean.toFixed(1) }));
  x.dispose();
  det.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
