import { cocoEvaluate } from '../../src/eval/cocoEvaluate';
import type { CocoDetection, CocoGroundTruth } from '../../src/eval/cocoFormat';
import { describeFixtures, maxAbsDiff, readJson } from '../helpers/fixtures';

const STAT_KEYS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;
const CLASS_KEYS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR100'] as const;

const flat = (a: unknown): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a as number]);

describeFixtures('eval', 'cocoEvaluate vs pycocotools 2.0.11 (fixtures/eval)', () => {
  const gt = readJson<CocoGroundTruth>('eval', 'gt.json');
  const dets = readJson<CocoDetection[]>('eval', 'dets.json');
  const expected = readJson('eval', 'expected_coco.json');
  const arrays = readJson('eval', 'coco_eval_arrays.json');
  const r = cocoEvaluate(gt, dets, { keepArrays: true });

  it('reproduces the 12 COCOeval stats to 1e-6', () => {
    const got = STAT_KEYS.map((k) => r[k]);
    const want = STAT_KEYS.map((k) => expected.stats[k] as number);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
    expect(maxAbsDiff(r.stats, expected.stats_list)).toBeLessThan(1e-6);
  });

  it('reproduces every per-category number to 1e-6', () => {
    expect(r.perClass.map((c) => c.categoryId)).toEqual(expected.per_category.map((c: any) => c.category_id));
    for (const want of expected.per_category) {
      const got = r.perClass.find((c) => c.categoryId === want.category_id)!;
      expect(got.name).toBe(want.name);
      expect(got.numGt).toBe(want.num_gt);
      expect(got.numDets).toBe(want.num_dets);
      for (const k of CLASS_KEYS) {
        if (want[k] === null) expect(got[k]).toBeNull();
        else expect(Math.abs((got[k] as number) - want[k])).toBeLessThan(1e-6);
      }
    }
  });

  it('reproduces the raw precision [T,R,K,A,M] and recall [T,K,A,M] arrays', () => {
    expect(r.arrays!.precisionShape).toEqual(arrays.shape_precision);
    expect(r.arrays!.recallShape).toEqual(arrays.shape_recall);
    expect(r.arrays!.catIds).toEqual(arrays.catIds);
    expect(maxAbsDiff(r.arrays!.precision, flat(arrays.precision))).toBeLessThan(1e-12);
    expect(maxAbsDiff(r.arrays!.recall, flat(arrays.recall))).toBeLessThan(1e-12);
  });

  it('does not depend on the order of the results for this data (fixture robustness check)', () => {
    const rev = cocoEvaluate(gt, [...dets].reverse());
    expect(maxAbsDiff(rev.stats, r.stats)).toBeLessThan(1e-12);
  });
});

/** One 100x100 image, category 1. */
function smallGt(annotations: Partial<CocoGroundTruth['annotations'][number]>[]): CocoGroundTruth {
  return {
    images: [{ id: 1, width: 100, height: 100 }],
    categories: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }],
    annotations: annotations.map((a, i) => ({ id: i + 1, image_id: 1, category_id: 1, iscrowd: 0, bbox: [0, 0, 1, 1], ...a })) as CocoGroundTruth['annotations'],
  };
}

