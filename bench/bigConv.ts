/**
 * Single-thread speed of `conv2d` (forward and conv input gradient) and `conv2dFilterGrad` on
 * layers with large weights (tiny YOLOv3's conv_12 and conv_21, RFSong's conv4_2) and on
 * "normal" control layers, called with the fields the planner / training engine give them
 * (`splitBlocks` by the same rule). Prints GFLOP/s (2 flops per multiply-add) of the MINIMUM time
 * over the runs (the machine is shared: the minimum is the least disturbed run) and of the median
 * (what a loaded run sees).
 *
 *   node -r ts-node/register/transpile-only bench/bigConv.ts [--runs 7] [--only substr] [--json]
 *        [--baseline path/to/kernelsWasm.ts] [--no-flush]
 *
 * Before every timed call a 64 MB buffer is touched (untimed) so weights and inputs come from
 * memory as in a model step, where the other layers evict them; --no-flush keeps them cached.
 *
 * --baseline: also time the kernels of another build (e.g. `git show main:src/engine/kernelsWasm.ts
 * > /tmp/base.ts`), interleaved run by run with the current build in the same process, so both
 * columns see the same load.
 *
 * "batch 8" rows make the calls the training engine makes for 8 images (conv2d: one call per
 * image; conv2dFilterGrad single-thread: one call with images = 8, all into one dW).
 */
import { Arena, KernelModule, createKernelModule, instantiateKernels, packConvWeights, wasmRelaxedSimdSupported } from '../src/engine/kernelModule';
import { decodeBase64 } from '../src/util/base64';
import { packConvInputGradWeights, convInputGradPlan } from '../src/engine/gradPacking';
import { ACT, CONV_FILTER_GRAD_PARAMS, CONV_PARAMS, paramBytes, writeParams } from '../src/engine/kernelParams';
import { mulberry32 } from '../src/util/random';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('runs', 7);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';
const JSON_OUT = process.argv.includes('--json');
/** Evict the caches (a 64 MB pass, untimed) before every timed call, as a model step's other layers do. */
const FLUSH = !process.argv.includes('--no-flush');
const flushBuf = new Float64Array(FLUSH ? 8 << 20 : 0);
let flushSink = 0;
function flush(): void {
  for (let i = 0; i < flushBuf.length; i += 8) flushBuf[i] += 1;
  flushSink += flushBuf[flushBuf.length - 8] ?? 0;
}
const BASELINE = process.argv.includes('--baseline') ? process.argv[process.argv.indexOf('--baseline') + 1] : '';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** A 3x3 (or 1x1) 'same' conv of one image: H x W x C -> H x W x N, stride 1. */
interface Layer {
  name: string;
  H: number;
  W: number;
  C: number;
  N: number;
  k: number;
}

const LAYERS: Layer[] = [
  { name: 'tinyYOLOv3 conv_12', H: 13, W: 13, C: 512, N: 1024, k: 3 },
  { name: 'tinyYOLOv3 conv_14', H: 13, W: 13, C: 256, N: 512, k: 3 },
  { name: 'tinyYOLOv3 conv_21', H: 26, W: 26, C: 384, N: 256, k: 3 },
  { name: 'RFSong conv4_2', H: 38, W: 38, C: 256, N: 256, k: 3 },
  { name: 'control RFSong conv3_2', H: 75, W: 75, C: 128, N: 128, k: 3 },
  { name: 'control 1x1 44x44 116', H: 44, W: 44, C: 116, N: 116, k: 1 },
];

/** The planner's / training engine's rule (emitConv.ts, trainingEngine.ts splitByChannels). */
function splitBlocks(weightFloats: number, pixels: number, outChannels: number): boolean {
  return weightFloats * 4 > 1536 * 1024 && pixels < 64 * Math.ceil(outChannels / 8);
}

