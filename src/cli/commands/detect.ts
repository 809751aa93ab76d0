/**
 * `yolo-tfjs detect <image | folder | glob ...>`: run a detector on images in batches, print a
 * table, JSON, JSON lines or COCO results, optionally draw the boxes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { resolveModel, resolveOptionsFrom, MODEL_SOURCE_OPTIONS, MODEL_OPTION, ENGINE_OPTION, applyEngineOption } from '../resolveModel';
import { drawDetections } from '../../draw/drawDetections';
import { Detection } from '../../detection';
import { resolveClassFilter } from '../../select/classFilter';
import { ready, setBackend, backendInfo } from '../../backend';
import { expandImageInputs } from '../imageInputs';
import { ProgressBar } from '../../util/progress';
import { COCO_CLASSES } from '../../spec';
import { COCO80_CATEGORY_IDS, CocoDetection } from '../../eval/cocoFormat';

const FORMATS = ['table', 'json', 'jsonl', 'coco'] as const;
type OutputFormat = (typeof FORMATS)[number];

export const detectOptions: OptionDef[] = [
  MODEL_OPTION,
  ...MODEL_SOURCE_OPTIONS,
  { name: 'score', type: 'number', description: 'score threshold (default: the model\'s)', min: 0, max: 1, maxExclusive: true },
  { name: 'iou', type: 'number', description: 'NMS IoU threshold (default: the model\'s)', min: 0, max: 1 },
  { name: 'nms', type: 'string', description: 'NMS kind: iou | diou | soft (default: the model\'s)' },
  { name: 'agnostic', type: 'boolean', description: 'class-agnostic NMS' },
  { name: 'classes', type: 'string', description: 'keep only these classes: names or ids, comma-separated (e.g. person,car)' },
  { name: 'max-detections', type: 'number', description: 'max detections per image (0 = unlimited; default: the model\'s)', min: 0, max: 100000, integer: true },
  { name: 'max', type: 'number', description: 'same as --max-detections', min: 0, max: 100000, integer: true },
  { name: 'letterbox', type: 'boolean', description: 'force letterbox resize (else the model\'s default)' },
  { name: 'out', alias: 'o', type: 'string', description: 'write the image with boxes drawn (for several images: a folder)' },
  { name: 'json', type: 'boolean', description: 'print JSON instead of a table (same as --format json)' },
  { name: 'format', alias: 'f', type: 'string', description: 'output: table | json | jsonl (a line per image, as it is done) | coco (COCO results array)' },
  { name: 'batch', type: 'number', description: 'images per forward pass (default 1 for one image, 4 for more)', min: 1, max: 256, integer: true },
  { name: 'backend', type: 'string', description: 'tfjs backend: wasm | cpu | tensorflow | ...' },
  { name: 'threads', type: 'number', description: 'wasm threads (default: all cores)', min: 1, max: 256, integer: true },
  ENGINE_OPTION,
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

export async function run(argv: string[]): Promise<number> {
  const { positionals, options: o } = parseArgs(argv, detectOptions);
  if (o.help) {
    console.log(usage('detect', '<image | folder | glob ...> [options]', detectOptions));
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('detect needs at least one image, folder or glob pattern');
  const format = outputFormat(o);
  const images = expandImageInputs(positionals);
  const batch = (o.batch as number | undefined) ?? (images.length > 1 ? 4 : 1);
  if (o.backend) await setBackend(String(o.backend), { threads: o.threads as number | undefined });
  else await ready();
  const classes = o.classes === undefined ? undefined : parseClassList(String(o.classes));
  const maxDetections = oneMaxDetections(o['max-detections'], o.max);
  const detector = await resolveModel(o.model as string | undefined, resolveOptionsFrom(o));
  try {
    if (classes) {
      try {
        resolveClassFilter(detector.spec.classNames, classes);
      } catch (e) {
        throw new UsageError(`--classes: ${(e as Error).message}`);
      }
    }
    const engine = applyEngineOption(detector, o.engine);
    const detectOpts = {
      scoreThreshold: o.score as number | undefined,
      iouThreshold: o.iou as number | undefined,
      maxDetections,
      classes,
      resize: o.letterbox ? ('letterbox' as const) : undefined,
      nms: {
        ...(o.nms ? { kind: parseNmsKind(String(o.nms)) } : {}),
        ...(o.agnostic ? { perClass: false } : {}),
      },
    };
    if (format === 'table') {
      const info = backendInfo();
      console.error(`model ${detector.spec.name}, engine ${engine}, tfjs backend ${info.name}${info.threads ? ` (${info.threads} threads)` : ''}`);
    }
    const bar = new ProgressBar({ total: images.length, label: 'detect', silent: images.length < 2 || format === 'table' });
    const categoryIds = cocoCategoryIds(detector.spec.classNames);
    const results: { image: string; detections: Detection[]; ms: number }[] = [];
    const coco: CocoDetection[] = [];
    for (let i = 0; i < images.length; i += batch) {
      const chunk = images.slice(i, i + batch);
      const t0 = Date.now();
      const dets = chunk.length === 1 ? [await detector.detect(chunk[0], detectOpts)] : await detector.detect(chunk, detectOpts);
      const ms = Math.round((Date.now() - t0) / chunk.length);
      for (let k = 0; k < chunk.length; k++) {
        const r = { image: chunk[k], detections: dets[k], ms };
        if (format === 'table') printTable(r.image, r.detections, r.ms);
        else if (format === 'jsonl') console.log(JSON.stringify(r));
        else if (format === 'coco') coco.push(...toCoco(r.image, i + k, r.detections, categoryIds));
        else results.push(r);
        if (o.out) await drawTo(String(o.out), images.length, r.image, r.detections, format === 'table');
      }
      bar.tick(chunk.length);
    }
    if (format === 'json') {
      console.log(JSON.stringify({ model: detector.spec.name, backend: backendInfo(), engine: detector.inferenceInfo(), results }, null, 2));
    } else if (format === 'coco') {
      console.log(JSON.stringify(coco));
    }
    return 0;
  } finally {
    detector.dispose();
  }
}

function outputFormat(o: Record<string, unknown>): OutputFormat {
  if (o.format === undefined) return o.json ? 'json' : 'table';
  const f = String(o.format);
  if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, got '${f}'`);
  if (o.json && f !== 'json') throw new UsageError(`--json and --format ${f} disagree; give one of them`);
  return f as OutputFormat;
}

async function drawTo(out: string, count: number, image: string, dets: Detection[], announce: boolean): Promise<void> {
  const file = count === 1 && !isDir(out) ? out : path.join(out, path.basename(image).replace(/\.[^.]+$/, '') + '_detections.jpg');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await drawDetections(image, dets, file);
  if (announce) console.error(`wrote ${file}`);
}

/** COCO category ids of the model's classes: the official ids for the 80 COCO classes, else classId + 1. */
function cocoCategoryIds(classNames: string[]): number[] {
  const isCoco80 = classNames.length === COCO_CLASSES.length && classNames.every((n, i) => n === COCO_CLASSES[i]);
  return classNames.map((_, i) => (isCoco80 ? COCO80_CATEGORY_IDS[i] : i + 1));
}

