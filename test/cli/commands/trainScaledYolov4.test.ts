/**
 * `yolo-tfjs train` on the models of issue 13, in process, on a tiny synthetic dataset (2 images,
 * one batch, 64 px input, no augmentation, so every step sees the same batch): a yolov4-large
 * checkpoint (`--arch scaled-yolov4`), the yolov4-csp cfg + its PyTorch checkpoint (with
 * `--freeze backbone`), and a Darknet cfg with new_coords=1 heads (+ .weights). Each run: exit 0,
 * finite loss terms every step, the loss lower after the last step than at the first, the final
 * model written and loadable with the dataset's classes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { UsageError } from '../../../src/cli/args';
import { writeSyntheticDataset, SYNTHETIC_CLASSES } from '../../../src/train/syntheticDataset';
import { loadDetectorFromDir } from '../../../src/io/loadDetectorFromDir';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';
import { captureCli } from '../../helpers/captureCli';

const capture = (argv: string[]) => captureCli(main, argv);
const SY4 = (...p: string[]) => fixturePath('scaled-yolov4', ...p);
const DARKNET = (...p: string[]) => fixturePath('darknet', 'weights', ...p);

const STEPS = 3;

interface Run {
  label: string;
  model: string[];
  extra?: string[];
}

const RUNS: Run[] = [
  { label: 'yolov4-p5 checkpoint (.pt, --arch scaled-yolov4)', model: ['--model', SY4('yolov4-p5-small.pt'), '--arch', 'scaled-yolov4'] },
  {
    label: 'yolov4-csp cfg + PyTorch checkpoint, --freeze backbone',
    model: ['--model', SY4('csp', 'yolov4-csp-div4.cfg'), '--weights', SY4('csp', 'yolov4-csp.pt')],
    extra: ['--freeze', 'backbone'],
  },
  {
    label: 'Darknet cfg with new_coords=1 (+ .weights)',
    model: ['--model', DARKNET('yolov4-csp-s-mish.cfg'), '--weights', DARKNET('yolov4-csp-s-mish_random_seed1234.weights')],
  },
];

describeFixtures('scaled-yolov4', 'yolo-tfjs train on Scaled-YOLOv4 models', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-train-sy4-'));
  const data = path.join(tmp, 'data');
  beforeAll(async () => {
    await writeSyntheticDataset(data, { splits: { train: 2 }, seed: 5, sizeRange: [[96, 80], [128, 96]], objects: [2, 3] });
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each(RUNS)('$label: loss finite and decreasing, final model written', async (r) => {
    const out = path.join(tmp, r.label.replace(/\W+/g, '_'));
    const res = await capture([
      'train', ...r.model, '--size', '64', '--data', path.join(data, 'train'),
      '--epochs', String(STEPS), '--batch', '2', '--no-augment', '--optimizer', 'adam', '--lr', '0.001', '--out', out, '--json',
      ...(r.extra ?? []),
    ]);
    expect(res.code).toBe(0);
    const j = JSON.parse(res.out);
    expect(j.steps).toBe(STEPS);
    const steps = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'step');
    expect(steps).toHaveLength(STEPS);
    for (const s of steps) for (const k of ['total', 'box', 'obj', 'cls']) expect(Number.isFinite(s[k])).toBe(true);
    expect(steps[STEPS - 1].total).toBeLessThan(steps[0].total);
    const det = await loadDetectorFromDir(path.join(out, 'final'));
    try {
      expect(det.spec.classNames).toEqual(SYNTHETIC_CLASSES);
      expect(det.spec.input.size).toEqual([64, 64]);
    } finally {
      det.dispose();
    }
  });

  it('--port: only for a .cfg with PyTorch weights, and only a known port', async () => {
    const base = ['train', '--data', path.join(data, 'train'), '--out', path.join(tmp, 'y')];
    const bad = capture([...base, ...RUNS[1].model, '--port', 'pjreddie']);
    await expect(bad).rejects.toThrow(UsageError);
    await expect(bad).rejects.toThrow("--port must be one of scaled-yolov4, ultralytics, got 'pjreddie'");
    const notPt = capture([...base, ...RUNS[2].model, '--port', 'ultralytics']);
    await expect(notPt).rejects.toThrow('--port applies to a .cfg model with PyTorch weights (--weights <file.pt>)');
  });

  it('a cfg-defined Darknet checkpoint without its cfg is one clear error', async () => {
    const p = capture(['train', '--model', SY4('csp', 'yolov4-csp.pt'), '--arch', 'darknet', '--data', path.join(data, 'train'), '--out', path.join(tmp, 'x')]);
    await expect(p).rejects.toThrow(UsageError);
    await expect(p).rejects.toThrow(/needs its cfg: --model <file.cfg> --weights/);
  });
});
