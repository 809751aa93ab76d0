/**
 * `yolo-tfjs convert`: Darknet cfg + weights, or a PyTorch .pth with --arch, into a tfjs model
 * folder (model.json + weights.bin + spec.json) that `load(dir)` reads back.
 */
import * as fs from 'fs';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { resolveModel, readClassNames } from '../resolveModel';
import { ready } from '../../backend';

export const convertOptions: OptionDef[] = [
  { name: 'arch', type: 'string', description: 'architecture of a .pth file (yolo-fastestv2, efficientdet-d0..d7)' },
  { name: 'names', type: 'string', description: 'class names file (one per line)' },
  { name: 'size', type: 'number', description: 'network input size override (Darknet cfg)' },
  { name: 'json', type: 'boolean', description: 'print a JSON summary' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

const SYNOPSIS = '<model.cfg> <model.weights> <outdir> | <model.pth> <outdir> --arch <arch>';

export async function run(argv: string[]): Promise<number> {
  const { positionals: p, options: o } = parseArgs(argv, convertOptions);
  if (o.help) {
    console.log(usage('convert', SYNOPSIS, convertOptions));
    return 0;
  }
  let model: string;
  let weights: string | undefined;
  let outDir: string;
  if (p.length === 3 && p[0].endsWith('.cfg')) [model, weights, outDir] = p;
  else if (p.length === 2 && /\.(pth|pt|safetensors)$/.test(p[0])) [model, outDir] = p;
  else throw new UsageError(`usage: yolo-tfjs convert ${SYNOPSIS}`);
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0 && !fs.existsSync(`${outDir}/model.json`)) {
    throw new UsageError(`output folder ${outDir} exists and is not a model folder; choose an empty or new folder`);
  }
  await ready();
  const t0 = Date.now();
  const detector = await resolveModel(model, {
    weights,
    arch: o.arch as string | undefined,
    classNames: o.names ? readClassNames(String(o.names)) : undefined,
    inputSize: o.size as number | undefined,
  });
  try {
    const { saveDetector } = await import('../../io/saveDetector');
    await saveDetector(detector, outDir);
    const summary = {
      model: detector.spec.name,
      outDir,
      inputSize: detector.spec.input.size,
      classes: detector.spec.classNames.length,
      parameters: detector.model.countParams(),
      seconds: (Date.now() - t0) / 1000,
    };
    if (o.json) console.log(JSON.stringify(summary, null, 2));
    else console.log(`converted ${model} -> ${outDir} (${summary.parameters.toLocaleString('en-US')} parameters, ${summary.seconds.toFixed(1)} s)`);
    return 0;
  } finally {
    detector.dispose();
  }
}
