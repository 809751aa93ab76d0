/**
 * `yolo-tfjs detect` over folders and glob patterns: batched inference gives the boxes of
 * one-by-one runs, JSON lines and COCO results output, and numeric options checked against
 * their ranges (one clear line each).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { expandImageInputs } from '../../src/cli/imageInputs';
import { parseArgs, UsageError } from '../../src/cli/args';
import { COCO80_CATEGORY_IDS } from '../../src/eval/cocoFormat';
import { COCO_CLASSES } from '../../src/spec';
import { describeFixtures, fixturePath } from '../helpers/fixtures';
import { captureCli } from '../helpers/captureCli';

const capture = (argv: string[]) => captureCli(main, argv);

describe('expandImageInputs', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-glob-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const touch = (p: string) => {
    fs.mkdirSync(path.dirname(path.join(tmp, p)), { recursive: true });
    fs.writeFileSync(path.join(tmp, p), '');
  };
  beforeAll(() => ['b.jpg', 'a.PNG', 'notes.txt', 'sub/c.jpeg', 'sub/deep/d.jpg', '.hidden/e.jpg', 'x1.jpg', 'x2.jpg', 'x10.jpg'].forEach(touch));
  const rel = (files: string[]) => files.map((f) => path.relative(tmp, f));

  test('a folder gives its images, sorted, not recursive; files pass through once', () => {
    expect(rel(expandImageInputs([tmp]))).toEqual(['a.PNG', 'b.jpg', 'x1.jpg', 'x10.jpg', 'x2.jpg']);
    expect(rel(expandImageInputs([path.join(tmp, 'b.jpg'), tmp]))).toEqual(['b.jpg', 'a.PNG', 'x1.jpg', 'x10.jpg', 'x2.jpg']);
  });

  test('globs: *, ?, [..], ** (hidden folders left out)', () => {
    expect(rel(expandImageInputs([path.join(tmp, '*.jpg')]))).toEqual(['b.jpg', 'x1.jpg', 'x10.jpg', 'x2.jpg']);
    expect(rel(expandImageInputs([path.join(tmp, 'x?.jpg')]))).toEqual(['x1.jpg', 'x2.jpg']);
    expect(rel(expandImageInputs([path.join(tmp, 'x[!1].jpg')]))).toEqual(['x2.jpg']);
    expect(rel(expandImageInputs([path.join(tmp, '**', '*.jp*g')]))).toEqual(['b.jpg', 'sub/c.jpeg', 'sub/deep/d.jpg', 'x1.jpg', 'x10.jpg', 'x2.jpg']);
    expect(rel(expandImageInputs([path.join(tmp, 'sub', '*', '*.jpg')]))).toEqual(['sub/deep/d.jpg']);
  });

  test('nothing to read is a usage error naming the argument', () => {
    expect(() => expandImageInputs([path.join(tmp, 'nope.jpg')])).toThrow(/image file not found: .*nope\.jpg/);
    expect(() => expandImageInputs([path.join(tmp, '*.gif')])).toThrow(/no image matches/);
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect(() => expandImageInputs([path.join(tmp, 'empty')])).toThrow(/holds no images/);
    expect(() => expandImageInputs([tmp], { maxImages: 2 })).toThrow(UsageError);
  });
});

describe('numeric options are checked against their ranges', () => {
  const def = [
    { name: 'batch', type: 'number' as const, description: '', min: 1, max: 256, integer: true },
    { name: 'score', type: 'number' as const, description: '', min: 0, max: 1, maxExclusive: true },
    { name: 'iou', type: 'number' as const, description: '', min: 0, max: 1, minExclusive: true },
  ];
  test.each([
    [['--batch', '0'], /'--batch' must be a whole number from 1 to 256, got '0'/],
    [['--batch', '2.5'], /whole number/],
    [['--score', '1'], /'--score' must be a number >= 0 and < 1, got '1'/],
    [['--iou', '0'], /'--iou' must be a number > 0 and <= 1/],
    [['--iou', 'x'], /needs a number, got 'x'/],
    [['--batch', ''], /needs a number/],
  ])('%j', (argv, msg) => expect(() => parseArgs(argv, def)).toThrow(msg));

  test.each([
    [['bench', '--runs', '-1'], /'--runs' must be a whole number from 1 to 100000, got '-1'/],
    [['bench', '--batch', '0'], /'--batch' must be a whole number from 1 to 256/],
    [['eval', '--iou', '5'], /'--iou' must be a number > 0 and <= 1, got '5'/],
    [['eval', '--iou', '-1'], /'--iou' must be a number > 0 and <= 1/],
    [['detect', 'x.jpg', '--max', '-5'], /'--max' must be a whole number from 0 to 100000, got '-5'/],
    [['detect', 'x.jpg', '--size', '1000000'], /'--size' must be a whole number from 32 to 4096/],
    [['train', '--epochs', '0'], /'--epochs' must be a whole number/],
  ])('yolo-tfjs %j', async (argv, msg) => {
    await expect(capture(argv)).rejects.toThrow(msg);
  });
});

test('COCO80_CATEGORY_IDS are the official ids, increasing, 80 of them within 1..90', () => {
  expect(COCO80_CATEGORY_IDS).toHaveLength(COCO_CLASSES.length);
  for (let i = 1; i < 80; i++) expect(COCO80_CATEGORY_IDS[i]).toBeGreaterThan(COCO80_CATEGORY_IDS[i - 1]);
  expect(COCO80_CATEGORY_IDS[COCO_CLASSES.indexOf('dog')]).toBe(18);
  expect(COCO80_CATEGORY_IDS[COCO_CLASSES.indexOf('toothbrush')]).toBe(90);
});

describeFixtures('darknet/weights/yolo-fastest-1.1.weights', 'yolo-tfjs detect <folder | glob>', () => {
  const cfg = fixturePath('darknet/weights/yolo-fastest-1.1.cfg');
  const weights = fixturePath('darknet/weights/yolo-fastest-1.1.weights');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-many-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeAll(() => {
    fs.copyFileSync(fixturePath('images/dog.jpg'), path.join(tmp, 'dog.jpg'));
    fs.copyFileSync(fixturePath('images/person.jpg'), path.join(tmp, 'person.jpg'));
    fs.mkdirSync(path.join(tmp, 'more'));
    fs.copyFileSync(fixturePath('images/000139.jpg'), path.join(tmp, 'more', '000000000139.jpg'));
    fs.writeFileSync(path.join(tmp, 'readme.txt'), 'not an image');
  });
  const one = async (file: string) => JSON.parse((await capture(['detect', file, '-m', cfg, '-w', weights, '--json'])).out).results[0].detections;

  test('a folder in batches (--format jsonl) gives the boxes of one-by-one runs', async () => {
    const r = await capture(['detect', tmp, '-m', cfg, '-w', weights, '--format', 'jsonl', '--batch', '2']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => path.basename(l.image))).toEqual(['dog.jpg', 'person.jpg']);
    for (const l of lines) {
      const ref = await one(l.image);
      expect(l.detections.length).toBe(ref.length);
      expect(ref.length).toBeGreaterThan(0);
      l.detections.forEach((d: { classId: number; score: number; box: number[] }, i: number) => {
        expect(d.classId).toBe(ref[i].classId);
        expect(Math.abs(d.score - ref[i].score)).toBeLessThan(1e-4);
        d.box.forEach((v, k) => expect(Math.abs(v - ref[i].box[k])).toBeLessThan(1e-2));
      });
    }
  });

  test('a ** glob with --format coco: image ids from numeric names, official COCO category ids, [x, y, w, h]', async () => {
    const r = await capture(['detect', path.join(tmp, '**', '*.jpg'), '-m', cfg, '-w', weights, '--format', 'coco']);
    expect(r.code).toBe(0);
    const coco = JSON.parse(r.out) as { image_id: number; category_id: number; bbox: number[]; score: number }[];
    const ids = new Set(coco.map((c) => c.image_id));
    expect(ids.has(139)).toBe(true); // more/000000000139.jpg
    const dogRef = await one(path.join(tmp, 'dog.jpg'));
    const dogId = 1; // dog.jpg is the first image of the expansion
    const dogDets = coco.filter((c) => c.image_id === dogId);
    expect(dogDets).toHaveLength(dogRef.length);
    dogDets.forEach((c, i) => {
      expect(c.category_id).toBe(COCO80_CATEGORY_IDS[dogRef[i].classId]);
      expect(Math.abs(c.bbox[2] - (dogRef[i].box[2] - dogRef[i].box[0]))).toBeLessThan(0.02);
    });
  });

  test('output format errors', async () => {
    await expect(capture(['detect', tmp, '--format', 'xml'])).rejects.toThrow(/--format must be table, json, jsonl, coco/);
    await expect(capture(['detect', tmp, '--format', 'coco', '--json'])).rejects.toThrow(/disagree/);
    await expect(capture(['detect', path.join(tmp, '*.bmp')])).rejects.toThrow(/no image matches/);
  });
});
