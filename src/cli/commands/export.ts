/**
 * `yolo-tfjs export <model> --onnx out.onnx`: write a model as ONNX (opset 13) with our own
 * writer. The ONNX model takes the same NHWC `[N, H, W, 3]` preprocessed input as
 * `Detector.predict` and returns the same raw outputs (`output0`, `output1`, ...).
 */
import * as fs from 'fs';
import { OptionDef, parseArgs, usage, UsageError } from '../args';
import { resolveModel, resolveOptionsFrom, MODEL_SOURCE_OPTIONS } from '../resolveModel';
import { ready } from '../../backend';

export const exportOptions: OptionDef[] = [
  { name: 'onnx', type: 'string', description: 'write an ONNX model to this file' },
  ...MODEL_SOURCE_OPTIONS,
  { name: 'json', type: 'boolean', description: 'print a JSON summary' },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
];

const SYNOPSIS = '<model> --onnx <out.onnx>   (model: registry name, model folder, .cfg with --weights, .pth with --arch)';

export async function run(argv: string[]): Promise<number> {
  const { positionals: p, options: o } = parseArgs(argv, exportOptions);
  if (o.help) {
    console.log(usage('export', SYNOPSIS, exportOptions));
    return 0;
  }
  if (p.length !== 1) throw new UsageError(`usage: yolo-tfjs export ${SYNOPSIS}`);
  if (typeof o.onnx !== 'string' || o.onnx.length === 0) {
    throw new UsageError('export: say where to write with --onnx <out.onnx> (ONNX is the only export format)');
  }
  const out = o.onnx;
  await ready();
  const t0 = Date.now();
  const detector = await resolveModel(p[0], resolveOptionsFrom(o));
  try {
    const { exportOnnx } = await import('../../export/onnx/exportOnnx');
    const bytes = exportOnnx(detector);
    fs.writeFileSync(out, bytes);
    const summary = {
      model: detector.spec.name,
      onnx: out,
      bytes: bytes.length,
      input: ['N', ...detector.spec.input.size, 3],
      outputs: detector.model.outputs.map((t, i) => ({ name: `output${i}`, shape: ['N', ...t.shape.slice(1)] })),
      seconds: (Date.now() - t0) / 1000,
    };
    if (o.json) console.log(JSON.stringify(summary, null, 2));
    else console.log(`exported ${p[0]} -> ${out} (${(bytes.length / 1e6).toFixed(2)} MB, input NHWC [N, ${detector.spec.input.size.join(', ')}, 3])`);
    return 0;
  } finally {
    detector.dispose();
  }
}
