/**
 * `yolo-tfjs prune` and the slimming chain through the CLI: sparsity training of a Darknet cfg
 * (writes final.cfg/.weights and gammas.png), pruning it, fine-tuning the pruned cfg; bad
 * arguments are one clear error.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { UsageError } from '../../../src/cli/args';
import { writeSyntheticDataset } from '../../../src/train/syntheticDataset';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { writeDarknetWeights } from '../../../src/weights/writeDarknetWeights';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';
import { captureCli } from '../../helpers/captureCli';
import { THREE_CLASS_CFG, randomDarknetTensors } from '../../prune/pruneCfgs';

const capture = (argv: string[]) => captureCli(main, argv);

describe('yolo-tfjs prune', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-cli-prune-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const cfgFile = path.join(tmp, 'small.cfg');
  const weightsFile = path.join(tmp, 'small.weights');
  fs.writeFileSync(cfgFile, THREE_CLASS_CFG);
  fs.writeFileSync(weightsFile, writeDarknetWeights(parseDarknetCfg(THREE_CLASS_CFG), randomDarknetTensors(THREE_CLASS_CFG, 9)));

  test('sparsity-train a cfg, prune it, fine-tune the pruned cfg', async () => {
    const data = path.join(tmp, 'data');
    await writeSyntheticDataset(data, { splits: { train: 4 }, seed: 4, sizeRange: [[96, 80], [128, 96]], objects: [1, 2] });
    const run = path.join(tmp, 'sparse');
    const t = await capture(['train', '--model', cfgFile, '--weights', weightsFile, '--data', path.join(data, 'train'), '--epochs', '1', '--batch', '2', '--sparsity', '0.01', '--out', run, '--json']);
    expect(t.code).toBe(0);
    expect(JSON.parse(t.out).weights).toBe(path.join(run, 'final.weights'));
    expect(fs.readFileSync(path.join(run, 'gammas.png')).subarray(1, 4).toString('latin1')).toBe('PNG');

    const out = path.join(tmp, 'pruned');
    const p = await capture(['prune', path.join(run, 'final.cfg'), '--weights', path.join(run, 'final.weights'), '--ratio', '0.5', '--out', out, '--json']);
    expect(p.code).toBe(0);
    const j = JSON.parse(p.out);
    expect(j.report.prunedGroups).toBe(12); // half of the 8 + 16 BN channels; the head is never pruned
    const filters = j.report.layers.map((l: { after: { filters: number } }) => l.after.filters);
    expect(filters[0] + filters[1]).toBe(12); // ranked globally, not per layer
    expect(filters[2]).toBe(24);
    expect(j.report.params.after).toBeLessThan(j.report.params.before);
    const det = loadDarknet(fs.readFileSync(j.cfg, 'utf8'), fs.readFileSync(j.weights));
    expect(det.model.countParams()).toBeLessThan(2000);
    det.dispose();
    const text = await capture(['prune', path.join(run, 'final.cfg'), '--weights', path.join(run, 'final.weights'), '--threshold', '0', '--out', path.join(tmp, 'p0')]);
    expect(text.out).toMatch(/^pruned 0 of 24 prunable channel groups/);

    const ft = await capture(['train', '--model', j.cfg, '--weights', j.weights, '--data', path.join(data, 'train'), '--epochs', '1', '--batch', '2', '--out', path.join(tmp, 'ft'), '--json']);
    expect(ft.code).toBe(0);
    const log = JSON.parse(ft.out);
    expect(log.steps).toBe(2);
    expect(Number.isFinite(log.epochs[0].total)).toBe(true);
    expect(fs.existsSync(path.join(tmp, 'ft', 'final.weights'))).toBe(true);
  });

  test('bad arguments are one clear error', async () => {
    const out = path.join(tmp, 'bad');
    await expect(capture(['prune', cfgFile, '--weights', weightsFile, '--out', out])).rejects.toThrow(UsageError);
    await expect(capture(['prune', cfgFile, '--weights', weightsFile, '--ratio', '0.3', '--threshold', '0.1', '--out', out])).rejects.toThrow('exactly one of --ratio or --threshold');
    await expect(capture(['prune', cfgFile, '--weights', weightsFile, '--ratio', '1.5', '--out', out])).rejects.toThrow('--ratio must be in [0, 1)');
    await expect(capture(['prune', cfgFile, '--ratio', '0.3', '--out', out])).rejects.toThrow('--weights');
    await expect(capture(['prune', path.join(tmp, 'nope.cfg'), '--weights', weightsFile, '--ratio', '0.3', '--out', out])).rejects.toThrow('cfg file not found');
    await expect(capture(['prune', cfgFile, '--weights', weightsFile, '--ratio', '0.3', '--mode', 'wide', '--out', out])).rejects.toThrow("--mode must be shortcut or normal, got 'wide'");
    const other = path.join(tmp, 'other.weights');
    fs.writeFileSync(other, Buffer.alloc(100));
    await expect(capture(['prune', cfgFile, '--weights', other, '--ratio', '0.3', '--out', out])).rejects.toThrow(/Darknet weights: .*needs \d+ floats/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