function rand(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

interface Case {
  layer: string;
  kernel: string;
  batch: number;
  macs: number;
  run: () => void;
  /** Byte offset and float count of what the call writes (compared with the baseline's). */
  out: [number, number];
}

interface Row {
  layer: string;
  kernel: string;
  batch: number;
  ms: number;
  gflops: number;
  medianMs: number;
  baseMs?: number;
  baseMedianMs?: number;
  baseGflops?: number;
}

/** The benchmark's calls on module `km` (buffers in its own memory). */
function cases(km: KernelModule): Case[] {
  const out: Case[] = [];
  const conv = km.kernel('conv2d');
  const fgrad = km.kernel('conv2dFilterGrad');
  let arena = new Arena(km);
  for (const L of LAYERS) {
    const { H, W, C, N, k } = L;
    const pad = (k - 1) >> 1;
    const P = H * W;
    const B = 8;
    const macs = P * k * k * C * N;
    const add = (kernel: string, batch: number, written: [number, number], run: () => void) => {
      if (!ONLY || `${L.name} ${kernel}`.includes(ONLY)) out.push({ layer: L.name, kernel, batch, macs: batch * macs, run, out: written });
    };
    const f = rand(k * k * C * N, 1).map((v) => v * 0.05);
    const x = arena.allocF32(rand(B * P * C, 2));
    const dy = arena.allocF32(rand(B * P * N, 3));
    const y = arena.alloc(P * Math.max(C, N) * 4);
    const zero = arena.alloc((Math.max(C, N) + 16) * 4);
    new Float32Array(km.memory.buffer, zero, Math.max(C, N) + 16).fill(0);

    // forward (leaky, as tiny YOLOv3; the engine's training forward is linear: same cost)
    const fw = packConvWeights(f, [k, k, C, N], rand(N, 4));
    const wF = arena.allocF32(fw.weights), bF = arena.allocF32(fw.bias);
    const splitF = splitBlocks(f.length, P, N);
    const fwdParams = Array.from({ length: B }, (_, img) => {
      const p = arena.alloc(paramBytes(CONV_PARAMS));
      writeParams(km.memory, p, CONV_PARAMS, {
        in: x + img * P * C * 4, H, W, C, inStride: C, out: y, OH: H, OW: W, N, outStride: N, weights: wF, bias: bF,
        kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: pad, padLeft: pad, act: ACT.leaky, alpha: 0.1, zero, splitBlocks: splitF ? 1 : 0,
      });
      return p;
    });
    const fwdUnits = splitF ? Math.ceil(N / 8) : P;
    add(`conv2d fwd${splitF ? ' (split)' : ''}`, 1, [y, P * N], () => conv(fwdParams[0], 0, fwdUnits));
    add(`conv2d fwd${splitF ? ' (split)' : ''}`, B, [y, P * N], () => fwdParams.forEach((p) => conv(p, 0, fwdUnits)));

    // input gradient: conv2d on flipped, transposed weights (dy -> dx)
    const g = convInputGradPlan({ H, W, C, OH: H, OW: W, N, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: pad, padLeft: pad }).conv;
    const gw = packConvInputGradWeights(f, [k, k, C, N]);
    const wG = arena.allocF32(gw.weights), bG = arena.allocF32(gw.bias);
    const splitG = splitBlocks(f.length, P, C);
    const pG = arena.alloc(paramBytes(CONV_PARAMS));
    writeParams(km.memory, pG, CONV_PARAMS, {
      in: dy, H: g.H, W: g.W, C: g.C, inStride: N, out: y, OH: g.OH, OW: g.OW, N: g.N, outStride: C, weights: wG, bias: bG,
      kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: g.padTop, padLeft: g.padLeft, act: ACT.linear, alpha: 0, zero, splitBlocks: splitG ? 1 : 0,
    });
    add(`conv2d inputGrad${splitG ? ' (split)' : ''}`, 1, [y, P * C], () => conv(pG, 0, splitG ? Math.ceil(C / 8) : P));

    // filter gradient (ACC into dW; the sum's growth does not matter for speed)
    const dW = arena.alloc(f.length * 4);
    new Float32Array(km.memory.buffer, dW, f.length).fill(0);
    const nb = Math.ceil(N / 8);
    const pFG = (images: number) => {
      const p = arena.alloc(paramBytes(CONV_FILTER_GRAD_PARAMS));
      writeParams(km.memory, p, CONV_FILTER_GRAD_PARAMS, {
        in: x, H, W, C, inStride: C, dy, OH: H, OW: W, N, dyStride: N, dW, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: pad, padLeft: pad,
        images, inImageStep: P * C * 4, dyImageStep: P * N * 4, dWImageStep: 0,
      });
      return p;
    };
    const fg1 = pFG(1), fg8 = pFG(B);
    add('conv2dFilterGrad', 1, [dW, f.length], () => fgrad(fg1, 0, nb));
    add('conv2dFilterGrad', B, [dW, f.length], () => fgrad(fg8, 0, B * nb));
    arena = new Arena(km, arena.used);
  }
  return out;
}

/** A kernel module of another build's kernelsWasm.ts (same variant as the current one). */
function baselineModule(path: string, like: KernelModule): KernelModule {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const src = require(path) as Record<string, string>;
  const mod = new WebAssembly.Module(decodeBase64(like.relaxed ? src.KERNELS_RELAXED_SIMD : src.KERNELS_SIMD) as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 32768 });
  const instance = instantiateKernels(mod, memory);
  const ex = instance.exports as Record<string, unknown>;
  return {
    ...like,
    memory,
    module: mod,
    instance,
    heapBase: (ex.__heap_base as WebAssembly.Global).value as number,
    kernel: (name) => ex[name] as never,
  };
}

