/**
 * `yolo-tfjs convert`: Darknet cfg + weights, or a PyTorch .pth with --arch, into a tfjs model
 * folder (model.json + weights.bin + spec.json) that `load(dir)` reads back.
 */
import * as fs from 'fs';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { resolveModel, resolveOptionsFrom, MODEL_SOURCE_OPTIONS } from '../resolveModel';
import { ready } from '../../backend';

export const convertOptions: OptionDef[] = [
  ...MODEL_SOURCE_OPTIONS.filter((d) => d.name !== 'weights'), // the weights are a positional here
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
  const detector = await resolveModel(model, { ...resolveOptionsFrom(o), weights });
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
