import { BenchResult, markdownTable, summarise } from '../../bench/stats';

describe('bench statistics', () => {
  it('summarises timings: median (odd and even counts), min, mean, FPS', () => {
    expect(summarise([30, 10, 20])).toEqual({ medianMs: 20, minMs: 10, meanMs: 20, fps: 50 });
    expect(summarise([40, 10, 20, 30]).medianMs).toBe(25);
    expect(() => summarise([])).toThrow(/no timings/);
  });

  it('prints the time ratio to onnxruntime-node and the speed-up over onnxruntime-web at the same thread count, and skipped rows', () => {
    const base = { model: 'm', inputSize: [32, 32] as [number, number] };
    const rows: BenchResult[] = [
      { ...base, backend: 'onnxruntime-node', variant: 'onnx', threads: 1, medianMs: 10, minMs: 9, fps: 100 },
      { ...base, backend: 'onnxruntime-web', variant: 'onnx', threads: 1, medianMs: 50, minMs: 45, fps: 20 },
      { ...base, backend: 'tfjs-wasm', variant: 'layers', threads: 1, medianMs: 25, minMs: 20, fps: 40, meanMs: 25, cpuMsPerCall: 25 },
      { ...base, backend: 'tfjs-wasm', variant: 'layers', threads: 2, medianMs: 15, minMs: 14, fps: 66.7 },
      { ...base, backend: 'tfjs-wasm', variant: 'fused', threads: 1, skipped: 'builder not there yet' },
    ];
    const lines = markdownTable(rows).split('\n');
    expect(lines[0]).toMatch(/^\| model \| backend \| threads \| first ms \| median ms \| min ms \| FPS \| time vs onnxruntime-node \| speed vs onnxruntime-web/);
    expect(lines[2]).toContain('| 1.00x | - |');
    expect(lines[4]).toContain('| tfjs-wasm (layers) | 1 | - | 25.0 | 20.0 | 40.0 | 2.50x | 2.00x | 1.00 |');
    expect(lines[5]).toContain('| 15.0 | 14.0 | 66.7 | - | - |'); // no 2-thread reference
    expect(lines[6]).toContain('skipped: builder not there yet');
  });
});
