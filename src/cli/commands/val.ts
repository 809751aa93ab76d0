/**
 * `yolo-tfjs val --model m --data <coco json | voc dir | yolo dir>`: run a detector over a
 * labelled dataset (or read saved predictions) and print COCO's 12 stats and VOC mAP@0.5 with
 * a per-class table, as Darknet's `detector map` and the original repositories' test scripts do.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { resolveModel, resolveOptionsFrom, MODEL_SOURCE_OPTIONS, MODEL_OPTION, ENGINE_OPTION, applyEngineOption } from '../resolveModel';
import { formatCocoSummary } from './eval';
import { ready, setBackend } from '../../backend';
import { readDataset, DatasetFormat } from '../../train/data/readDataset';
import { readYoloPredictions, readVocResults } from '../../train/data/readDetections';
import { toCocoGt } from '../../train/data/cocoConvert';
import { ReadDatasetResult, formatDatasetWarning } from '../../train/data/dataset';
import { evaluate } from '../../train/evaluate';
import { cocoEvaluate, CocoEvalResult } from '../../eval/cocoEvaluate';
import { vocEvaluate, VocEvalResult } from '../../eval/vocEvaluate';
import { formatApTable } from '../../eval/formatApTable';
import type { CocoDetection, CocoGroundTruth } from '../../eval/cocoFormat';

export const valOptions: OptionDef[] = [
  MODEL_OPTION,
  ...MODEL_SOURCE_OPTIONS,
  { name: 'data', alias: 'd', type: 'string', description: 'dataset: COCO ground-truth JSON, Pascal VOC folder or YOLO txt folder' },
  { name: 'format', type: 'string', description: 'dataset format: coco | voc | yolo (default: from --data)' },
  { name: 'images', type: 'string', description: 'COCO: the images folder (default: beside the JSON, or its images/ folder)' },
  { name: 'split', type: 'string', description: 'VOC: ImageSets/Main/<split>.txt (default: every annotation)' },
  { name: 'predictions', alias: 'p', type: 'string', description: 'score saved predictions instead of running a model: YOLO txt folder, VOC results folder or COCO results JSON' },
  { name: 'score', type: 'number', description: 'detection score threshold (low: mAP needs the whole PR curve)', default: 0.001, min: 0, max: 1, maxExclusive: true },
  { name: 'nms-iou', type: 'number', description: 'NMS IoU threshold (default: the model\'s)', min: 0, max: 1 },
  { name: 'iou', type: 'number', description: 'VOC: IoU of a true positive', default: 0.5, min: 0, max: 1, minExclusive: true },
  { name: 'eleven-point', type: 'boolean', description: 'VOC: 11-point interpolation (VOC2007)' },
  { name: 'batch', type: 'number', description: 'images per forward pass', default: 8, min: 1, max: 256, integer: true },
  { name: 'json', type: 'boolean', description: 'print JSON' },
  { name: 'backend', type: 'string', description: 'tfjs backend: wasm | cpu | tensorflow | ...' },
  { name: 'threads', type: 'number', description: 'wasm threads (default: all cores)', min: 1, max: 256, integer: true },
  ENGINE_OPTION,
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

const FORMATS: DatasetFormat[] = ['coco', 'voc', 'yolo'];

/** The dataset format of `location`: a .json file is COCO, a folder with Annotations/ is VOC, else YOLO. */
export function detectDatasetFormat(location: string): DatasetFormat {
  if (!fs.existsSync(location)) throw new UsageError(`--data ${location} does not exist`);
  if (fs.statSync(location).isFile()) {
    if (location.toLowerCase().endsWith('.json')) return 'coco';
    throw new UsageError(`--data ${location} is a file but not a COCO .json; give a VOC or YOLO dataset folder, or --format`);
  }
  return fs.existsSync(path.join(location, 'Annotations')) ? 'voc' : 'yolo';
}

function cocoImagesDir(json: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  const dir = path.dirname(json);
  const images = path.join(dir, 'images');
  return fs.existsSync(images) && fs.statSync(images).isDirectory() ? images : dir;
}

/** Detector class id -> dataset class id by name (-1 where the dataset has no such class). */
export function classMapByName(detectorClasses: string[], datasetClasses: string[]): number[] {
  const index = new Map(datasetClasses.map((n, i) => [n.toLowerCase(), i]));
  const map = detectorClasses.map((n) => index.get(n.toLowerCase()) ?? -1);
  const missing = datasetClasses.filter((n) => !detectorClasses.some((d) => d.toLowerCase() === n.toLowerCase()));
  if (missing.length) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new UsageError(`the dataset's classes ${shown} are not classes of the model; give the model's class names with --names, or fine-tune it on these classes`);
  }
  return map;
}