/** A COCO image id from the file name (`000000000139.jpg` -> 139), else the image's 1-based position. */
function cocoImageId(file: string, index: number): number {
  const stem = path.basename(file).replace(/\.[^.]+$/, '');
  return /^\d{1,15}$/.test(stem) ? Number(stem) : index + 1;
}

function toCoco(file: string, index: number, dets: Detection[], categoryIds: number[]): CocoDetection[] {
  const imageId = cocoImageId(file, index);
  const r = (v: number) => Math.round(v * 100) / 100;
  return dets.map((d) => ({
    image_id: imageId,
    category_id: categoryIds[d.classId],
    bbox: [r(d.box[0]), r(d.box[1]), r(d.box[2] - d.box[0]), r(d.box[3] - d.box[1])],
    score: Math.round(d.score * 1e5) / 1e5,
  }));
}

function isDir(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

/** `--classes person,car,2`: names, or ids when all digits. */
function parseClassList(s: string): (string | number)[] {
  const list = s.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (list.length === 0) throw new UsageError('--classes needs class names or ids, e.g. --classes person,car');
  return list.map((c) => (/^\d+$/.test(c) ? Number(c) : c));
}

/** `--max-detections` or its older name `--max` (both checked by the parser: integers >= 0). */
function oneMaxDetections(long: unknown, short: unknown): number | undefined {
  if (long !== undefined && short !== undefined && long !== short) {
    throw new UsageError(`--max-detections ${long} and --max ${short} disagree; give one`);
  }
  return (long ?? short) as number | undefined;
}

function parseNmsKind(s: string): 'iou' | 'diou' | 'soft' {
  if (s === 'iou' || s === 'diou' || s === 'soft') return s;
  throw new UsageError(`--nms must be iou, diou or soft, got '${s}'`);
}

function printTable(image: string, dets: Detection[], ms: number): void {
  console.log(`${image}: ${dets.length} detection${dets.length === 1 ? '' : 's'} (${ms} ms)`);
  if (!dets.length) return;
  const rows = dets.map((d) => [d.label, d.score.toFixed(3), ...d.box.map((v) => v.toFixed(1))]);
  const head = ['label', 'score', 'x1', 'y1', 'x2', 'y2'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}
