#!/usr/bin/env node
/**
 * The `yolo-tfjs` command line: detect | convert | bench | eval | anchors | train | export | prune.
 * Errors print one line and exit with code 1 (no stack trace unless YOLO_TFJS_DEBUG is set).
 */
import { UsageError } from './args';

type Command = { run(argv: string[]): Promise<number>; };

const COMMANDS: Record<string, { summary: string; load: () => Command }> = {
  detect: { summary: 'detect objects in images (table, JSON, drawn boxes)', load: () => require('./commands/detect') },
  convert: { summary: 'convert Darknet cfg+weights or a PyTorch .pth to a tfjs model folder', load: () => require('./commands/convert') },
  bench: { summary: 'time a model (median ms and FPS after warm-up)', load: () => require('./commands/bench') },
  eval: { summary: 'COCO / VOC mAP of results against ground truth', load: () => require('./commands/eval') },
  anchors: { summary: 'k-means anchors (1 - IoU distance) for a dataset', load: () => require('./commands/anchors') },
  train: { summary: 'fine-tune a model on a dataset', load: () => require('./commands/train') },
  export: { summary: 'export a model to ONNX', load: () => require('./commands/export') },
  val: { summary: 'mAP of a model on a labelled dataset (COCO 12 stats, VOC mAP@0.5, per class)', load: () => require('./commands/val') },
  prune: { summary: 'channel pruning of a Darknet cfg model by its BatchNorm gammas', load: () => require('./commands/prune') },
};

function help(): string {
  const lines = ['usage: yolo-tfjs <command> [options]   (yolo-tfjs <command> --help for details)', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(help());
    return cmd ? 0 : 1;
  }
  if (cmd === '--version' || cmd === '-v') {
    console.log(require('../../package.json').version);
    return 0;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    console.error(`yolo-tfjs: unknown command '${cmd}'\n\n${help()}`);
    return 1;
  }
  let command: Command;
  try {
    command = entry.load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      console.error(`yolo-tfjs: the '${cmd}' command is not available in this build`);
      return 1;
    }
    throw e;
  }
  return command.run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const err = e as Error;
      if (process.env.YOLO_TFJS_DEBUG) console.error(err);
      const prefix = err instanceof UsageError ? 'yolo-tfjs: ' : 'yolo-tfjs: error: ';
      console.error(prefix + (err?.message ?? String(err)).split('\n')[0]);
      process.exitCode = 1;
    },
  );
}
