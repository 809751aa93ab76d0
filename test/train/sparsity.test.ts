// Sparsity training (train({sparsity})): the L1 subgradient s * sign(gamma) on BatchNorm gammas,
// the per-epoch |gamma| histogram and its plot.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { train } from '../../src/train/train';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { writeDarknetWeights } from '../../src/weights/writeDarknetWeights';
import { THREE_CLASS_CFG as CFG, randomDarknetTensors } from '../prune/pruneCfgs';
import { tinyDataset } from './helpers';


function detector() {
  return loadDarknet(CFG, writeDarknetWeights(parseDarknetCfg(CFG), randomDarknetTensors(CFG, 5)), { classNames: ['circle', 'square', 'triangle'] });
}

function gammas(det: ReturnType<typeof detector>): Float32Array[] {
  return ['conv_0_bn', 'conv_1_bn'].map((n) => Float32Array.from(det.model.getLayer(n).getWeights()[0].dataSync()));
}

describe('train({sparsity})', () => {
  test('adds s * sign(gamma) to the gamma gradients (plain SGD: gamma moves by -lr * s * sign(gamma) more)', async () => {
    const { dataset, readImage } = tinyDataset(4, 2);
    const lr = 0.05;
    const s = 0.1;
    const common = { epochs: 1, batchSize: 4, optimizer: 'sgd' as const, lr, momentum: 0, warmupEpochs: 0, schedule: 'constant' as const, weightDecay: 0, augment: false as const, progress: false, readImage };
    const a = detector();
    const b = detector();
    const start = gammas(a);
    try {
      const ra = await train(a, dataset, { ...common });
      const rb = await train(b, dataset, { ...common, sparsity: s });
      ra.optimizer.dispose();
      rb.optimizer.dispose();
      const ga = gammas(a);
      const gb = gammas(b);
      start.forEach((g0, k) => g0.forEach((v, i) => {
        expect(gb[k][i] - ga[k][i]).toBeCloseTo(-lr * s * Math.sign(v), 5);
      }));
      expect(ra.epochs[0].gamma).toBeUndefined();
      const stats = rb.epochs[0].gamma;
      expect(stats?.counts.reduce((x, y) => x + y, 0)).toBe(24);
      expect(stats?.mean).toBeGreaterThan(0);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('writes gammas.png with the per-epoch histogram; bad values are clear errors', async () => {
    const { dataset, readImage } = tinyDataset(4, 3);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sparsity-'));
    const det = detector();
    try {
      const r = await train(det, dataset, { epochs: 2, batchSize: 4, sparsity: 0.01, augment: false, progress: false, readImage, outDir: out });
      r.optimizer.dispose();
      const png = fs.readFileSync(path.join(out, 'gammas.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      const log = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(log.filter((l) => l.type === 'epoch').map((l) => l.gamma.counts.length)).toEqual([40, 40]);
      await expect(train(det, dataset, { epochs: 1, batchSize: 4, sparsity: -1 })).rejects.toThrow(/sparsity must be a finite number >= 0/);
    } finally {
      det.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
