/**
 * Child-process runner of one hostile image / cfg / engine case (issue 12 items 1-3, 6), run by
 * hostileInputs.test.ts under a time and memory limit: `node runHostileInput.js <case>`.
 *
 * In one process: load a good detector (Yolo-Fastest 1.1, real weights) and detect dog.jpg;
 * run the hostile case, timing it; then check the process is healthy: the previously loaded
 * detector and a freshly loaded one both give exactly the first detections. Prints one JSON
 * line: what the case gave (error message or detections), its time, the peak RSS, the health.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';
import { Detector } from '../../src/detector';
import { WasmCompiledInference } from '../../src/engine/wasmInference';
import { Detection } from '../../src/detection';
import { main } from '../../src/cli/main';
import { fixturePath } from '../helpers/fixtures';
import { darknetWeightsFor, tinyCfg, tooLargeCfg } from './syntheticDarknet';
import { pngClaiming, whitePng } from '../helpers/hostilePng';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as (input?: Uint8Array | import('sharp').SharpOptions, o?: import('sharp').SharpOptions) => import('sharp').Sharp;

const CFG = fixturePath('darknet/weights/yolo-fastest-1.1.cfg');
const WEIGHTS = fixturePath('darknet/weights/yolo-fastest-1.1.weights');
const DOG = fixturePath('images/dog.jpg');
const cfgText = fs.readFileSync(CFG, 'utf8');
const weights = fs.readFileSync(WEIGHTS);

const loadGood = (): Detector => loadDarknet(cfgText, weights, { name: 'yolo-fastest-1.1' });

/** The outcome of the hostile step: an error message, or a value (detections, a size, ...). */
interface Outcome {
  error: string | null;
  value?: unknown;
}

/** A Darknet cfg case: loading (and, if it loads, detecting with) the edited cfg. */
async function badCfg(edit: (cfg: string) => string): Promise<unknown> {
  const det = loadDarknet(edit(cfgText), weights, { name: 'hostile-cfg' });
  try {
    return await det.detect(DOG);
  } finally {
    det.dispose();
  }
}

