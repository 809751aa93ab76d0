import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readYoloDataset } from '../../../src/train/data/readYoloDataset';
import { readVocDataset } from '../../../src/train/data/readVocDataset';
import { readCocoDataset } from '../../../src/train/data/readCocoDataset';
import { cocoToDataset, toCocoGt } from '../../../src/train/data/cocoConvert';
import { readDataset } from '../../../src/train/data/readDataset';
import { readVocResults, readYoloPredictions } from '../../../src/train/data/readDetections';
import { DatasetWarning, fileStem, formatDatasetWarning } from '../../../src/train/data/dataset';
import { cocoEvaluate } from '../../../src/eval/cocoEvaluate';
import { vocEvaluate } from '../../../src/eval/vocEvaluate';
import type { CocoDetection, CocoGroundTruth } from '../../../src/eval/cocoFormat';
import { describeFixtures, fixturePath, readJson } from '../../helpers/fixtures';

describeFixtures('eval', 'dataset readers on the fixtures/eval copies of gt.json', () => {
  const gt = readJson<CocoGroundTruth>('eval', 'gt.json');
  const expectedVoc = readJson('eval', 'expected_voc.json');
  const expectedCoco = readJson('eval', 'expected_coco.json');
  const catName = new Map(gt.categories.map((c) => [c.id, c.name]));
  const imageById = new Map(gt.images.map((im) => [im.id, im]));
  const annsOf = (imageId: number) => gt.annotations.filter((a) => a.image_id === imageId);

  it('YOLO txt: same images, sizes, ids and non-crowd boxes within the 6-decimal rounding', async () => {
    const ds = await readYoloDataset(fixturePath('eval', 'yolo'));
    expect(ds.warnings).toEqual([]);
    expect(ds.classNames).toEqual(['person', 'car', 'dog', 'bottle', 'kite']);
    expect(ds.images.map((im) => im.id).sort((a, b) => a - b)).toEqual(gt.images.map((im) => im.id).sort((a, b) => a - b));
    let maxErr = 0;
    let n = 0;
    for (const im of ds.images) {
      const ref = imageById.get(im.id)!;
      expect([fileStem(im.file), im.width, im.height]).toEqual([fileStem(ref.file_name!), ref.width, ref.height]);
      const anns = annsOf(im.id).filter((a) => !a.iscrowd);
      expect(im.boxes).toHaveLength(anns.length);
      anns.forEach((a, i) => {
        const b = im.boxes[i];
        expect(ds.classNames[b.classId]).toBe(catName.get(a.category_id));
        expect(b.crowd).toBeUndefined();
        const [x, y, w, h] = a.bbox;
        const err = Math.max(Math.abs(b.x1 - x), Math.abs(b.y1 - y), Math.abs(b.x2 - (x + w)), Math.abs(b.y2 - (y + h)));
        maxErr = Math.max(maxErr, err / Math.max(im.width, im.height));
        n++;
      });
    }
    expect(n).toBe(116);
    expect(maxErr).toBeLessThan(1e-6); // relative to the image size
  });

  it('Pascal VOC XML: exact boxes, crowd boxes as <difficult>', async () => {
    const ds = await readVocDataset(fixturePath('eval', 'voc'), { split: 'test', classNames: ['person', 'car', 'dog', 'bottle', 'kite'] });
    expect(ds.warnings).toEqual([]);
    expect(ds.images).toHaveLength(25);
    const byStem = new Map(gt.images.map((im) => [fileStem(im.file_name!), im]));
    let n = 0;
    for (const im of ds.images) {
      const ref = byStem.get(fileStem(im.file))!;
      expect([im.width, im.height]).toEqual([ref.width, ref.height]);
      const anns = annsOf(ref.id);
      expect(im.boxes).toHaveLength(anns.length);
      anns.forEach((a, i) => {
        const b = im.boxes[i];
        const [x, y, w, h] = a.bbox;
        expect([b.x1, b.y1, b.x2, b.y2]).toEqual([x, y, x + w, y + h]);
        expect(ds.classNames[b.classId]).toBe(catName.get(a.category_id));
        expect(Boolean(b.difficult)).toBe(Boolean(a.iscrowd));
        n++;
      });
    }
    expect(n).toBe(119);
    // without a class list: names in order of first appearance, same boxes
    const auto = await readVocDataset(fixturePath('eval', 'voc'));
    expect([...auto.classNames].sort()).toEqual(['bottle', 'car', 'dog', 'kite', 'person']);
    expect(auto.images.reduce((s, im) => s + im.boxes.length, 0)).toBe(119);
  });

  it('YOLO ground truth + YOLO predictions give the crowd-excluded (podm) VOC mAP', async () => {
    const ds = await readDataset(fixturePath('eval', 'yolo'), 'yolo');
    const preds = await readYoloPredictions(fixturePath('eval', 'yolo', 'predictions'), ds);
    expect(preds.warnings).toEqual([]);
    expect(preds.results).toHaveLength(371);
    for (const [key, elevenPoint] of [['all_point', false], ['eleven_point', true]] as const) {
      const r = vocEvaluate(toCocoGt(ds), preds.results, { elevenPoint });
      const want = expectedVoc.crowd_excluded[key];
      expect(Math.abs(r.mAP - want.mAP)).toBeLessThan(1e-6);
      for (const c of r.perClass) expect(Math.abs((c.AP as number) - want.per_class[c.name])).toBeLessThan(1e-6);
    }
  });

  it('VOC XML + devkit results give the crowd-as-difficult (chainercv) VOC mAP', async () => {
    const ds = await readVocDataset(fixturePath('eval', 'voc'), { split: 'test', classNames: ['person', 'car', 'dog', 'bottle', 'kite'] });
    const res = await readVocResults(fixturePath('eval', 'voc', 'results'), ds);
    expect(res.warnings).toEqual([]);
    expect(res.results).toHaveLength(371);
    for (const [key, elevenPoint] of [['all_point', false], ['eleven_point', true]] as const) {
      const r = vocEvaluate(toCocoGt(ds), res.results, { elevenPoint });
      const want = expectedVoc.crowd_as_difficult[key];
      expect(Math.abs(r.mAP - want.mAP)).toBeLessThan(1e-6);
      for (const c of r.perClass) expect(Math.abs((c.AP as number) - want.per_class[c.name])).toBeLessThan(1e-6);
    }
  });

  it('COCO JSON: round trip through the common format keeps the COCOeval numbers', async () => {
    const ds = await readCocoDataset(fixturePath('eval', 'gt.json'));
    expect(ds.warnings).toEqual([]);
    expect(ds.categoryIds).toEqual([1, 3, 7, 12, 44]);
    expect(ds.images.reduce((s, im) => s + im.boxes.filter((b) => b.crowd).length, 0)).toBe(3);
    const back = toCocoGt(ds);
    const dets = readJson<CocoDetection[]>('eval', 'dets.json');
    const r = cocoEvaluate(back, dets);
    r.stats.forEach((v, i) => expect(Math.abs(v - expectedCoco.stats_list[i])).toBeLessThan(1e-6));
  });
});

