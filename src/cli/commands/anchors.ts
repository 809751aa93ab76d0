/**
 * `yolo-tfjs anchors --dataset <d> --format yolo|voc|coco --k 6 --size 416 [--json]`:
 * k-means anchors (1 - IoU distance) on the dataset's box sizes, scaled to the network input
 * as Darknet's `calc_anchors` does for a stretch resize (normalised w, h times the input size).
 */
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { formatDatasetWarning } from '../../train/data/dataset';
import { DatasetFormat, readDataset } from '../../train/data/readDataset';
import { kmeansAnchors } from '../../train/kmeansAnchors';

export const anchorsOptions: OptionDef[] = [
  { name: 'dataset', alias: 'd', type: 'string', description: 'dataset folder (yolo, voc) or COCO JSON file' },
  { name: 'format', alias: 'f', type: 'string', description: 'yolo | voc | coco', default: 'yolo' },
  { name: 'k', type: 'number', description: 'number of anchors', default: 6 },
  { name: 'size', alias: 's', type: 'string', description: 'network input size: 416 or WxH (e.g. 416x320)', default: '416' },
  { name: 'split', type: 'string', description: 'VOC split (ImageSets/Main/<split>.txt)' },
  { name: 'seed', type: 'number', description: 'k-means++ seed', default: 0, integer: true },
  { name: 'iterations', type: 'number', description: 'max k-means iterations', default: 300, min: 1, max: 100000, integer: true },
  { name: 'json', type: 'boolean', description: 'print JSON' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

/** Parses "416" or "416x320" (width x height). */
export function parseInputSize(s: string): [number, number] {
  const m = /^(\d+)(?:[xX,](\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`--size must be N or WxH, got '${s}'`);
  const w = Number(m[1]);
  const h = m[2] !== undefined ? Number(m[2]) : w;
  if (!(w > 0 && h > 0)) throw new UsageError(`--size must be positive, got '${s}'`);
  return [w, h];
}

export async function run(argv: string[]): Promise<number> {
  const { options: o, positionals } = parseArgs(argv, anchorsOptions);
  if (o.help) {
    console.log(usage('anchors', '--dataset <dir|json> [options]', anchorsOptions));
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!o.dataset) throw new UsageError('anchors: --dataset is required');
  const format = String(o.format);
  if (!['yolo', 'voc', 'coco'].includes(format)) throw new UsageError(`--format must be yolo, voc or coco, got '${format}'`);
  const k = o.k as number;
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive integer, got ${k}`);
  const [netW, netH] = parseInputSize(String(o.size));

  const ds = await readDataset(String(o.dataset), format as DatasetFormat, { split: o.split as string | undefined });
  if (ds.warnings.length) {
    console.error(`${ds.warnings.length} annotation problem(s), skipped:`);
    for (const w of ds.warnings.slice(0, 10)) console.error(`  ${formatDatasetWarning(w)}`);
    if (ds.warnings.length > 10) console.error(`  ... and ${ds.warnings.length - 10} more`);
  }
  // Darknet: rel_w * net width, rel_h * net height. Crowd regions and difficult boxes are not
  // used (Darknet's voc_label.py leaves difficult objects out of the labels).
  const boxes: [number, number][] = [];
  for (const im of ds.images) {
    for (const b of im.boxes) {
      if (b.crowd || b.difficult) continue;
      boxes.push([((b.x2 - b.x1) / im.width) * netW, ((b.y2 - b.y1) / im.height) * netH]);
    }
  }
  if (boxes.length < k) throw new Error(`anchors: the dataset has ${boxes.length} usable boxes, fewer than k = ${k}`);
  const res = kmeansAnchors(boxes, k, { seed: o.seed as number, iterations: o.iterations as number });
  if (o.json) {
    console.log(
      JSON.stringify(
        {
          anchors: res.anchors,
          anchorsRounded: res.anchors.map(([w, h]) => [Math.round(w), Math.round(h)]),
          avgIoU: res.avgIoU,
          k,
          size: [netW, netH],
          numBoxes: boxes.length,
          numImages: ds.images.length,
          warnings: ds.warnings.length,
        },
        null,
        1,
      ),
    );
  } else {
    console.log(`${boxes.length} boxes from ${ds.images.length} images, k = ${k}, input ${netW}x${netH}`);
    console.log(`anchors = ${res.anchors.map(([w, h]) => `${Math.round(w)},${Math.round(h)}`).join(', ')}`);
    console.log(`mean IoU = ${res.avgIoU.toFixed(4)}`);
  }
  return 0;
}
