import { run, parseInputSize } from '../../../src/cli/commands/anchors';
import { kmeansAnchors } from '../../../src/train/kmeansAnchors';
import type { CocoGroundTruth } from '../../../src/eval/cocoFormat';
import { describeFixtures, fixturePath, readJson } from '../../helpers/fixtures';
import { captureCli } from '../../helpers/captureCli';

const capture = (argv: string[]) => captureCli(run, argv);

describeFixtures('eval', 'yolo-tfjs anchors on fixtures/eval', () => {
  const gt = readJson<CocoGroundTruth>('eval', 'gt.json');
  const size = new Map(gt.images.map((im) => [im.id, [im.width!, im.height!]]));
  // reference: the gt.json boxes (no crowd) stretched to 416x320
  // (in image order, then annotation order: k-means++ sampling depends on the order)
  const boxes = gt.images.flatMap((im) =>
    gt.annotations
      .filter((a) => a.image_id === im.id && !a.iscrowd)
      .map((a) => [(a.bbox[2] / size.get(a.image_id)![0]) * 416, (a.bbox[3] / size.get(a.image_id)![1]) * 320] as [number, number]),
  );
  const ref = kmeansAnchors(boxes, 6, { seed: 3 });

  for (const [format, dataset] of [['yolo', fixturePath('eval', 'yolo')], ['voc', fixturePath('eval', 'voc')], ['coco', fixturePath('eval', 'gt.json')]]) {
    it(`--format ${format} --json: the k-means of the stretched gt boxes (crowd/difficult left out)`, async () => {
      const { code, out } = await capture(['--dataset', dataset, '--format', format, '--k', '6', '--size', '416x320', '--seed', '3', '--json']);
      expect(code).toBe(0);
      const j = JSON.parse(out);
      expect(j.numBoxes).toBe(116);
      expect(j.size).toEqual([416, 320]);
      expect(j.anchors).toHaveLength(6);
      j.anchors.forEach((a: number[], i: number) => {
        expect(Math.abs(a[0] - ref.anchors[i][0])).toBeLessThan(1e-3);
        expect(Math.abs(a[1] - ref.anchors[i][1])).toBeLessThan(1e-3);
      });
      expect(Math.abs(j.avgIoU - ref.avgIoU)).toBeLessThan(1e-5);
    });
  }

  it('prints "w,h, w,h, ..." and the mean IoU', async () => {
    const { code, out } = await capture(['-d', fixturePath('eval', 'yolo'), '--k', '3']);
    expect(code).toBe(0);
    expect(out).toMatch(/^anchors = \d+,\d+, \d+,\d+, \d+,\d+$/m);
    expect(out).toMatch(/^mean IoU = 0\.\d{4}$/m);
  });

  it('reports usage errors', async () => {
    await expect(capture([])).rejects.toThrow(/--dataset is required/);
    await expect(capture(['-d', fixturePath('eval', 'yolo'), '--format', 'xml'])).rejects.toThrow(/--format must be yolo, voc or coco/);
    await expect(capture(['-d', fixturePath('eval', 'yolo'), '--k', '500'])).rejects.toThrow(/116 usable boxes, fewer than k = 500/);
    await expect(capture(['-d', fixturePath('eval', 'yolo'), '--k', '2.5'])).rejects.toThrow(/--k must be a positive integer/);
  });
});

describe('parseInputSize', () => {
  it('accepts N and WxH', () => {
    expect(parseInputSize('416')).toEqual([416, 416]);
    expect(parseInputSize('416x320')).toEqual([416, 320]);
    expect(() => parseInputSize('big')).toThrow(/--size must be N or WxH/);
  });
});