// ---- bad annotations, hand-made ----

function pngHeader(w: number, h: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b);
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
}

describe('readers report bad annotations with file and line and skip them', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readers-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const find = (ws: DatasetWarning[], kind: string, file: string, line?: number) =>
    ws.find((w) => w.kind === kind && w.file.endsWith(file) && (line === undefined || w.line === line));

  it('YOLO txt', async () => {
    const root = path.join(dir, 'yolo');
    fs.mkdirSync(path.join(root, 'images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'labels'));
    fs.writeFileSync(path.join(root, 'classes.txt'), 'cat\ndog\n');
    fs.writeFileSync(path.join(root, 'images', 'a.png'), pngHeader(100, 50));
    fs.writeFileSync(path.join(root, 'images', 'd.png'), pngHeader(40, 40));
    fs.writeFileSync(
      path.join(root, 'labels', 'a.txt'),
      [
        '0 0.5 0.5 0.2 0.4', // 1 ok
        '5 0.5 0.5 0.1 0.1', // 2 unknown class
        '0 0.5 0.5 0.1', // 3 malformed
        '1 0.95 0.5 0.2 0.2', // 4 outside (x2 = 1.05)
        '1 0.5 0.5 0 0.1', // 5 empty
        '1 0.5 abc 0.1 0.1', // 6 non-numeric
        '# comment', // 7
        '1 0.25 0.5 0.5 1.0', // 8 ok, touches the borders
        '0.5 0.5 0.5 0.1 0.1', // 9 class not an integer
      ].join('\n'),
    );
    fs.writeFileSync(path.join(root, 'images.txt'), ['images/a.png', 'images/b.png', 'c', 'd'].join('\n'));
    const seen: DatasetWarning[] = [];
    const ds = await readYoloDataset(root, { onWarning: (w) => seen.push(w) });
    expect(seen).toEqual(ds.warnings);
    const w = ds.warnings;
    expect(find(w, 'unknown-class', 'a.txt', 2)).toBeDefined();
    expect(find(w, 'malformed', 'a.txt', 3)).toBeDefined();
    expect(find(w, 'box-outside-image', 'a.txt', 4)).toBeDefined();
    expect(find(w, 'empty-box', 'a.txt', 5)).toBeDefined();
    expect(find(w, 'malformed', 'a.txt', 6)).toBeDefined();
    expect(find(w, 'unknown-class', 'a.txt', 9)).toBeDefined();
    expect(find(w, 'missing-image', 'images.txt', 2)!.message).toMatch(/images\/b\.png not found/);
    expect(find(w, 'missing-image', 'images.txt', 3)).toBeDefined();
    expect(find(w, 'missing-label', 'images.txt', 4)).toBeDefined();
    expect(w).toHaveLength(9);
    expect(formatDatasetWarning(find(w, 'unknown-class', 'a.txt', 2)!)).toMatch(/a\.txt:2: class "5" is not one of the 2 classes/);
    expect(ds.images.map((im) => [fileStem(im.file), im.width, im.height, im.boxes.length])).toEqual([
      ['a', 100, 50, 2],
      ['d', 40, 40, 0],
    ]);
    expect(ds.images[0].boxes[0]).toEqual({ x1: 40, y1: 15, x2: 60, y2: 35, classId: 0 });
    expect(ds.images[0].boxes[1]).toEqual({ x1: 0, y1: 0, x2: 50, y2: 50, classId: 1 });
    await expect(readYoloDataset(path.join(dir, 'nowhere'))).rejects.toThrow(/is not a folder/);
    fs.mkdirSync(path.join(dir, 'nonames'));
    await expect(readYoloDataset(path.join(dir, 'nonames'))).rejects.toThrow(/no class names/);
  });

  it('Pascal VOC XML', async () => {
    const root = path.join(dir, 'voc');
    fs.mkdirSync(path.join(root, 'Annotations'), { recursive: true });
    fs.mkdirSync(path.join(root, 'JPEGImages'));
    fs.writeFileSync(path.join(root, 'JPEGImages', 'a.jpg'), pngHeader(200, 100)); // sized from the header
    const obj = (name: string, b: (number | string)[], difficult = 0) =>
      `  <object>\n    <name>${name}</name>\n    <difficult>${difficult}</difficult>\n    <bndbox><xmin>${b[0]}</xmin><ymin>${b[1]}</ymin><xmax>${b[2]}</xmax><ymax>${b[3]}</ymax></bndbox>\n  </object>\n`;
    fs.writeFileSync(
      path.join(root, 'Annotations', 'a.xml'),
      '<annotation>\n  <filename>a.jpg</filename>\n' + // lines 1-2
        obj('cat', [10, 10, 50, 60], 1) + // line 3
        obj('zebra', [10, 10, 50, 60]) + // line 8
        obj('dog', [150, 10, 250, 60]) + // line 13: outside (x2 > 200)
        obj('dog', [10, 10, 'x', 60]) + // line 18: malformed, the <bndbox> is on line 21
        obj('dog', [20, 20, 30, 30]) + // line 23 ok
        '</annotation>\n',
    );
    fs.writeFileSync(path.join(root, 'Annotations', 'b.xml'), '<annotation>\n<object>\n</annotation>');
    fs.writeFileSync(path.join(root, 'Annotations', 'c.xml'), '<annotation><filename>c.jpg</filename><size><width>10</width><height>10</height></size></annotation>');
    const ds = await readVocDataset(root, { classNames: ['cat', 'dog'] });
    const w = ds.warnings;
    expect(find(w, 'unknown-class', 'a.xml', 8)!.message).toMatch(/unknown class "zebra"/);
    expect(find(w, 'box-outside-image', 'a.xml', 13)!.message).toMatch(/outside the 200x100 image/);
    expect(find(w, 'malformed', 'a.xml', 21)).toBeDefined();
    expect(find(w, 'malformed', 'b.xml')!.message).toMatch(/XML line 3: end tag <\/annotation> does not match <object>/);
    expect(find(w, 'missing-image', 'c.xml')!.message).toMatch(/JPEGImages[\\/]c\.jpg not found/);
    expect(w).toHaveLength(5);
    expect(ds.images).toHaveLength(1);
    expect(ds.images[0]).toMatchObject({ width: 200, height: 100 });
    expect(ds.images[0].boxes).toEqual([
      { x1: 10, y1: 10, x2: 50, y2: 60, classId: 0, difficult: true },
      { x1: 20, y1: 20, x2: 30, y2: 30, classId: 1 },
    ]);
    await expect(readVocDataset(root, { split: 'train' })).rejects.toThrow(/split file .*train\.txt does not exist/);
  });

  it('COCO JSON', async () => {
    const gt = {
      images: [{ id: 1, file_name: 'a.jpg', width: 100, height: 100 }, { id: 2, file_name: 'b.jpg' }],
      categories: [{ id: 9, name: 'cat' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 9, bbox: [10, 10, 20, 20], iscrowd: 0 },
        { id: 2, image_id: 5, category_id: 9, bbox: [10, 10, 20, 20] },
        { id: 3, image_id: 1, category_id: 4, bbox: [10, 10, 20, 20] },
        { id: 4, image_id: 1, category_id: 9, bbox: [10, 10, 20] },
        { id: 5, image_id: 1, category_id: 9, bbox: [90, 10, 20, 20] },
        { id: 6, image_id: 1, category_id: 9, bbox: [0, 0, 100, 100], iscrowd: 1 },
      ],
    };
    const file = path.join(dir, 'coco.json');
    fs.writeFileSync(file, JSON.stringify(gt));
    const ds = await readCocoDataset(file);
    const w = ds.warnings;
    const at = (loc: string) => w.find((x) => x.location.startsWith(loc))!;
    expect(at('images[1]').kind).toBe('missing-image');
    expect(at('annotations[1]').kind).toBe('unknown-image');
    expect(at('annotations[2]').kind).toBe('unknown-class');
    expect(at('annotations[3]').kind).toBe('malformed');
    expect(at('annotations[4]').kind).toBe('box-outside-image');
    expect(w).toHaveLength(5);
    expect(w.every((x) => x.file === file)).toBe(true);
    expect(formatDatasetWarning(at('annotations[2]'))).toContain('coco.json (annotations[2] (id 3)): category_id 4');
    expect(ds.images).toHaveLength(1);
    expect(ds.images[0].boxes).toEqual([
      { x1: 10, y1: 10, x2: 30, y2: 30, classId: 0 },
      { x1: 0, y1: 0, x2: 100, y2: 100, classId: 0, crowd: true },
    ]);
    // images folder given: a missing image file is reported and skipped
    const withDir = await readCocoDataset(file, path.join(dir, 'no-images-here'));
    expect(withDir.images).toHaveLength(0);
    expect(withDir.warnings.filter((x) => x.kind === 'missing-image')).toHaveLength(2);
    expect(() => cocoToDataset({ images: [] } as unknown as CocoGroundTruth)).toThrow(/not COCO ground truth/);
  });

  it('detection results: malformed lines and unknown images are reported', async () => {
    const ds = { images: [{ id: 3, file: 'x/img1.jpg', width: 100, height: 100, boxes: [] }], classNames: ['cat', 'hot_dog', 'dog'] };
    const pdir = path.join(dir, 'preds');
    fs.mkdirSync(pdir);
    fs.writeFileSync(path.join(pdir, 'img1.txt'), '0 0.5 0.5 0.2 0.2 0.9\n0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2 0.3\n');
    fs.writeFileSync(path.join(pdir, 'other.txt'), '');
    const p = await readYoloPredictions(pdir, ds);
    expect(p.results).toEqual([{ image_id: 3, category_id: 1, bbox: [40, 40, 20, 20], score: 0.9 }]);
    expect(p.warnings.map((x) => [x.kind, x.line])).toEqual([['malformed', 2], ['unknown-class', 3], ['unknown-image', undefined]]);

    const rdir = path.join(dir, 'vocres');
    fs.mkdirSync(rdir);
    fs.writeFileSync(path.join(rdir, 'comp4_det_test_hot_dog.txt'), 'img1 0.8 1 2 11 22\nimg9 0.5 1 2 3 4\nimg1 0.1 1 2\n');
    fs.writeFileSync(path.join(rdir, 'comp4_det_test_dog.txt'), 'img1 0.7 5 5 6 6\n');
    fs.writeFileSync(path.join(rdir, 'comp4_det_test_bird.txt'), 'img1 0.7 5 5 6 6\n');
    const r = await readVocResults(rdir, ds);
    expect(r.results).toEqual([
      { image_id: 3, category_id: 3, bbox: [5, 5, 1, 1], score: 0.7 },
      { image_id: 3, category_id: 2, bbox: [1, 2, 10, 20], score: 0.8 },
    ]);
    expect(r.warnings.map((x) => [x.kind, path.basename(x.file), x.line])).toEqual([
      ['unknown-class', 'comp4_det_test_bird.txt', undefined],
      ['unknown-image', 'comp4_det_test_hot_dog.txt', 2],
      ['malformed', 'comp4_det_test_hot_dog.txt', 3],
    ]);
  });
});
