/**
 * Parity of EfficientDet-D0 with zylo117's PyTorch implementation on the fixture's deterministic
 * random weights (zip .pth) and test image: backbone taps, first BiFPN layer, final P3-P7,
 * regression, (subsampled) classification, anchors.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';
import { describeFixtures, fixturePath, readF32, readJson, chwToHwc, maxAbsDiff } from '../../helpers/fixtures';
import { efficientDetGraph, EfficientDetGraph } from '../../../src/models/efficientDet/efficientDet';
import { gridAnchors as efficientDetAnchors } from '../../../src/decode/anchors';
import { assignEfficientDetStateDict } from '../../../src/models/efficientDet/fromStateDict';
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { AnchorDeltasHeadSpec } from '../../../src/spec';
import { Detector, Detection } from '../../../src/detector';
import { generateAnchors } from '../../../src/decode/anchors';

interface RefDetection {
  box: [number, number, number, number];
  score: number;
  class: number;
}

/**
 * Greedy match of reference detections to ours: same class, every box coordinate within `px`.
 * Returns the number matched and the worst coordinate / score difference among matches.
 */
function matchDetections(ours: Detection[], ref: RefDetection[], px: number): { matched: number; maxBox: number; maxScore: number } {
  const used = new Set<number>();
  let matched = 0;
  let maxBox = 0;
  let maxScore = 0;
  for (const r of ref) {
    let best = -1;
    let bestD = Infinity;
    ours.forEach((o, i) => {
      if (used.has(i) || o.classId !== r.class) return;
      const d = Math.max(...o.box.map((v, k) => Math.abs(v - r.box[k])));
      if (d <= px && d < bestD) {
        best = i;
        bestD = d;
      }
    });
    if (best >= 0) {
      used.add(best);
      matched++;
      maxBox = Math.max(maxBox, bestD);
      maxScore = Math.max(maxScore, Math.abs(ours[best].score - r.score));
    }
  }
  return { matched, maxBox, maxScore };
}

const DIR = 'efficientdet';
// The contract is 1e-3; the port reaches ~2e-5 (see spatialMean), so guard at 1e-4.
const ABS_TOL = 1e-4;

/** Max of |a-b| / max(1, |b|): absolute error for values <= 1, relative above. */
function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

