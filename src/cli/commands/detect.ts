/**
 * `yolo-tfjs detect <image...>`: run a detector on images, print a table or JSON, optionally
 * draw the boxes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { resolveModel, resolveOptionsFrom, MODEL_SOURCE_OPTIONS, DEFAULT_MODEL, ENGINE_OPTION, applyEngineOption } from '../resolveModel';
import { drawDetections } from '../../draw/drawDetections';
import { Detection } from '../../detection';
import { ready, setBackend, backendInfo } from '../../backend';

export const detectOptions: OptionDef[] = [
  { name: 'model', alias: 'm', type: 'string', description: 'registry name, model folder, .cfg (+ --weights) or .pth (+ --arch)', default: DEFAULT_MODEL },
  ...MODEL_SOURCE_OPTIONS,
  { name: 'score', type: 'number', description: 'score threshold (default: the model\'s)' },
  { name: 'iou', type: 'number', description: 'NMS IoU threshold (default: the model\'s)' },
  { name: 'nms', type: 'string', description: 'NMS kind: iou | diou | soft (default: the model\'s)' },
  { name: 'agnostic', type: 'boolean', description: 'class-agnostic NMS' },
  { name: 'max', type: 'number', description: 'max detections per image (0 = unlimited)' },
  { name: 'letterbox', type: 'boolean', description: 'force letterbox resize (else the model\'s default)' },
  { name: 'out', alias: 'o', type: 'string', description: 'write the image with boxes drawn (for several images: a folder)' },
  { name: 'json', type: 'boolean', description: 'print JSON instead of a table' },
  { name: 'backend', type: 'string', description: 'tfjs backend: wasm | cpu | tensorflow | ...' },
  { name: 'threads', type: 'number', description: 'wasm threads (default: all cores)' },
  ENGINE_OPTION,
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

export async function run(argv: string[]): Promise<number> {
  const { positionals: images, options: o } = parseArgs(argv, detectOptions);
  if (o.help) {
    console.log(usage('detect', '<image...> [options]', detectOptions));
    return 0;
  }
  if (images.length === 0) throw new UsageError('detect needs at least one image path');
  for (const img of images) {
    if (!fs.existsSync(img)) throw new UsageError(`image file not found: ${img}`);
  }
  if (o.backend) await setBackend(String(o.backend), { threads: o.threads as number | undefined });
  else await ready();
  const detector = await resolveModel(o.model as string, resolveOptionsFrom(o));
  try {
    const engine = applyEngineOption(detector, o.engine);
    const results: { image: string; detections: Detection[]; ms: number }[] = [];
    for (const img of images) {
      const t0 = Date.now();
      const dets = await detector.detect(img, {
        scoreThreshold: o.score as number | undefined,
        iouThreshold: o.iou as number | undefined,
        maxDetections: o.max as number | undefined,
        resize: o.letterbox ? 'letterbox' : undefined,
        nms: {
          ...(o.nms ? { kind: parseNmsKind(String(o.nms)) } : {}),
          ...(o.agnostic ? { perClass: false } : {}),
        },
      });
      results.push({ image: img, detections: dets, ms: Date.now() - t0 });
      if (o.out) {
        const out =
          images.length === 1 && !isDir(String(o.out))
            ? String(o.out)
            : path.join(String(o.out), path.basename(img).replace(/\.[^.]+$/, '') + '_detections.jpg');
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        await drawDetections(img, dets, out);
        if (!o.json) console.error(`wrote ${out}`);
      }
    }
    if (o.json) {
      console.log(JSON.stringify({ model: detector.spec.name, backend: backendInfo(), engine: detector.inferenceInfo(), results }, null, 2));
    } else {
      const info = backendInfo();
      console.error(`model ${detector.spec.name}, engine ${engine}, tfjs backend ${info.name}${info.threads ? ` (${info.threads} threads)` : ''}`);
      for (const r of results) printTable(r.image, r.detections, r.ms);
    }
    return 0;
  } finally {
    detector.dispose();
  }
}

function isDir(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
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