function main(): void {
  const km = createKernelModule({ relaxed: wasmRelaxedSimdSupported() });
  const mine = cases(km);
  const bkm = BASELINE ? baselineModule(BASELINE, km) : null;
  const base = bkm ? cases(bkm) : null;
  let differ = 0;
  const rows: Row[] = [];
  if (!JSON_OUT) console.log(`single thread, ${km.relaxed ? 'relaxed SIMD' : 'SIMD128'}; min of ${RUNS} runs after 1 warm-up${FLUSH ? ', caches flushed before each' : ', caches warm'}${base ? ', interleaved with the baseline' : ''}; machine shared (loaded)`);
  for (let i = 0; i < mine.length; i++) {
    const c = mine[i];
    c.run();
    base?.[i].run();
    const ts: number[] = [], tb: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      flush();
      let t0 = performance.now();
      c.run();
      ts.push(performance.now() - t0);
      if (base) {
        flush();
        t0 = performance.now();
        base[i].run();
        tb.push(performance.now() - t0);
      }
    }
    const best = Math.min(...ts), bestBase = Math.min(...tb);
    const med = median(ts), medBase = base ? median(tb) : NaN;
    if (base && bkm) {
      // Same calls, same number of times (filter gradients accumulate): the bits must agree.
      const a = new Uint32Array(km.memory.buffer, c.out[0], c.out[1]), b = new Uint32Array(bkm.memory.buffer, base[i].out[0], base[i].out[1]);
      if (a.some((v, j) => v !== b[j])) {
        differ++;
        console.log(`  ${c.layer} ${c.kernel}: output bits differ from the baseline's`);
      }
    }
    const gf = (ms: number) => (2 * c.macs) / (ms * 1e6);
    const row: Row = { layer: c.layer, kernel: c.kernel, batch: c.batch, ms: best, gflops: gf(best), medianMs: med, ...(base ? { baseMs: bestBase, baseGflops: gf(bestBase), baseMedianMs: medBase } : {}) };
    rows.push(row);
    if (!JSON_OUT) {
      const b = base ? ` | baseline ${bestBase.toFixed(2).padStart(8)} ms ${gf(bestBase).toFixed(1).padStart(5)} GFLOP/s (median ${gf(medBase).toFixed(1).padStart(5)}) | x${(bestBase / best).toFixed(2)} (median x${(medBase / med).toFixed(2)})` : '';
      console.log(`${c.layer.padEnd(23)} ${c.kernel.padEnd(25)} b${String(c.batch).padEnd(2)} ${best.toFixed(2).padStart(8)} ms ${row.gflops.toFixed(1).padStart(5)} GFLOP/s (median ${gf(med).toFixed(1).padStart(5)})${b}`);
    }
  }
  if (base && !JSON_OUT) console.log(differ ? `${differ} outputs differ from the baseline's` : 'every output is bit-identical to the baseline\'s');
  if (JSON_OUT) console.log(JSON.stringify({ runs: RUNS, stat: 'min', relaxed: km.relaxed, flushed: FLUSH, rows, bitIdenticalToBaseline: base ? differ === 0 : undefined }, null, 1));
}

main();
