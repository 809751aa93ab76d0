/**
 * `yolo-tfjs prune <model.cfg> --weights <w> (--ratio r | --threshold t) --out <dir>
 *  [--mode shortcut|normal] [--size n] [--json]`: channel pruning of a Darknet model by its
 * BatchNorm gammas. Writes <dir>/pruned.cfg, <dir>/pruned.weights (Darknet and `loadDarknet`
 * read them) and <dir>/report.json, and prints the report (params, FLOPs, per-layer channels).
 * Works on the files alone (no tfjs model is built).
 */
import * as fs from 'fs';
import * as path from 'path';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { ProgressBar } from '../../util/progress';

export const pruneOptions: OptionDef[] = [
  { name: 'weights', alias: 'w', type: 'string', description: 'the Darknet .weights of the cfg (after sparsity training)' },
  { name: 'ratio', type: 'number', description: 'fraction of the prunable channels to remove, smallest |gamma| first' },
  { name: 'threshold', type: 'number', description: 'remove the channels whose |gamma| is below this' },
  { name: 'mode', type: 'string', description: 'shortcut (channels joined by [shortcut] pruned together) | normal (kept)', default: 'shortcut' },
  { name: 'size', type: 'number', description: 'input size for the FLOPs (default the cfg width/height)' },
  { name: 'out', alias: 'o', type: 'string', description: 'output folder' },
  { name: 'json', type: 'boolean', description: 'print the report as JSON' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

const SYNOPSIS = '<model.cfg> --weights <model.weights> (--ratio r | --threshold t) --out <dir>';

export async function run(argv: string[]): Promise<number> {
  const { positionals: p, options: o } = parseArgs(argv, pruneOptions);
  if (o.help) {
    console.log(usage('prune', SYNOPSIS, pruneOptions));
    return 0;
  }
  if (p.length !== 1 || !p[0].endsWith('.cfg')) throw new UsageError(`usage: yolo-tfjs prune ${SYNOPSIS}`);
  const cfgFile = p[0];
  if (!fs.existsSync(cfgFile)) throw new UsageError(`cfg file not found: ${cfgFile}`);
  if (!o.weights) throw new UsageError('prune: give the weights with --weights <file.weights>');
  const weightsFile = String(o.weights);
  if (!fs.existsSync(weightsFile)) throw new UsageError(`weights file not found: ${weightsFile}`);
  if ((o.ratio === undefined) === (o.threshold === undefined)) throw new UsageError('prune: give exactly one of --ratio or --threshold');
  const ratio = o.ratio as number | undefined;
  if (ratio !== undefined && !(ratio >= 0 && ratio < 1)) throw new UsageError(`--ratio must be in [0, 1), got ${ratio}`);
  const threshold = o.threshold as number | undefined;
  if (threshold !== undefined && !(threshold >= 0)) throw new UsageError(`--threshold must be >= 0, got ${threshold}`);
  const mode = String(o.mode);
  if (mode !== 'shortcut' && mode !== 'normal') throw new UsageError(`--mode must be shortcut or normal, got '${mode}'`);
  if (!o.out) throw new UsageError('prune: give the output folder with --out <dir>');
  const size = o.size as number | undefined;
  if (size !== undefined && !(Number.isInteger(size) && size > 0)) throw new UsageError(`--size must be a positive integer, got ${size}`);
  const out = String(o.out);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder`);

  const { parseDarknetCfg } = await import('../../weights/parseDarknetCfg');
  const { readDarknetWeights } = await import('../../weights/readDarknetWeights');
  const { writeDarknetWeights } = await import('../../weights/writeDarknetWeights');
  const { pruneDarknet, formatPruneReport } = await import('../../prune/pruneDarknet');
  const bar = new ProgressBar({ total: 3, label: 'prune', logEvery: 1 });
  const cfgText = fs.readFileSync(cfgFile, 'utf8');
  const cfg = parseDarknetCfg(cfgText);
  const { header, tensors } = readDarknetWeights(fs.readFileSync(weightsFile), cfg);
  bar.tick(1, { step: 'read' });
  const result = pruneDarknet(cfgText, tensors, { ratio, threshold, mode, inputSize: size ? [size, size] : undefined });
  bar.tick(1, { step: 'pruned' });
  fs.mkdirSync(out, { recursive: true });
  const files = { cfg: path.join(out, 'pruned.cfg'), weights: path.join(out, 'pruned.weights'), report: path.join(out, 'report.json') };
  fs.writeFileSync(files.cfg, result.cfgText);
  fs.writeFileSync(files.weights, writeDarknetWeights(result.cfg, result.tensors, { seen: header.seen }));
  fs.writeFileSync(files.report, JSON.stringify(result.report, null, 1));
  bar.tick(1, { step: 'written' });
  if (o.json) console.log(JSON.stringify({ ...files, report: result.report }, null, 1));
  else {
    console.log(formatPruneReport(result.report));
    console.log(`\nwrote ${files.cfg}, ${files.weights}, ${files.report}`);
  }
  return 0;
}