describeFixtures(DIR, 'EfficientDet-D0 parity with zylo117 (random weights, test/img.png)', () => {
  let g: EfficientDetGraph;
  let outs: Map<string, Float32Array>;
  let raw: tf.Tensor[];
  const report: Record<string, number> = {};
  const absReport: Record<string, [number, number]> = {};

  beforeAll(() => {
    g = efficientDetGraph({ phi: 0, init: 'zeros' });
    const sd = readPytorchStateDict(fs.readFileSync(fixturePath(DIR, 'efficientdet-d0-random.pth')));
    assignEfficientDetStateDict(g.model, sd, 0);
    const named: [string, tf.SymbolicTensor][] = [
      ['backbone_p3', g.backbone[0]], ['backbone_p4', g.backbone[1]], ['backbone_p5', g.backbone[2]],
      ...g.bifpn[0].map((t, i) => [`bifpn0_P${i + 3}`, t] as [string, tf.SymbolicTensor]),
      ...g.bifpn[g.bifpn.length - 1].map((t, i) => [`features_P${i + 3}`, t] as [string, tf.SymbolicTensor]),
      ['regression', g.regression], ['classification', g.classification],
    ];
    const probe = tf.model({ inputs: g.input, outputs: named.map(([, t]) => t) });
    const x = tf.tensor4d(readF32(DIR, 'd0', 'img', 'input_nhwc.f32'), [1, 512, 512, 3]);
    const res = probe.predict(x) as tf.Tensor[];
    outs = new Map(named.map(([n], i) => [n, res[i].dataSync() as Float32Array]));
    const nOut = named.length;
    raw = [res[nOut - 2], res[nOut - 1]];
    tf.dispose([x, ...res.slice(0, nOut - 2)]);
  });

  afterAll(() => {
    tf.dispose(raw);
    if (g) disposeLayersModel(g.model);
    // eslint-disable-next-line no-console
    console.log(
      `EfficientDet-D0 parity, max |err| / max(1, |ref|): ${JSON.stringify(report)}\n` +
        `[max abs err, max |ref|]: ${JSON.stringify(absReport)}`,
    );
  });

  const nchw: [string, number, number][] = [
    ['backbone_p3', 40, 64], ['backbone_p4', 112, 32], ['backbone_p5', 320, 16],
    ...[0, 1, 2, 3, 4].map((i) => [`bifpn0_P${i + 3}`, 64, 64 >> i] as [string, number, number]),
    ...[0, 1, 2, 3, 4].map((i) => [`features_P${i + 3}`, 64, 64 >> i] as [string, number, number]),
  ];
  it.each(nchw)('%s matches (NCHW fixture -> NHWC)', (name, c, hw) => {
    const ref = chwToHwc(readF32(DIR, 'd0', 'img', `${name}.f32`), c, hw, hw);
    const err = maxScaledDiff(outs.get(name)!, ref);
    report[name] = err;
    absReport[name] = [maxAbsDiff(outs.get(name)!, ref), ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0)];
    expect(err).toBeLessThan(ABS_TOL);
  });

  it('regression [1, 49104, 4] matches', () => {
    const ref = readF32(DIR, 'd0', 'img', 'regression.f32');
    const got = outs.get('regression')!;
    expect(got.length).toBe(49104 * 4);
    report.regression = maxScaledDiff(got, ref);
    expect(report.regression).toBeLessThan(ABS_TOL);
  });

  it('classification matches on the fixture rows (every 4th anchor)', () => {
    const ref = readF32(DIR, 'd0', 'img', 'classification.f32');
    const full = outs.get('classification')!;
    expect(full.length).toBe(49104 * 90);
    const sub = new Float32Array(ref.length);
    for (let r = 0; r < ref.length / 90; r++) sub.set(full.subarray(r * 4 * 90, r * 4 * 90 + 90), r * 90);
    report.classification = maxAbsDiff(sub, ref);
    expect(report.classification).toBeLessThan(ABS_TOL);
  });

  it('anchors match exactly', () => {
    const ref = readF32(DIR, 'd0', 'img', 'anchors.f32');
    const head = g.spec.heads[0] as AnchorDeltasHeadSpec;
    const got = efficientDetAnchors({ ...head, inputSize: g.spec.input.size });
    expect(got.length).toBe(ref.length);
    report.anchors = maxAbsDiff(got, ref);
    expect(report.anchors).toBe(0);
    // the shared decode's own generator agrees
    expect(maxAbsDiff(generateAnchors(head, g.spec.input.size), ref)).toBe(0);
  });

  // Upstream postprocess on the full network outputs (the classification fixture is subsampled,
  // so the network's own, parity-checked outputs feed the shared decode + NMS).
  it.each([['0.5'], ['0.2']])('postprocess reproduces detections_img_t%s.json', (t) => {
    const ref = readJson(DIR, 'd0', `detections_img_t${t}.json`);
    const meta = readJson(DIR, 'd0', 'img', 'meta.json');
    const det = new Detector(g.model, g.spec);
    const ours = det.postprocess(raw, { imageSize: [meta.old_h, meta.old_w], scoreThreshold: Number(t), iouThreshold: ref.iou_threshold });
    const refDets = ref.detections as RefDetection[];
    const m = matchDetections(ours, refDets, 1);
    report[`dets_t${t}`] = ours.length;
    report[`dets_t${t}_ref`] = refDets.length;
    report[`dets_t${t}_matched`] = m.matched;
    report[`dets_t${t}_maxBoxPx`] = m.maxBox;
    report[`dets_t${t}_maxScore`] = m.maxScore;
    expect(Math.abs(ours.length - refDets.length)).toBeLessThanOrEqual(Math.floor(refDets.length * 0.01));
    expect(refDets.length - m.matched).toBeLessThanOrEqual(Math.floor(refDets.length * 0.01));
    expect(m.maxBox).toBeLessThanOrEqual(1);
    // classes in score order agree with upstream's (ties absent per the manifest)
    const n = Math.min(ours.length, refDets.length, 10);
    expect(ours.slice(0, n).map((d) => d.classId)).toEqual(refDets.slice(0, n).map((d) => d.class));
  });

  it('the fixture meta is the D0 input geometry', () => {
    const meta = readJson(DIR, 'd0', 'img', 'meta.json');
    expect(meta.input_size).toBe(g.spec.input.size[0]);
  });
});
