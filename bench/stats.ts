/**
 * Timing statistics and the markdown table of the benchmark (pure functions, no tfjs).
 */

/** One measured configuration (one child process). */
export interface BenchResult {
  model: string;
  /** `tfjs-wasm`, `tfjs-cpu`, `onnxruntime-node`, `onnxruntime-web` ... */
  backend: string;
  /** `layers` (tf.LayersModel.predict), `fused` (src/infer tfjs ops), `kernels` (src/engine wasm kernels); `onnx` for onnxruntime. */
  variant: string;
  threads: number;
  inputSize: [number, number];
  /** First call after load (allocation, compilation, kernel setup). */
  firstMs?: number;
  medianMs?: number;
  minMs?: number;
  meanMs?: number;
  fps?: number;
  runs?: number;
  /** Process CPU time (all threads) per timed call, ms; / meanMs = cores kept busy. */
  cpuMsPerCall?: number;
  /** Extra calls made to watch memory. */
  memoryCalls?: number;
  /** tf.memory().numTensors before / after the memory calls (tfjs only). */
  tensorsBefore?: number;
  tensorsAfter?: number;
  /** Peak resident set size of the child process, MB. */
  peakRssMB?: number;
  /** Threads the backend reported (tfjs: backendInfo().threads). */
  reportedThreads?: number;
  /** Set when the configuration could not run. */
  skipped?: string;
}

/** The median of `xs` (NaN when empty). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, min, mean of a list of durations (ms). */
export function summarise(times: number[]): { medianMs: number; minMs: number; meanMs: number; fps: number } {
  if (times.length === 0) throw new Error('summarise: no timings');
  const s = [...times].sort((a, b) => a - b);
  const medianMs = median(s);
  const meanMs = s.reduce((a, b) => a + b, 0) / s.length;
  return { medianMs, minMs: s[0], meanMs, fps: 1000 / medianMs };
}

/** The onnxruntime-node median for the same model and thread count, if measured. */
export function referenceFor(results: BenchResult[], r: BenchResult, backend = 'onnxruntime-node'): BenchResult | undefined {
  return results.find(
    (o) =>
      o.model === r.model && o.backend === backend && o.variant === 'onnx' && o.threads === r.threads && o.medianMs !== undefined,
  );
}

/** `v` with `digits` decimals, '-' when not measured. */
export function fmt(v: number | undefined, digits = 1): string {
  return v === undefined ? '-' : v.toFixed(digits);
}

/** Markdown table: model | backend | threads | first | median | min | FPS | vs onnxruntime-node. */
export function markdownTable(results: BenchResult[]): string {
  const lines = [
    '| model | backend | threads | first ms | median ms | min ms | FPS | time vs onnxruntime-node | speed vs onnxruntime-web | CPU/wall | peak RSS MB | tensors before/after |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const backend = r.variant && r.variant !== 'onnx' ? `${r.backend} (${r.variant})` : r.backend;
    if (r.skipped) {
      lines.push(`| ${r.model} | ${backend} | ${r.threads} | skipped: ${r.skipped} | | | | | | | | |`);
      continue;
    }
    const ref = referenceFor(results, r);
    const ratio = ref && r.medianMs !== undefined ? `${(r.medianMs / ref.medianMs!).toFixed(2)}x` : '-';
    const web = referenceFor(results, r, 'onnxruntime-web');
    const webSpeed = web && r.medianMs !== undefined && r.backend.startsWith('tfjs') ? `${(web.medianMs! / r.medianMs).toFixed(2)}x` : '-';
    const tensors = r.tensorsBefore === undefined ? '-' : `${r.tensorsBefore}/${r.tensorsAfter}`;
    const busy = r.cpuMsPerCall !== undefined && r.meanMs ? (r.cpuMsPerCall / r.meanMs).toFixed(2) : '-';
    lines.push(
      `| ${r.model} | ${backend} | ${r.threads} | ${fmt(r.firstMs)} | ${fmt(r.medianMs)} | ${fmt(r.minMs)} | ` +
        `${fmt(r.fps)} | ${ratio} | ${webSpeed} | ${busy} | ${fmt(r.peakRssMB, 0)} | ${tensors} |`,
    );
  }
  return lines.join('\n');
}
