/**
 * Parity of EfficientDet-D0 with zylo117's PyTorch implementation on the fixture's deterministic
 * random weights (zip .pth) and test image: backbone taps, first BiFPN layer, final P3-P7,
 * regression, (subsampled) classification, anchors.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath, readF32, readJson, chwToHwc, maxAbsDiff } from '../helpers/fixtures';
import { efficientDetGraph, EfficientDetGraph } from '../../src/models/efficientDet';
import { efficientDetAnchors } from '../../src/models/efficientDetAnchors';
import { assignEfficientDetStateDict } from '../../src/weights/keymaps/efficientDet';
import { readPytorchStateDict } from '../../src/weights/readPytorchStateDict';
import { AnchorDeltasHeadSpec } from '../../src/spec';

const DIR = 'efficientdet';
const ABS_TOL = 1e-3;

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
  const report: Record<string, number> = {};
  const absReport: Record<string, [number, number]> = {};

  beforeAll(() => {
    g = efficientDetGraph({ phi: 0 });
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
    tf.dispose([x, ...res]);
  });

  afterAll(() => {
    g?.model.dispose();
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
  });

  it('the fixture meta is the D0 input geometry', () => {
    const meta = readJson(DIR, 'd0', 'img', 'meta.json');
    expect(meta.input_size).toBe(g.spec.input.size[0]);
  });
});
