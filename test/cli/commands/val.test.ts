/**
 * `yolo-tfjs val`: saved predictions scored against the fixtures' eval set (the numbers of
 * pycocotools and the VOC packages in expected_*.json), and a real detector run on a small
 * dataset whose labels are that detector's own boxes (so every class must score AP 1).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { classMapByName } from '../../../src/cli/commands/val';
import { describeFixtures, fixturePath, readJson } from '../../helpers/fixtures';
import { captureCli } from '../../helpers/captureCli';
import { loadDarknet } from '../../../src/models/darknet/loadDarknet';

const capture = (argv: string[]) => captureCli(main, argv);

describeFixtures('eval', 'yolo-tfjs val on saved predictions (fixtures/eval)', () => {
  const expectedCoco = readJson<{ stats_list: number[] }>('eval', 'expected_coco.json');
  const expectedVoc = readJson<{ crowd_excluded: Record<string, { mAP: number; per_class: Record<string, number> }> }>('eval', 'expected_voc.json');

  test('COCO ground truth + COCO results: the 12 stats of pycocotools', async () => {
    const r = await capture(['val', '--data', fixturePath('eval', 'gt.json'), '--predictions', fixturePath('eval', 'dets.json'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.format).toBe('coco');
    expect(j.coco.stats).toHaveLength(12);
    j.coco.stats.forEach((v: number, i: number) => expect(Math.abs(v - expectedCoco.stats_list[i])).toBeLessThan(1e-6));
  });

  test('YOLO folder + YOLO txt predictions: VOC mAP@0.5 (all-point and 11-point) and the per-class table', async () => {
    for (const [key, flags] of [['all_point', []], ['eleven_point', ['--eleven-point']]] as const) {
      const r = await capture(['val', '-d', fixturePath('eval', 'yolo'), '-p', fixturePath('eval', 'yolo', 'predictions'), '--json', ...flags]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.format).toBe('yolo');
      expect(j.detections).toBe(371);
      const want = expectedVoc.crowd_excluded[key];
      expect(Math.abs(j.voc.mAP - want.mAP)).toBeLessThan(1e-6);
      for (const c of j.voc.perClass) expect(Math.abs(c.AP - want.per_class[c.name])).toBeLessThan(1e-6);
    }
    const table = await capture(['val', '-d', fixturePath('eval', 'yolo'), '-p', fixturePath('eval', 'yolo', 'predictions')]);
    expect(table.out).toMatch(/Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = 0\.\d{3}/);
    expect(table.out).toMatch(new RegExp(`VOC mAP@0.5 \\(all-point\\) = ${expectedVoc.crowd_excluded.all_point.mAP.toFixed(4)}`));
    expect(table.out).toMatch(/^person\s+1\s/m);
  });

  test('VOC folder + devkit results are recognised by their layout', async () => {
    const r = await capture(['val', '-d', fixturePath('eval', 'voc'), '--split', 'test', '-p', fixturePath('eval', 'voc', 'results'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.format).toBe('voc');
    expect(j.detections).toBe(371);
  });

  test('usage errors are one clear line', async () => {
    await expect(capture(['val'])).rejects.toThrow(/--data is required/);
    await expect(capture(['val', '-d', '/nonexistent/x'])).rejects.toThrow(/does not exist/);
    await expect(capture(['val', '-d', fixturePath('eval', 'yolo'), '--format', 'xml'])).rejects.toThrow(/--format must be coco, voc, yolo/);
    await expect(capture(['val', '-d', fixturePath('eval', 'yolo'), '--iou', '5'])).rejects.toThrow(/--iou' must be a number > 0 and <= 1, got '5'/);
    await expect(capture(['val', '-d', fixturePath('eval', 'yolo'), '--batch', '0'])).rejects.toThrow(/--batch' must be a whole number from 1 to 256/);
    // no images on disk: only saved predictions can be scored
    await expect(capture(['val', '-d', fixturePath('eval', 'yolo')])).rejects.toThrow(/not found .*--predictions/);
  });
});

test('classMapByName maps by name, case-insensitively, and names missing classes', () => {
  expect(classMapByName(['person', 'Car', 'dog'], ['dog', 'car'])).toEqual([-1, 1, 0]);
  expect(() => classMapByName(['person'], ['person', 'zebra'])).toThrow(/classes zebra are not classes of the model/);
});

describeFixtures('darknet/weights/yolo-fastest-1.1.weights', 'yolo-tfjs val with a real detector', () => {
  const cfg = fixturePath('darknet/weights/yolo-fastest-1.1.cfg');
  const weights = fixturePath('darknet/weights/yolo-fastest-1.1.weights');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-val-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('labels made of the model\'s own boxes score AP 1 for every class (VOC and COCO), through a name class map', async () => {
    const det = loadDarknet(fs.readFileSync(cfg, 'utf8'), fs.readFileSync(weights));
    const root = path.join(tmp, 'ds');
    fs.mkdirSync(path.join(root, 'images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'labels'), { recursive: true });
    const used = new Map<number, number>(); // detector class -> dataset class
    let boxes = 0;
    try {
      for (const name of ['dog', 'person']) {
        const src = fixturePath('images', `${name}.jpg`);
        fs.copyFileSync(src, path.join(root, 'images', `${name}.jpg`));
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const meta = await require('sharp')(src).metadata();
        const dets = await det.detect(src, { scoreThreshold: 0.3 });
        const lines = dets.map((d) => {
          if (!used.has(d.classId)) used.set(d.classId, used.size);
          const [x1, y1, x2, y2] = d.box;
          boxes++;
          return [used.get(d.classId), (x1 + x2) / 2 / meta.width, (y1 + y2) / 2 / meta.height, (x2 - x1) / meta.width, (y2 - y1) / meta.height].join(' ');
        });
        fs.writeFileSync(path.join(root, 'labels', `${name}.txt`), lines.join('\n'));
      }
      const names = [...used.keys()].map((c) => det.spec.classNames[c]);
      fs.writeFileSync(path.join(root, 'classes.txt'), names.join('\n'));
    } finally {
      det.dispose();
    }
    expect(boxes).toBeGreaterThan(3);
    const r = await capture(['val', '-m', cfg, '-w', weights, '-d', root, '--json', '--batch', '2']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.images).toBe(2);
    expect(j.voc.perClass).toHaveLength(used.size);
    for (const c of j.voc.perClass) expect(c.AP).toBeCloseTo(1, 6);
    expect(j.coco.AP).toBeGreaterThan(0.99);
  });
});
