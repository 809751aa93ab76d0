// Channel pruning of Darknet cfgs: exactness when the pruned channels carry nothing (gamma and
// beta zero), exact folding of act(beta) on 1x1 paths, the tie rules (shortcut, depthwise,
// route groups, heads), the .weights writer, and no tensor leak in prune(detector).
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath } from '../helpers/fixtures';
import { expectFlatTensors } from '../helpers/expectFlatTensors';
import { parseDarknetCfg, DarknetCfg } from '../../src/weights/parseDarknetCfg';
import { readDarknetWeights, darknetTensorName } from '../../src/weights/readDarknetWeights';
import { writeDarknetWeights } from '../../src/weights/writeDarknetWeights';
import { TensorMap } from '../../src/weights/tensorMap';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';
import { prune, pruneDarknet, planPruning, formatPruneReport, getDarknetWeights, darknetCost } from '../../src/prune';
import { darknetConvWeightsLayout } from '../../src/weights/readDarknetWeights';
import { LINEAR_PATHS_CFG, YOLOV3_LIKE_CFG, randomDarknetTensors } from './pruneCfgs';
import { mulberry32 } from '../../src/util/random';

function cloneTensors(t: TensorMap): TensorMap {
  return new Map([...t].map(([k, v]) => [k, { ...v, shape: v.shape.slice(), data: (v.data as Float32Array).slice() }]));
}

/** Raw head outputs of cfg + tensors on a seeded input. */
function heads(cfgText: string, tensors: TensorMap, size: number): Float32Array[] {
  const cfg = parseDarknetCfg(cfgText);
  const det = loadDarknet(cfgText, writeDarknetWeights(cfg, tensors), { inputSize: size });
  try {
    const rng = mulberry32(3);
    const x = tf.tensor4d(Float32Array.from({ length: size * size * 3 }, () => rng()), [1, size, size, 3]);
    const out = det.predict(x);
    const data = out.map((o) => o.dataSync() as Float32Array);
    tf.dispose([x, ...out]);
    return data;
  } finally {
    det.dispose();
  }
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  a.forEach((x, k) => {
    expect(b[k].length).toBe(x.length);
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - b[k][i]));
      scale = Math.max(scale, Math.abs(x[i]));
    }
  });
  return { diff, scale };
}

/** Head convs: the layer before each [yolo]. */
function headIndices(cfg: DarknetCfg): Set<number> {
  return new Set(cfg.layers.filter((l) => l.type === 'yolo').map((l) => l.index - 1));
}

/**
 * Zero gamma and beta of every channel c with c % 5 == 1 in the plain BN convs (not heads, not
 * depthwise), so that those channels emit act(0) whatever their input. Returns how many.
 */
function killChannels(cfg: DarknetCfg, tensors: TensorMap): number {
  const heads = headIndices(cfg);
  let n = 0;
  for (const l of cfg.layers) {
    if (l.type !== 'convolutional' || !l.batchNormalize || l.groups !== 1 || heads.has(l.index)) continue;
    const gamma = tensors.get(darknetTensorName(l.index, 'scales'))?.data as Float32Array;
    const beta = tensors.get(darknetTensorName(l.index, 'biases'))?.data as Float32Array;
    for (let c = 1; c < l.filters; c += 5) {
      gamma[c] = 0;
      beta[c] = 0;
      n++;
    }
  }
  return n;
}

const ZOO: [string, string, string, number][] = [
  ['yolov3-tiny', 'yolov3-tiny.cfg', 'yolov3-tiny_random_seed1234.weights', 160],
  ['yolov4-tiny', 'yolov4-tiny.cfg', 'yolov4-tiny_random_seed1234.weights', 160],
  ['yolo-fastest-1.1', 'yolo-fastest-1.1.cfg', 'yolo-fastest-1.1.weights', 160],
];

