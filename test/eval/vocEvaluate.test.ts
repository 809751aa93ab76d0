import { vocAveragePrecision, vocEvaluate } from '../../src/eval/vocEvaluate';
import { formatApTable } from '../../src/eval/formatApTable';
import type { CocoDetection, CocoGroundTruth } from '../../src/eval/cocoFormat';
import { describeFixtures, readJson } from '../helpers/fixtures';

describeFixtures('eval', 'vocEvaluate vs chainercv 0.13.1 / podm 0.4 (fixtures/eval/expected_voc.json)', () => {
  const gt = readJson<CocoGroundTruth>('eval', 'gt.json');
  const dets = readJson<CocoDetection[]>('eval', 'dets.json');
  const expected = readJson('eval', 'expected_voc.json');
  const cases = [
    // crowd_as_difficult = chainercv (difficult = iscrowd, +1 IoU); crowd_excluded = podm (crowd removed, continuous IoU)
    { variant: 'crowd_as_difficult', crowdAsDifficult: true, conventions: ['voc', 'continuous'] },
    { variant: 'crowd_excluded', crowdAsDifficult: false, conventions: ['continuous', 'voc'] },
  ] as const;
  for (const c of cases) {
    for (const points of ['all_point', 'eleven_point'] as const) {
      for (const iouConvention of c.conventions) {
        it(`${c.variant} ${points} (${iouConvention} IoU): mAP and per-class AP to 1e-6`, () => {
          const r = vocEvaluate(gt, dets, { crowdAsDifficult: c.crowdAsDifficult, elevenPoint: points === 'eleven_point', iouConvention });
          const want = expected[c.variant][points];
          expect(Math.abs(r.mAP - want.mAP)).toBeLessThan(1e-6);
          for (const pc of r.perClass) expect(Math.abs((pc.AP as number) - want.per_class[pc.name])).toBeLessThan(1e-6);
        });
      }
    }
  }

  it('counts npos / tp / fp as the references do', () => {
    const dif = vocEvaluate(gt, dets, { crowdAsDifficult: true });
    for (const pc of dif.perClass) {
      expect(pc.npos).toBe(expected.crowd_as_difficult.npos_per_class[pc.name]);
      expect(pc.tp).toBe(expected.crowd_as_difficult.tp_per_class[pc.name]);
    }
    const exc = vocEvaluate(gt, dets, { crowdAsDifficult: false });
    for (const pc of exc.perClass) {
      const want = expected.crowd_excluded.counts_per_class[pc.name];
      expect([pc.npos, pc.numDets, pc.tp, pc.fp]).toEqual([want.npos, want.num_detections, want.tp, want.fp]);
    }
  });
});