/** The hostile cases: each returns what it produced (or throws the error it gave). */
const CASES: Record<string, (good: Detector, ref: Detection[]) => Promise<unknown>> = {
  /** A ~100-byte SVG claiming 16000x16000 (the 122-byte one used to spin a core at 7-10 GB). */
  'svg-16000-tiny': async (good) => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><rect width="9" height="9"/></svg>');
    return { bytes: svg.length, detections: await good.detect(svg) };
  },
  /** dog.jpg embedded in a 16000x16000 SVG: rasterised at a bounded size, the right boxes in the 16000 frame. */
  'svg-16000-dog': async (good) => {
    const b64 = fs.readFileSync(DOG).toString('base64');
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="16000" height="12000">' +
        `<image width="16000" height="12000" preserveAspectRatio="none" xlink:href="data:image/jpeg;base64,${b64}"/></svg>`,
    );
    return { detections: await good.detect(svg) };
  },
  /** A 320x320 SVG embedding a real 16000x16000 PNG (the renderer would decode it: 2.3 GB, 20 s). */
  'svg-embeds-png-16000': async (good) => {
    const b64 = Buffer.from(whitePng(16000, 16000)).toString('base64');
    return good.detect(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320"><image width="320" height="320" href="data:image/png;base64,${b64}"/></svg>`));
  },
  /** A PNG claiming 16000x16000 (256 megapixels, inside sharp's own default limit): refused from the header. */
  'png-16000': async (good) => good.detect(await pngClaiming(16000, 16000)),
  /** A real, complete 10000x10000 PNG (100 megapixels, under the limit): decoded and shrunk in sharp, streaming. */
  'png-10000': async (good) => {
    const png = whitePng(10000, 10000);
    const t0 = Date.now();
    const detections = await good.detect(png);
    const detectMs = Date.now() - t0;
    // The same white at 1000x1000 takes the exact (full-decode) path: same pixels in, same out.
    return { pngBytes: png.length, detectMs, detections, smallDetections: await good.detect(whitePng(1000, 1000)) };
  },
  'cfg-padding-10000': () => badCfg((c) => c.replace('pad=1', 'padding=10000')),
  'cfg-width-8192': () => badCfg((c) => c.replace('width=320', 'width=8192').replace('height=320', 'height=8192')),
  'cfg-maxpool-size-1000000': () => badCfg((c) => c.replace('[convolutional]', '[maxpool]\nsize=1000000\nstride=1\n\n[convolutional]')),
  'cfg-classes-1000000000': () => badCfg((c) => c.replace(/classes=80/g, 'classes=1000000000')),
  /** Every option in bounds, but three 4096x4096x14 activations alive at once: over 2 GiB of wasm memory. */
  'plan-over-wasm-memory': async () => {
    const det = loadDarknet(tooLargeCfg(), darknetWeightsFor(tooLargeCfg()), { name: 'too-large' });
    try {
      return det.predict(tf.zeros([1, 4096, 4096, 3]));
    } finally {
      det.dispose();
    }
  },
  /** A kernel of another model traps (made to run past its buffers); that model recovers too. */
  'kernel-trap': async () => {
    const det = loadDarknet(tinyCfg(), darknetWeightsFor(tinyCfg()), { name: 'trapping-model' });
    det.engine = 'wasm-kernels';
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    try {
      const before = det.predict(x);
      const want = Array.from(before[0].dataSync());
      tf.dispose(before);
      const plan = (det.compiledInference() as WasmCompiledInference).plan;
      plan.steps.find((s) => s.kernel === 'conv2d' && s.cost >= 150000)!.total = 1e9;
      let error = '';
      try {
        tf.dispose(det.predict(x));
      } catch (e) {
        error = (e as Error).message;
      }
      const after = det.predict(x);
      const same = Array.from(after[0].dataSync()).every((v, i) => v === want[i]);
      tf.dispose(after);
      if (!error) return { trapped: false };
      throw new Error(`${error} || the same model afterwards gives the same outputs: ${same}`);
    } finally {
      x.dispose();
      det.dispose();
    }
  },
  /** The CLI with `--size 1000000` (used to hang). */
  'cli-size-1000000': async () => {
    const lines: string[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => void lines.push(a.join(' '));
    let code: number;
    try {
      code = await main(['detect', DOG, '--model', CFG, '--weights', WEIGHTS, '--size', '1000000', '--json']);
    } finally {
      console.error = log;
    }
    throw new Error(`exit code ${code}; stderr: ${lines.join(' | ')}`);
  },
};

async function run(name: string): Promise<void> {
  const hostile = CASES[name];
  if (!hostile) throw new Error(`unknown case '${name}' (known: ${Object.keys(CASES).join(', ')})`);
  await ready();
  const good = loadGood();
  const ref = await good.detect(DOG);
  const t0 = Date.now();
  const outcome: Outcome = { error: null };
  try {
    outcome.value = await hostile(good, ref);
  } catch (e) {
    outcome.error = e instanceof Error ? e.message : `non-Error thrown: ${String(e)}`;
  }
  const ms = Date.now() - t0;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  // Health afterwards: the loaded detector and a fresh one give exactly the first detections.
  const again = await good.detect(DOG);
  const fresh = loadGood();
  const freshDets = await fresh.detect(DOG);
  fresh.dispose();
  good.dispose();
  const same = (d: Detection[]) => JSON.stringify(d) === JSON.stringify(ref);
  const result = { case: name, ms, peakRssMb, ...outcome, ref, healthy: { loaded: same(again), fresh: same(freshDets), count: ref.length } };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

run(process.argv[2]).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`runner failed: ${(e as Error).stack}\n`);
    process.exit(2);
  },
);
