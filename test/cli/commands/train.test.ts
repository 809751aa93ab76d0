/**
 * `yolo-tfjs train`: an in-process run on a tiny synthetic YOLO txt dataset (YOLO-FastestV2
 * from the COCO .pth, 64 px input, 1 epoch of 2 steps) writes the final model, the JSONL log
 * and the curves PNG; a missing dataset folder is one clear error.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { UsageError } from '../../../src/cli/args';
import * as resolveModelModule from '../../../src/cli/resolveModel';
import { writeSyntheticDataset, SYNTHETIC_CLASSES } from '../../../src/train/syntheticDataset';
import { loadDetectorFromDir } from '../../../src/io/loadDetectorFromDir';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';
import { captureCli } from '../../helpers/captureCli';

const capture = (argv: string[]) => captureCli(main, argv);

const pth = fixturePath('yolo-fastestv2/coco2017-0.241078ap-model.pth');

describeFixtures('yolo-fastestv2/coco2017-0.241078ap-model.pth', 'yolo-tfjs train', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-cli-train-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('1 epoch on a tiny synthetic dataset: exit 0, final model + train.jsonl + curves.png', async () => {
    const data = path.join(tmp, 'data');
    await writeSyntheticDataset(data, { splits: { train: 4, val: 2 }, seed: 3, sizeRange: [[96, 80], [128, 96]], objects: [1, 2] });
    const out = path.join(tmp, 'run');
    const r = await capture([
      'train', '--model', pth, '--arch', 'yolo-fastestv2', '--size', '64',
      '--data', path.join(data, 'train'), '--val', path.join(data, 'val'),
      '--epochs', '1', '--batch', '2', '--optimizer', 'adam', '--lr', '0.001', '--out', out, '--json',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.steps).toBe(2);
    expect(j.out).toBe(path.join(out, 'final'));
    expect(typeof j.epochs[0].mAP50).toBe('number');
    // the JSONL log: 2 steps with finite loss terms, then the epoch with its held-out mAP
    const lines = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['step', 'step', 'epoch']);
    for (const l of lines.slice(0, 2)) for (const k of ['total', 'box', 'obj', 'cls']) expect(Number.isFinite(l[k])).toBe(true);
    expect(lines[2].mAP50).toBeGreaterThanOrEqual(0);
    // the curves PNG (PNG signature) and the final model, which loads back with the dataset's classes
    const png = fs.readFileSync(path.join(out, 'curves.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(1000);
    const det = await loadDetectorFromDir(path.join(out, 'final'));
    expect(det.spec.classNames).toEqual(SYNTHETIC_CLASSES);
    expect(det.spec.input.size).toEqual([64, 64]);
    det.dispose();
  });

  test('a missing dataset folder is one clear error, before any model is loaded', async () => {
    const missing = path.join(tmp, 'no-such-dataset');
    // "before any model is loaded": resolveModel is never called (not a wall-clock bound)
    const resolve = jest.spyOn(resolveModelModule, 'resolveModel');
    try {
      const p = capture(['train', '--model', pth, '--arch', 'yolo-fastestv2', '--data', missing, '--out', path.join(tmp, 'run2')]);
      await expect(p).rejects.toThrow(UsageError);
      await expect(p).rejects.toThrow(`train: --data ${missing} does not exist (expected a yolo dataset folder)`);
      expect(resolve).not.toHaveBeenCalled();
    } finally {
      resolve.mockRestore();
    }
    expect(fs.existsSync(path.join(tmp, 'run2'))).toBe(false);
  });
});
