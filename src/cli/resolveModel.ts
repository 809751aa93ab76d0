/**
 * Turn the CLI's `--model` value into a Detector: a Darknet `.cfg` (with `--weights`), a PyTorch
 * `.pth`/`.safetensors` (with `--arch`), a converted model folder, or a registry name.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Detector } from '../detector';
import { UsageError } from './args';

export const DEFAULT_MODEL = 'yolo-fastestv2-coco';

export interface ResolveOptions {
  weights?: string;
  arch?: string;
  classNames?: string[];
  inputSize?: number;
}

export async function resolveModel(model: string | undefined, o: ResolveOptions = {}): Promise<Detector> {
  const m = model ?? DEFAULT_MODEL;
  if (m.endsWith('.cfg')) {
    if (!fs.existsSync(m)) throw new UsageError(`cfg file not found: ${m}`);
    if (!o.weights) throw new UsageError(`--model ${m} is a Darknet cfg: give its weights with --weights <file.weights>`);
    if (!fs.existsSync(o.weights)) throw new UsageError(`weights file not found: ${o.weights}`);
    const { loadDarknet } = await import('../models/loadDarknet');
    return loadDarknet(fs.readFileSync(m, 'utf8'), fs.readFileSync(o.weights), {
      classNames: o.classNames,
      inputSize: o.inputSize,
      name: path.basename(m, '.cfg'),
    });
  }
  if (/\.(pth|pt|safetensors)$/.test(m)) {
    if (!fs.existsSync(m)) throw new UsageError(`weights file not found: ${m}`);
    if (!o.arch) throw new UsageError(`--model ${m} is a PyTorch file: say which architecture with --arch (e.g. yolo-fastestv2, efficientdet-d0)`);
    const { loadPytorch } = await import('../weights/loadPytorch');
    return loadPytorch(o.arch, fs.readFileSync(m), { classNames: o.classNames, inputSize: o.inputSize });
  }
  const { load } = await import('../registry/load');
  return load(m);
}

/** Read a class-names file (one per line). */
export function readClassNames(file: string): string[] {
  if (!fs.existsSync(file)) throw new UsageError(`class names file not found: ${file}`);
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