describe('cocoEvaluate: hand-computed cases', () => {
  const gtBox = [40, 40, 40, 40]; // area 1600: medium

  it('a perfect detection gives AP 1 and AR 1; a category without gt gives null / -1', () => {
    const r = cocoEvaluate(smallGt([{ bbox: gtBox, area: 1600 }]), [{ image_id: 1, category_id: 1, bbox: gtBox, score: 0.9 }]);
    expect(r.AP).toBeCloseTo(1, 12);
    expect(r.AR1).toBe(1);
    expect(r.APm).toBeCloseTo(1, 12);
    expect(r.APs).toBe(-1); // no small gt at all
    expect(r.APl).toBe(-1);
    expect(r.perClass[1].AP).toBeNull();
  });

  it('a higher-scored false positive halves the precision: AP = 0.5', () => {
    const r = cocoEvaluate(smallGt([{ bbox: gtBox, area: 1600 }]), [
      { image_id: 1, category_id: 1, bbox: [0, 0, 20, 20], score: 0.95 },
      { image_id: 1, category_id: 1, bbox: gtBox, score: 0.9 },
    ]);
    // rc = [0, 1], pr = [0, 0.5] -> monotone [0.5, 0.5] -> every recall point 0.5
    expect(r.AP).toBeCloseTo(0.5, 12);
    expect(r.AR100).toBe(1);
    expect(r.AR1).toBe(0); // the top-1 detection is the false positive
  });

  it('a detection inside a crowd region is ignored (IoU = intersection / detection area)', () => {
    const gt = smallGt([
      { bbox: gtBox, area: 1600 },
      { bbox: [0, 0, 30, 30], area: 900, iscrowd: 1 },
    ]);
    const dets = [
      { image_id: 1, category_id: 1, bbox: [5, 5, 10, 10], score: 0.95 }, // inside the crowd region
      { image_id: 1, category_id: 1, bbox: gtBox, score: 0.9 },
    ];
    expect(cocoEvaluate(gt, dets).AP).toBeCloseTo(1, 12);
    const noCrowd = smallGt([{ bbox: gtBox, area: 1600 }, { bbox: [0, 0, 30, 30], area: 900, iscrowd: 0 }]);
    expect(cocoEvaluate(noCrowd, dets).AP).toBeLessThan(1);
  });

  it('an unmatched detection outside the area range is ignored for that range', () => {
    const gt = smallGt([{ bbox: gtBox, area: 1600 }]);
    const dets = [
      { image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], score: 0.95 }, // small FP
      { image_id: 1, category_id: 1, bbox: gtBox, score: 0.9 },
    ];
    const r = cocoEvaluate(gt, dets);
    expect(r.AP).toBeCloseTo(0.5, 12);
    expect(r.APm).toBeCloseTo(1, 12);
  });

  it('keeps only the top maxDets detections per image and category', () => {
    const boxes = Array.from({ length: 5 }, (_, i) => ({ bbox: [i * 20, 0, 10, 10], area: 100 }));
    const gt = smallGt(boxes);
    const dets = boxes.map((b, i) => ({ image_id: 1, category_id: 1, bbox: b.bbox, score: 0.9 - i * 0.1 }));
    const r = cocoEvaluate(gt, dets);
    expect(r.AR1).toBeCloseTo(1 / 5, 12);
    expect(r.AR10).toBe(1);
  });

  it('rejects results for images that are not in the ground truth, and malformed input', () => {
    const gt = smallGt([{ bbox: gtBox }]);
    expect(() => cocoEvaluate(gt, [{ image_id: 7, category_id: 1, bbox: gtBox, score: 1 }])).toThrow(/image_id 7 is not in the ground truth/);
    expect(() => cocoEvaluate(gt, [{ image_id: 1, category_id: 1, bbox: [1, 2, 3], score: 1 }])).toThrow(/results\[0\] has a bad "bbox"/);
    expect(() => cocoEvaluate(gt, [{ image_id: 1, category_id: 1, bbox: gtBox, score: NaN }])).toThrow(/non-numeric "score"/);
    expect(() => cocoEvaluate({ images: [] } as unknown as CocoGroundTruth, [])).toThrow(/"annotations" must be an array/);
    const dup = smallGt([{ bbox: gtBox }, { bbox: gtBox }]);
    dup.annotations[1].id = 1;
    expect(() => cocoEvaluate(dup, [])).toThrow(/repeats annotation id 1/);
  });

  it('no detections at all: AP 0 where there is ground truth', () => {
    const r = cocoEvaluate(smallGt([{ bbox: gtBox, area: 1600 }]), []);
    expect(r.AP).toBe(0);
    expect(r.AR100).toBe(0);
  });
});