describe('vocEvaluate: hand-computed cases', () => {
  const gt: CocoGroundTruth = {
    images: [{ id: 1 }, { id: 2 }],
    categories: [{ id: 5, name: 'x' }, { id: 6, name: 'y' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 5, bbox: [10, 10, 20, 20] },
      { id: 2, image_id: 1, category_id: 5, bbox: [50, 50, 20, 20], iscrowd: 1 },
      { id: 3, image_id: 2, category_id: 5, bbox: [10, 10, 20, 20] },
      { id: 4, image_id: 2, category_id: 6, bbox: [0, 0, 5, 5], difficult: 1 },
    ],
  };
  const det = (image_id: number, bbox: number[], score: number, category_id = 5): CocoDetection => ({ image_id, category_id, bbox, score });

  it('difficult (crowd) matches are neither TP nor FP; duplicates are FP', () => {
    const dets = [
      det(1, [50, 50, 20, 20], 0.99), // on the crowd box: ignored
      det(1, [10, 10, 20, 20], 0.9), // TP
      det(1, [11, 10, 20, 20], 0.8), // duplicate of the matched gt: FP
      det(2, [10, 10, 20, 20], 0.7), // TP
    ];
    const r = vocEvaluate(gt, dets);
    const x = r.perClass[0];
    expect([x.npos, x.tp, x.fp]).toEqual([2, 2, 1]);
    // order: ignored, TP, FP, TP -> prec [nan->0, 1, 0.5, 2/3], rec [0, .5, .5, 1]
    // envelope: recall .5 at precision 1, recall 1 at 2/3 -> AP = .5*1 + .5*2/3
    expect(x.AP).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    // class y has only a difficult box: no AP, left out of the mean
    expect(r.perClass[1].AP).toBeNull();
    expect(r.mAP).toBeCloseTo(x.AP as number, 12);
    // crowd left out: the first detection becomes an FP
    const ex = vocEvaluate(gt, dets, { crowdAsDifficult: false }).perClass[0];
    expect([ex.tp, ex.fp]).toEqual([2, 2]);
    // prec [0, .5, 1/3, .5], rec [0, .5, .5, 1] -> AP = .5*.5 + .5*.5
    expect(ex.AP).toBeCloseTo(0.5, 12);
  });

  it('the +1 VOC IoU convention vs the continuous one decides a borderline match', () => {
    // gt bbox [0,0,9,9], det [0,0,9,19]: continuous IoU 81/171 = 0.47 (no match);
    // +1 convention: 10x10 vs 10x20 -> 100/200 = 0.5 exactly, a match since chainercv uses >=.
    const g: CocoGroundTruth = { images: [{ id: 1 }], categories: [{ id: 1, name: 'a' }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 9, 9] }] };
    const d = [det(1, [0, 0, 9, 19], 0.9, 1)];
    expect(vocEvaluate(g, d, { iouConvention: 'voc' }).perClass[0].tp).toBe(1);
    expect(vocEvaluate(g, d, { iouConvention: 'continuous' }).perClass[0].tp).toBe(0);
  });

  it('11-point interpolation by hand', () => {
    // prec [1, .5, 2/3], rec [1/3, 1/3, 2/3]: t = 0..0.3 -> 1 (4 points), 0.4..0.6 -> 2/3 (3), 0.7..1 -> 0 (4)
    expect(vocAveragePrecision([1, 0.5, 2 / 3], [1 / 3, 1 / 3, 2 / 3], true)).toBeCloseTo((4 * 1 + 3 * (2 / 3)) / 11, 12);
    // all-point: 1/3 * 1 + 1/3 * 2/3
    expect(vocAveragePrecision([1, 0.5, 2 / 3], [1 / 3, 1 / 3, 2 / 3])).toBeCloseTo(1 / 3 + 2 / 9, 12);
  });

  it('rejects a bad threshold, a bad convention and foreign image ids', () => {
    expect(() => vocEvaluate(gt, [], { iouThreshold: 0 })).toThrow(/iouThreshold must be in \(0, 1\]/);
    expect(() => vocEvaluate(gt, [], { iouConvention: 'pixel' as 'voc' })).toThrow(/iouConvention/);
    expect(() => vocEvaluate(gt, [det(9, [0, 0, 1, 1], 1)])).toThrow(/image_id 9 is not in the ground truth/);
  });
});

describe('formatApTable', () => {
  it('prints one aligned row per class, "-" for classes without data', () => {
    const table = formatApTable([
      { categoryId: 1, name: 'person', AP: 0.88637, npos: 37, numDets: 158, tp: 35, fp: 123 },
      { categoryId: 2, name: 'kite', AP: null, npos: 0, numDets: 0, tp: 0, fp: 0 },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^class\s+id\s+AP\s+npos\s+numDets\s+tp\s+fp$/);
    expect(lines[2]).toMatch(/^person\s+1\s+0\.8864\s+37\s+158\s+35\s+123$/);
    expect(lines[3]).toMatch(/^kite\s+2\s+-\s+0/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(() => formatApTable(null as never)).toThrow(/must be an array/);
  });
});