describeFixtures('darknet/weights', 'pruning channels with gamma = beta = 0 leaves the outputs unchanged', () => {
  for (const [name, cfgFile, weightsFile, size] of ZOO) {
    test(`${name}: pruned outputs equal the unpruned ones (1e-4 of the output scale)`, () => {
      const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', cfgFile), 'utf8');
      const cfg = parseDarknetCfg(cfgText);
      const tensors = cloneTensors(readDarknetWeights(fs.readFileSync(fixturePath('darknet', 'weights', weightsFile)), cfg).tensors);
      const killed = killChannels(cfg, tensors);
      const result = pruneDarknet(cfgText, tensors, { threshold: 1e-12 });
      expect(result.report.prunedGroups).toBeGreaterThan(killed / 4);
      expect(result.report.params.after).toBeLessThan(result.report.params.before);
      expect(result.report.flops.after).toBeLessThan(result.report.flops.before);
      const before = heads(cfgText, tensors, size);
      const after = heads(result.cfgText, result.tensors, size);
      const { diff, scale } = maxAbsDiff(before, after);
      expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    });
  }

  test('yolo-fastest-1.1: a pruned input channel of a depthwise conv prunes that depthwise channel', () => {
    const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1.cfg'), 'utf8');
    const cfg = parseDarknetCfg(cfgText);
    const tensors = cloneTensors(readDarknetWeights(fs.readFileSync(fixturePath('darknet', 'weights', 'yolo-fastest-1.1.weights')), cfg).tensors);
    killChannels(cfg, tensors);
    const result = pruneDarknet(cfgText, tensors, { threshold: 1e-12 });
    let depthwisePruned = 0;
    for (const l of result.cfg.layers) {
      if (l.type !== 'convolutional' || l.groups === 1) continue;
      const orig = cfg.layers[l.index];
      if (orig.type !== 'convolutional') throw new Error('layer kinds changed');
      expect(l.groups).toBe(l.filters); // still depthwise
      if (l.filters < orig.filters) depthwisePruned++;
    }
    expect(depthwisePruned).toBeGreaterThan(0);
    // heads keep their filters
    for (const h of headIndices(cfg)) {
      const a = cfg.layers[h];
      const b = result.cfg.layers[h];
      expect(a.type === 'convolutional' && b.type === 'convolutional' && a.filters === b.filters).toBe(true);
    }
  });

  test('yolov4-tiny: route groups stay consistent (equal kept channels per group)', () => {
    const cfgText = fs.readFileSync(fixturePath('darknet', 'weights', 'yolov4-tiny.cfg'), 'utf8');
    const cfg = parseDarknetCfg(cfgText);
    const tensors = cloneTensors(readDarknetWeights(fs.readFileSync(fixturePath('darknet', 'weights', 'yolov4-tiny_random_seed1234.weights')), cfg).tensors);
    const plan = planPruning(cfg, tensors, { ratio: 0.5 });
    for (const l of cfg.layers) {
      if (l.type !== 'route' || l.groups === 1) continue;
      for (const r of l.layers) {
        const keep = plan.keep[r];
        const size = keep.length / l.groups;
        const kept = Array.from({ length: l.groups }, (_, g) => keep.subarray(g * size, (g + 1) * size).reduce((s, k) => s + k, 0));
        expect(new Set(kept).size).toBe(1);
      }
    }
    const result = pruneDarknet(cfgText, tensors, { ratio: 0.5 });
    expect(result.report.params.after).toBeLessThan(0.6 * result.report.params.before);
    // it still builds and runs
    expect(heads(result.cfgText, result.tensors, 96).length).toBe(2);
  });
});