async function readPredictions(file: string, format: DatasetFormat, dataset: ReadDatasetResult, warn: (s: string) => void): Promise<CocoDetection[]> {
  if (!fs.existsSync(file)) throw new UsageError(`--predictions ${file} does not exist`);
  const onWarning = (w: Parameters<typeof formatDatasetWarning>[0]) => warn(formatDatasetWarning(w));
  if (fs.statSync(file).isFile()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`--predictions ${file} is not a COCO results JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new UsageError(`--predictions ${file} must hold a JSON array of {image_id, category_id, bbox, score}`);
    return parsed as CocoDetection[];
  }
  // A folder: per-class VOC devkit result files, or YOLO txt files per image.
  const names = fs.readdirSync(file).filter((f) => f.endsWith('.txt'));
  const vocStyle = format === 'voc' || names.some((f) => dataset.classNames.some((c) => f === `${c}.txt` || f.endsWith(`_${c}.txt`)));
  const r = vocStyle ? await readVocResults(file, dataset, { onWarning }) : await readYoloPredictions(file, dataset, { onWarning });
  return r.results;
}

function summarise(voc: VocEvalResult, coco: CocoEvalResult, iou: number, elevenPoint: boolean): string {
  return [
    formatCocoSummary(coco.stats),
    '',
    formatApTable(coco.perClass),
    '',
    `VOC mAP@${iou} (${elevenPoint ? '11-point' : 'all-point'}) = ${voc.mAP.toFixed(4)}`,
    '',
    formatApTable(voc.perClass),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { options: o, positionals } = parseArgs(argv, valOptions);
  if (o.help) {
    console.log(usage('val', '--data <coco.json | voc dir | yolo dir> [--model m | --predictions p] [options]', valOptions));
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!o.data) throw new UsageError('val: --data is required (a COCO ground-truth JSON, a VOC folder or a YOLO folder)');
  const data = String(o.data);
  let format: DatasetFormat;
  if (o.format !== undefined) {
    if (!FORMATS.includes(o.format as DatasetFormat)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, got '${o.format}'`);
    format = o.format as DatasetFormat;
    if (!fs.existsSync(data)) throw new UsageError(`--data ${data} does not exist`);
  } else format = detectDatasetFormat(data);

  const warnings: string[] = [];
  const warn = (s: string) => warnings.push(s);
  const scoringSaved = o.predictions !== undefined;
  const dataset = await readDataset(data, format, {
    split: o.split as string | undefined,
    // Saved predictions need no pixels: only look for a COCO set's images when running a model.
    imagesDir: format === 'coco' && !scoringSaved ? cocoImagesDir(data, o.images as string | undefined) : undefined,
    onWarning: (w) => warn(formatDatasetWarning(w)),
  });
  if (dataset.images.length === 0) throw new UsageError(`val: the dataset ${data} has no images`);
  const iou = o.iou as number;
  const elevenPoint = Boolean(o['eleven-point']);
  // A COCO ground truth is scored as written (crowd regions, areas); other formats through the common one.
  const gt = format === 'coco' ? (JSON.parse(fs.readFileSync(data, 'utf8')) as CocoGroundTruth) : toCocoGt(dataset);

  let detectionCount: number;
  let model: string | undefined;
  let voc: VocEvalResult;
  let coco: CocoEvalResult;
  if (scoringSaved) {
    const results = await readPredictions(String(o.predictions), format, dataset, warn);
    detectionCount = results.length;
    voc = vocEvaluate(gt, results, { iouThreshold: iou, elevenPoint, iouConvention: 'continuous' });
    coco = cocoEvaluate(gt, results);
  } else {
    const missing = dataset.images.find((im) => !fs.existsSync(im.file));
    if (missing) throw new UsageError(`val: image ${missing.file} not found (give saved results with --predictions to score without images)`);
    if (o.backend) await setBackend(String(o.backend), { threads: o.threads as number | undefined });
    else await ready();
    const detector = await resolveModel(o.model as string | undefined, resolveOptionsFrom(o));
    try {
      applyEngineOption(detector, o.engine);
      model = detector.spec.name;
      const r = await evaluate(detector, dataset, {
        iouThreshold: iou,
        elevenPoint,
        coco: true,
        scoreThreshold: o.score as number,
        nmsIouThreshold: o['nms-iou'] as number | undefined,
        batchSize: o.batch as number,
        classMap: classMapByName(detector.spec.classNames, dataset.classNames),
        progress: !o.json,
        label: 'val',
      });
      voc = r.voc;
      coco = r.coco!;
      detectionCount = r.detections.length;
    } finally {
      detector.dispose();
    }
  }
  for (const w of warnings.slice(0, 20)) console.error(`warning: ${w}`);
  if (warnings.length > 20) console.error(`warning: ... ${warnings.length - 20} more`);

  if (o.json) {
    console.log(
      JSON.stringify(
        {
          model: model ?? null,
          data,
          format,
          images: dataset.images.length,
          detections: detectionCount,
          coco: { stats: coco.stats, AP: coco.AP, perClass: coco.perClass },
          voc: { iouThreshold: iou, elevenPoint, mAP: voc.mAP, perClass: voc.perClass },
          warnings: warnings.length,
        },
        null,
        1,
      ),
    );
  } else {
    console.log(`${model ? `model ${model}, ` : ''}${dataset.images.length} images (${format}), ${detectionCount} detections\n`);
    console.log(summarise(voc, coco, iou, elevenPoint));
  }
  return 0;
}
