/**
 * `yolo-tfjs train --model rfsong`: RFSong built from scratch with the dataset's classes, one
 * step of the MultiBox loss with SSD augmentation on a one-image synthetic set, saved and loaded
 * back (its dilated RFB convs are trainable AtrousConv2D layers).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { writeSyntheticDataset, SYNTHETIC_CLASSES } from '../../../src/train/syntheticDataset';
import { loadDetectorFromDir } from '../../../src/io/loadDetectorFromDir';
import { captureCli } from '../../helpers/captureCli';

describe('yolo-tfjs train --model rfsong', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-rfsong-train-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('one step from scratch: exit 0, finite MultiBox terms, the final model has the dataset classes', async () => {
    const data = path.join(tmp, 'data');
    await writeSyntheticDataset(data, { splits: { train: 1 }, seed: 5, sizeRange: [[160, 120], [160, 120]], objects: [2, 2] });
    const out = path.join(tmp, 'run');
    const r = await captureCli(main, ['train', '--model', 'rfsong', '--data', path.join(data, 'train'), '--epochs', '1', '--batch', '1', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).steps).toBe(1);
    const [step] = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(step.obj).toBe(0);
    expect(step.box).toBeGreaterThan(0);
    expect(step.cls).toBeGreaterThan(0);
    expect(Number.isFinite(step.total)).toBe(true);
    const det = await loadDetectorFromDir(path.join(out, 'final'));
    expect(det.spec.classNames).toEqual(SYNTHETIC_CLASSES);
    expect(det.spec.heads[0].kind).toBe('ssd');
    expect(det.model.outputs[6].shape).toEqual([null, 38, 38, 4 * (SYNTHETIC_CLASSES.length + 1)]);
    det.dispose();
  });
});