describe('pruning small cfgs', () => {
  test('folding act(beta) is exact when every reader is 1x1 (through maxpool, shortcut, upsample, route, route groups)', () => {
    const tensors = randomDarknetTensors(LINEAR_PATHS_CFG);
    const set = (layer: number, c: number, beta: number) => {
      (tensors.get(darknetTensorName(layer, 'scales'))?.data as Float32Array)[c] = 0;
      (tensors.get(darknetTensorName(layer, 'biases'))?.data as Float32Array)[c] = beta;
    };
    set(0, 1, 0.7);
    set(0, 5, -0.3);
    set(2, 2, 0.4); // joined by the shortcut with layer 3's channel 2
    set(3, 2, -0.2);
    set(7, 3, 0.5); // group 0 of the grouped route
    set(7, 9, -0.6); // group 1, read by the head
    const result = pruneDarknet(LINEAR_PATHS_CFG, tensors, { threshold: 1e-9 });
    expect(result.report.prunedGroups).toBe(5);
    const filters = result.cfg.layers.map((l) => (l.type === 'convolutional' ? l.filters : -1));
    expect(filters).toEqual([6, -1, 7, 7, -1, -1, -1, 14, -1, 18, -1]);
    const { diff, scale } = maxAbsDiff(heads(LINEAR_PATHS_CFG, tensors, 32), heads(result.cfgText, result.tensors, 32));
    expect(scale).toBeGreaterThan(0.1);
    expect(diff).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
  });

  test('with 3x3 readers (zero padding) the folding is approximate: far closer than dropping act(beta)', () => {
    const tensors = randomDarknetTensors(YOLOV3_LIKE_CFG);
    const dropped = cloneTensors(tensors);
    const rng = mulberry32(11);
    for (const layer of [0, 16]) {
      for (let c = 0; c < 8; c += 3) {
        (tensors.get(darknetTensorName(layer, 'scales'))?.data as Float32Array)[c] = 0;
        (tensors.get(darknetTensorName(layer, 'biases'))?.data as Float32Array)[c] = rng() - 0.5;
        (dropped.get(darknetTensorName(layer, 'scales'))?.data as Float32Array)[c] = 0;
        (dropped.get(darknetTensorName(layer, 'biases'))?.data as Float32Array)[c] = 0;
      }
    }
    const result = pruneDarknet(YOLOV3_LIKE_CFG, tensors, { threshold: 1e-9 });
    expect(result.report.prunedGroups).toBe(6);
    const reference = heads(YOLOV3_LIKE_CFG, tensors, 64);
    const meanDiff = (a: Float32Array[], b: Float32Array[]) => {
      let s = 0;
      let n = 0;
      a.forEach((x, k) => x.forEach((v, i) => { s += Math.abs(v - b[k][i]); n++; }));
      return s / n;
    };
    const folded = meanDiff(reference, heads(result.cfgText, result.tensors, 64));
    const notFolded = meanDiff(reference, heads(YOLOV3_LIKE_CFG, dropped, 64));
    expect(folded).toBeGreaterThan(0); // the border differs
    expect(folded).toBeLessThan(0.2 * notFolded);
  });

  test('yolov3-like cfg with shortcuts: shortcut mode prunes joined channels together (exact), normal mode keeps them', () => {
    const tensors = randomDarknetTensors(YOLOV3_LIKE_CFG);
    const zero = (layer: number, c: number) => {
      (tensors.get(darknetTensorName(layer, 'scales'))?.data as Float32Array)[c] = 0;
      (tensors.get(darknetTensorName(layer, 'biases'))?.data as Float32Array)[c] = 0;
    };
    // channel 4 of the first residual stream: layers 1, 3, 6 (joined by shortcuts 4 and 7)
    for (const layer of [1, 3, 6]) zero(layer, 4);
    // channel 5 of layer 1 and 3 only: layer 6 keeps it alive, so it must stay
    for (const layer of [1, 3]) zero(layer, 5);
    zero(2, 0); // a plain channel
    const shortcut = pruneDarknet(YOLOV3_LIKE_CFG, tensors, { threshold: 1e-9, mode: 'shortcut' });
    expect(shortcut.report.prunedGroups).toBe(2);
    const f = (r: typeof shortcut, i: number) => {
      const l = r.cfg.layers[i];
      return l.type === 'convolutional' ? l.filters : -1;
    };
    expect([1, 2, 3, 6].map((i) => f(shortcut, i))).toEqual([15, 7, 15, 15]);
    const { diff, scale } = maxAbsDiff(heads(YOLOV3_LIKE_CFG, tensors, 64), heads(shortcut.cfgText, shortcut.tensors, 64));
    expect(diff).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    const normal = pruneDarknet(YOLOV3_LIKE_CFG, tensors, { threshold: 1e-9, mode: 'normal' });
    expect([1, 2, 3, 6].map((i) => f(normal, i))).toEqual([16, 7, 16, 16]);
    // ratio: never prunes a head, keeps at least one channel per conv, writes a loadable cfg
    const heavy = pruneDarknet(YOLOV3_LIKE_CFG, tensors, { ratio: 0.95 });
    expect(f(heavy, 13)).toBe(18);
    expect(f(heavy, 20)).toBe(18);
    for (const l of heavy.cfg.layers) if (l.type === 'convolutional') expect(l.filters).toBeGreaterThan(0);
    expect(heads(heavy.cfgText, heavy.tensors, 64).length).toBe(2);
    expect(formatPruneReport(heavy.report)).toMatch(/params +0\.\d+M -> 0\.\d+M \(-\d+\.\d%\)/);
  });

  test('the .weights writer round-trips through the reader', () => {
    const cfg = parseDarknetCfg(YOLOV3_LIKE_CFG);
    const tensors = randomDarknetTensors(YOLOV3_LIKE_CFG);
    const back = readDarknetWeights(writeDarknetWeights(cfg, tensors), cfg).tensors;
    expect([...back.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [k, v] of tensors) expect(Array.from(back.get(k)?.data as Float32Array)).toEqual(Array.from(v.data as Float32Array));
  });

  test('prune(detector): reads the trained weights, returns a loadable detector, no tensor leak; bad options are clear errors', () => {
    const cfg = parseDarknetCfg(YOLOV3_LIKE_CFG);
    const det = loadDarknet(YOLOV3_LIKE_CFG, writeDarknetWeights(cfg, randomDarknetTensors(YOLOV3_LIKE_CFG)));
    try {
      const back = getDarknetWeights(det.model, cfg);
      expect(back.get('layer13/weights')?.shape).toEqual([1, 1, 16, 18]);
      expectFlatTensors(() => {
        const r = prune(det, { ratio: 0.3 });
        expect(r.detector.spec.classNames).toEqual(det.spec.classNames);
        expect(r.report.params.after).toBeLessThan(r.report.params.before);
        const again = loadDarknet(r.cfgText, r.weights);
        again.dispose();
        r.detector.dispose();
      }, 2);
      expect(() => prune(det, {})).toThrow(/exactly one of ratio or threshold/);
      expect(() => prune(det, { ratio: 1 })).toThrow(/ratio must be a number in \[0, 1\)/);
      expect(() => prune(det, { threshold: -1 })).toThrow(/threshold must be/);
      expect(() => prune(det, { ratio: 0.5, cfg: LINEAR_PATHS_CFG })).toThrow(/getDarknetWeights/);
    } finally {
      det.dispose();
    }
  });
});

describe('pruning the YOLOv3 and YOLOv4 cfgs at 1/8 width (shortcut chains, SPP routes; planning and rewriting, no model built)', () => {
  for (const name of ['yolov3.cfg', 'yolov4.cfg']) {
    test(`${name}: a ratio gives a valid cfg whose shortcut-joined channels agree`, () => {
      // an eighth of the width (same topology) keeps the test fast; the heads keep their 255 filters
      const cfgText = fs
        .readFileSync(path.join(__dirname, '..', 'weights', 'cfg', name), 'utf8')
        .replace(/^filters=(\d+)/gm, (m, n) => (n === '255' ? m : `filters=${Number(n) / 8}`));
      const cfg = parseDarknetCfg(cfgText);
      // zero kernels (cheap) and seeded gammas: only the plan and the rewriting are checked here
      const rng = mulberry32(5);
      const tensors: TensorMap = new Map();
      for (const info of darknetConvWeightsLayout(cfg)) {
        const l = info.layer;
        const put = (part: Parameters<typeof darknetTensorName>[1], shape: number[], data: Float32Array) =>
          tensors.set(darknetTensorName(l.index, part), { shape, dtype: 'float32', data });
        put('biases', [l.filters], new Float32Array(l.filters));
        if (l.batchNormalize) {
          put('scales', [l.filters], Float32Array.from({ length: l.filters }, () => rng()));
          put('rolling_mean', [l.filters], new Float32Array(l.filters));
          put('rolling_variance', [l.filters], new Float32Array(l.filters).fill(1));
        }
        put('weights', info.kernelShape, new Float32Array(info.kernelShape.reduce((a, b) => a * b, 1)));
      }
      const result = pruneDarknet(cfgText, tensors, { ratio: 0.5 });
      const after = darknetCost(result.cfg); // validates every route / shortcut / yolo shape
      expect(after.params).toBeLessThan(0.6 * darknetCost(cfg).params);
      expect(result.report.prunedGroups).toBe(Math.floor(0.5 * result.report.candidates));
      for (const l of result.cfg.layers) {
        if (l.type === 'yolo') {
          const head = result.cfg.layers[l.index - 1];
          expect(head.type === 'convolutional' && head.filters === 255).toBe(true);
        }
      }
      const normal = pruneDarknet(cfgText, tensors, { ratio: 0.5, mode: 'normal' });
      expect(normal.report.candidates).toBeLessThan(result.report.candidates);
      expect(() => darknetCost(normal.cfg)).not.toThrow();
    });
  }
});
