/**
 * `yolo-tfjs eval --gt gt.json --results dets.json [--voc] [--json]`: COCO mAP (pycocotools
 * rules) or VOC mAP (chainercv rules) of COCO-format results, with a per-class table.
 */
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { cocoEvaluate } from '../../eval/cocoEvaluate';
import { vocEvaluate } from '../../eval/vocEvaluate';
import { formatApTable } from '../../eval/formatApTable';
import type { CocoDetection, CocoGroundTruth } from '../../eval/cocoFormat';

export const evalOptions: OptionDef[] = [
  { name: 'gt', alias: 'g', type: 'string', description: 'COCO ground-truth JSON' },
  { name: 'results', alias: 'r', type: 'string', description: 'COCO results JSON [{image_id, category_id, bbox, score}]' },
  { name: 'voc', type: 'boolean', description: 'VOC AP@0.5 instead of COCO mAP' },
  { name: 'eleven-point', type: 'boolean', description: 'VOC: 11-point interpolation (VOC2007)' },
  { name: 'crowd-excluded', type: 'boolean', description: 'VOC: leave crowd boxes out (default: treat them as difficult)' },
  { name: 'iou', type: 'number', description: 'VOC: IoU threshold', default: 0.5, min: 0, max: 1, minExclusive: true },
  { name: 'json', type: 'boolean', description: 'print JSON' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

const COCO_LINES: [string, string, string, string][] = [
  ['Average Precision', '0.50:0.95', 'all', '100'],
  ['Average Precision', '0.50', 'all', '100'],
  ['Average Precision', '0.75', 'all', '100'],
  ['Average Precision', '0.50:0.95', 'small', '100'],
  ['Average Precision', '0.50:0.95', 'medium', '100'],
  ['Average Precision', '0.50:0.95', 'large', '100'],
  ['Average Recall', '0.50:0.95', 'all', '1'],
  ['Average Recall', '0.50:0.95', 'all', '10'],
  ['Average Recall', '0.50:0.95', 'all', '100'],
  ['Average Recall', '0.50:0.95', 'small', '100'],
  ['Average Recall', '0.50:0.95', 'medium', '100'],
  ['Average Recall', '0.50:0.95', 'large', '100'],
];

/** The 12 stats in pycocotools' `summarize()` layout. */
export function formatCocoSummary(stats: number[]): string {
  return COCO_LINES.map(([title, iou, area, md], i) => {
    const kind = title.startsWith('Average Precision') ? '(AP)' : '(AR)';
    return ` ${title.padEnd(18)} ${kind} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${md.padStart(3)} ] = ${stats[i].toFixed(3)}`;
  }).join('\n');
}

async function readJson(file: string, what: string): Promise<unknown> {
  const fs = await import('fs');
  if (!fs.existsSync(file)) throw new Error(`${what} file ${file} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${what} file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { options: o, positionals } = parseArgs(argv, evalOptions);
  if (o.help) {
    console.log(usage('eval', '--gt gt.json --results dets.json [options]', evalOptions));
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!o.gt || !o.results) throw new UsageError('eval: --gt and --results are required');
  const gt = (await readJson(String(o.gt), 'ground-truth')) as CocoGroundTruth;
  const results = (await readJson(String(o.results), 'results')) as CocoDetection[];
  if (o.voc) {
    const r = vocEvaluate(gt, results, {
      elevenPoint: Boolean(o['eleven-point']),
      crowdAsDifficult: !o['crowd-excluded'],
      iouThreshold: o.iou as number,
    });
    if (o.json) console.log(JSON.stringify(r, null, 1));
    else {
      const kind = o['eleven-point'] ? '11-point' : 'all-point';
      console.log(`VOC mAP@${o.iou} (${kind}, crowd ${o['crowd-excluded'] ? 'excluded' : 'as difficult'}) = ${r.mAP.toFixed(4)}\n`);
      console.log(formatApTable(r.perClass));
    }
  } else {
    const r = cocoEvaluate(gt, results);
    if (o.json) console.log(JSON.stringify({ ...r }, null, 1));
    else {
      console.log(formatCocoSummary(r.stats));
      console.log('');
      console.log(formatApTable(r.perClass));
    }
  }
  return 0;
}
