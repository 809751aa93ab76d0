import { TrainResult, trainMarkdownTable } from '../../bench/trainStats';
import { selectTrainConfigs, TRAIN_CONFIGS } from '../../bench/trainConfigs';
import { MODELS } from '../../bench/models';

describe('bench training table', () => {
  it('one row per (model, batch, threads, path): ours, PyTorch of that config and the ratio; missing PyTorch says so; skipped rows', () => {
    const base = { batch: 8, inputSize: [352, 352] as [number, number] };
    const rows: TrainResult[] = [
      { ...base, model: 'A', threads: 2, runner: 'yolo-tfjs', path: 'tfjs', msPerStep: 3000, firstStepMs: 5000, cpuMsPerStep: 5500 },
      { ...base, model: 'A', threads: 2, runner: 'pytorch', msPerStep: 250, cpuMsPerStep: 480 },
      { ...base, model: 'A', threads: 2, runner: 'yolo-tfjs', path: 'engine', msPerStep: 300 },
      { ...base, model: 'B', threads: 1, runner: 'yolo-tfjs', path: 'engine', msPerStep: 400 },
      { ...base, model: 'C', threads: 1, runner: 'yolo-tfjs', skipped: 'missing fixture' },
    ];
    const lines = trainMarkdownTable(rows).split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[2]).toBe('| A | 8 | 2 | 3000 (tfjs) | 5000 | 5500 | 250 | 480 | 12.00x |');
    expect(lines[3]).toBe('| A | 8 | 2 | 300 (engine) | - | - | 250 | 480 | 1.20x |');
    expect(lines[4]).toBe('| B | 8 | 1 | 400 (engine) | - | - | not compared | - | - |');
    expect(lines[5]).toContain('skipped: missing fixture');
  });

  it('every training configuration names a benchmark model; the filter matches substrings', () => {
    for (const c of TRAIN_CONFIGS) expect(MODELS.map((m) => m.name)).toContain(c.model);
    expect(selectTrainConfigs(['fastestv2']).map((c) => c.model)).toEqual(['YOLO-FastestV2 352']);
    expect(selectTrainConfigs([])).toBe(TRAIN_CONFIGS);
    expect(selectTrainConfigs(['nosuch'])).toEqual([]);
  });
});
