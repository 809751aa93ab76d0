/**
 * Kernel thread pool benchmark: dispatch overhead of a near-empty job and conv2d speed with 1
 * vs 2 (or more) threads.
 *
 *   node -r ts-node/register/transpile-only bench/threadPool.ts [--threads 2] [--runs 15]
 *
 * Dispatch: a 1x1 conv over 8 pixels (C = 1, N = 8: well under a microsecond of work) split in
 * chunks of 1 pixel, timed back to back (workers still spinning) and after a 2 ms idle gap
 * (workers asleep in Atomics.wait), for several spin budgets. Conv: median ms after warm-up.
 */
import { Arena, KernelModule, createKernelModule, packConvWeights } from '../src/engine/kernelModule';
import { ACT, CONV_PARAMS, paramBytes, writeParams } from '../src/engine/kernelParams';
import { KernelThreadPool, createKernelThreadPool, whenPoolReady } from '../src/engine/threadPool';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function conv(km: KernelModule, arena: Arena, H: number, W: number, C: number, N: number, k: number): number {
  const r = (): number => Math.random() - 0.5;
  const packed = packConvWeights(Float32Array.from({ length: k * k * C * N }, r), [k, k, C, N], Float32Array.from({ length: N }, r));
  const params = arena.alloc(paramBytes(CONV_PARAMS));
  writeParams(km.memory, params, CONV_PARAMS, {
    in: arena.allocF32(Float32Array.from({ length: H * W * C }, r)), H, W, C, inStride: C,
    out: arena.alloc(H * W * N * 4), OH: H, OW: W, N, outStride: N,
    weights: arena.allocF32(packed.weights), bias: arena.allocF32(packed.bias),
    kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padTop: (k - 1) >> 1, padLeft: (k - 1) >> 1,
    act: ACT.leaky, alpha: 0.1, zero: arena.allocF32(new Float32Array(C)), splitBlocks: 0,
  });
  return params;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const sleepSync = (m: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, m);

function timeRuns(f: () => void, runs: number, warm: number): number[] {
  for (let i = 0; i < warm; i++) f();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    out.push(ms(t0));
  }
  return out;
}

async function main(): Promise<void> {
  const threads = arg('threads', 2);
  const runs = arg('runs', 15);
  const km = createKernelModule({ threaded: true });
  const arena = new Arena(km);
  const os = await import('os');
  console.log(`node ${process.version}, ${os.cpus().length} logical cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  // Dispatch overhead.
  const tiny = conv(km, arena, 1, 8, 1, 8, 1);
  const direct = km.kernel('conv2d');
  const n = 20000;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) direct(tiny, 0, 8);
  console.log(`\ndispatch (1x1 conv, 8 pixels, grain 1):\n  direct kernel call            ${((ms(t0) * 1000) / n).toFixed(2)} µs`);
  for (const spinUs of [0, 20, 50, 200]) {
    const pools: Array<[string, KernelThreadPool]> = [
      ['1 thread ', createKernelThreadPool(km, 1, arena, { spinUs })],
      [`${threads} threads`, createKernelThreadPool(km, threads, arena, { spinUs })],
    ];
    for (const [label, pool] of pools) {
      await whenPoolReady(pool);
      for (let i = 0; i < 1000; i++) pool.run('conv2d', tiny, 8, 1);
      const hot: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = process.hrtime.bigint();
        pool.run('conv2d', tiny, 8, 1);
        hot.push(ms(t) * 1000);
      }
      const cold: number[] = [];
      for (let i = 0; i < 200; i++) {
        sleepSync(2);
        const t = process.hrtime.bigint();
        pool.run('conv2d', tiny, 8, 1);
        cold.push(ms(t) * 1000);
      }
      console.log(`  pool ${label} spin ${String(spinUs).padStart(3)} µs   back-to-back median ${median(hot).toFixed(2).padStart(6)} µs, mean ${(hot.reduce((a, b) => a + b) / n).toFixed(2).padStart(6)} µs; after 2 ms idle median ${median(cold).toFixed(1).padStart(6)} µs`);
      pool.dispose();
    }
  }

  // An inference-like sequence: 100 convs back to back (10 of ~2 ms, 45 of ~0.2 ms, 45 of
  // ~20 µs), after a 20 ms idle gap each time (workers asleep at the start).
  const jobs: Array<[number, number]> = [];
  for (let i = 0; i < 100; i++) {
    if (i % 10 === 0) jobs.push([conv(km, arena, 26, 26, 64, 64, 3), 26 * 26]);
    else if (i % 2) jobs.push([conv(km, arena, 13, 13, 32, 32, 1), 169]);
    else jobs.push([conv(km, arena, 8, 8, 64, 64, 3), 64]);
  }
  console.log(`\n100-conv sequence after 20 ms idle (median / min of ${runs} after 3 warm-up):`);
  for (const [label, make] of [
    ['1 thread', () => createKernelThreadPool(km, 1, arena)],
    ...[0, 20, 50, 200].map((spinUs) => [`${threads} threads, spin ${spinUs} µs`, () => createKernelThreadPool(km, threads, arena, { spinUs })] as const),
  ] as Array<readonly [string, () => KernelThreadPool]>) {
    const pool = make();
    await whenPoolReady(pool);
    const ts: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      sleepSync(20);
      const t = process.hrtime.bigint();
      for (const [p, total] of jobs) pool.run('conv2d', p, total, 4);
      if (i >= 3) ts.push(ms(t));
    }
    console.log(`  ${label.padEnd(24)} ${median(ts).toFixed(2)} ms / ${Math.min(...ts).toFixed(2)} ms`);
    pool.dispose();
  }

  // Conv speed.
  const pool1 = createKernelThreadPool(km, 1, arena);
  const poolN = createKernelThreadPool(km, threads, arena);
  await whenPoolReady(poolN);
  console.log(`\nconv2d (3x3, same, leaky), median of ${runs} after 3 warm-up:`);
  for (const [H, W, C, N] of [
    [13, 13, 512, 1024],
    [208, 208, 16, 32],
    [52, 52, 128, 256],
  ]) {
    const p = conv(km, arena, H, W, C, N, 3);
    const gflop = (H * W * N * 9 * C * 2) / 1e9;
    const m1 = median(timeRuns(() => pool1.run('conv2d', p, H * W, 4), runs, 3));
    const mN = median(timeRuns(() => poolN.run('conv2d', p, H * W, 4), runs, 3));
    console.log(
      `  ${H}x${W}x${C} -> ${N}: 1 thread ${m1.toFixed(2)} ms (${(gflop / m1 * 1000).toFixed(1)} GFLOP/s), ${threads} threads ${mN.toFixed(2)} ms, speed-up ${(m1 / mN).toFixed(2)}x`,
    );
  }
  pool1.dispose();
  poolN.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
