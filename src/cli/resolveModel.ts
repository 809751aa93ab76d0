/**
 * Turn the CLI's `--model` value into a Detector: a Darknet `.cfg` (with `--weights`: a Darknet
 * `.weights`, or a PyTorch `.pt`/`.pth` of the cfg-defined Darknet), a PyTorch
 * `.pth`/`.safetensors` (with `--arch`), a converted model folder, or a registry name; without
 * `--model`, the embedded model (Yolo-Fastest 1.1 COCO, no file or download needed).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Detector } from '../detector';
import { OptionDef, ParsedArgs, UsageError } from './args';
import { FAMILIES, modelBuilders, pytorchArchsHelp, pytorchPorts, pytorchPortsHelp } from '../models/families';


export interface ResolveOptions {
  weights?: string;
  arch?: string;
  classNames?: string[];
  inputSize?: number;
  /** Class names for a model built from scratch (a builder name); default `classNames`. */
  builderClassNames?: string[];
  /** `--port`: the PyTorch port of a .cfg + .pt model (its box decode). */
  port?: string;
}

/** `--port`: which PyTorch port trained a .cfg + .pt model (`loadPytorch('darknet')`'s `port`). */
export const PORT_OPTION: OptionDef = {
  name: 'port',
  type: 'string',
  description: `PyTorch port of a .cfg + .pt model, which fixes its box decode: ${pytorchPortsHelp()}`,
};

const PORTS = pytorchPorts();

/** `--arch`: the architecture of a `.pth` model; the list comes from the families table. */
export const ARCH_OPTION: OptionDef = { name: 'arch', type: 'string', description: `architecture of a .pth model (${pytorchArchsHelp()})` };

/** One example architecture per family that reads PyTorch weights (for error messages). */
const ARCH_EXAMPLES = FAMILIES.flatMap((f) => f.pytorchArchs?.slice(0, 1) ?? []).join(', ');

/** The options of every command that loads a model: where its weights and classes come from. */
export const MODEL_SOURCE_OPTIONS: OptionDef[] = [
  { name: 'weights', alias: 'w', type: 'string', description: 'weights of a .cfg model: Darknet .weights, or a PyTorch .pt/.pth of the cfg-defined Darknet' },
  ARCH_OPTION,
  { name: 'names', type: 'string', description: 'class names file (one per line)' },
  { name: 'size', type: 'number', description: 'network input size override', min: 32, max: 4096, integer: true },
  PORT_OPTION,
];

/** `--engine`: which code runs inference (see `Detector.engine`), or `layers` for model.predict. */
export const ENGINE_OPTION: OptionDef = {
  name: 'engine',
  type: 'string',
  description: 'inference engine: auto (default) | wasm-kernels | tfjs | layers',
};

const ENGINES = ['auto', 'wasm-kernels', 'tfjs', 'layers'];

/** Apply `--engine` to a detector; returns a one-line description of what will run. */
export function applyEngineOption(detector: Detector, engine: unknown): string {
  if (engine !== undefined) {
    const e = String(engine);
    if (!ENGINES.includes(e)) throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}, got '${e}'`);
    if (e === 'layers') detector.fastInference = false;
    else detector.engine = e as Detector['engine'];
  }
  const info = detector.inferenceInfo();
  return `${info.engine}${info.engine === 'wasm-kernels' ? ` (${info.threads} thread${info.threads > 1 ? 's' : ''})` : ''}`;
}

/** `ResolveOptions` from options parsed with {@link MODEL_SOURCE_OPTIONS}. */
export function resolveOptionsFrom(o: ParsedArgs['options']): ResolveOptions {
  return {
    weights: o.weights as string | undefined,
    arch: o.arch as string | undefined,
    classNames: o.names ? readClassNames(String(o.names)) : undefined,
    inputSize: o.size as number | undefined,
    port: o.port as string | undefined,
  };
}

/** `--model` of the commands that load a model (none = the embedded model). */
export const MODEL_OPTION: OptionDef = {
  name: 'model',
  alias: 'm',
  type: 'string',
  description: 'registry name, model folder, .cfg (+ --weights) or .pth (+ --arch); default: the embedded yolo-fastest-1.1 (COCO)',
};

export async function resolveModel(model: string | undefined, o: ResolveOptions = {}): Promise<Detector> {
  if (model === undefined) {
    if (o.weights || o.arch || o.classNames) throw new UsageError('--weights, --arch and --names need --model (a .cfg or .pth file)');
    const { loadEmbeddedModel } = await import('../registry/embeddedModel');
    return loadEmbeddedModel({ inputSize: o.inputSize });
  }
  const m = model;
  if (m.endsWith('.cfg')) {
    if (!fs.existsSync(m)) throw new UsageError(`cfg file not found: ${m}`);
    if (!o.weights) throw new UsageError(`--model ${m} is a Darknet cfg: give its weights with --weights <file.weights>`);
    if (!fs.existsSync(o.weights)) throw new UsageError(`weights file not found: ${o.weights}`);
    if (isPytorchFile(o.weights)) {
      // a PyTorch checkpoint of the cfg-defined Darknet (ScaledYOLOv4's yolov4-csp, ultralytics' cfg era)
      if (o.port !== undefined && !PORTS.includes(o.port)) throw new UsageError(`--port must be one of ${PORTS.join(', ')}, got '${o.port}'`);
      const { loadPytorch } = await import('../models/loadPytorch');
      return loadPytorch('darknet', fs.readFileSync(o.weights), { cfg: fs.readFileSync(m, 'utf8'), classNames: o.classNames, inputSize: o.inputSize, port: o.port });
    }
    if (o.port !== undefined) throw new UsageError('--port applies to a .cfg model with PyTorch weights (--weights <file.pt>)');
    const { loadDarknet } = await import('../models/darknet/loadDarknet');
    return loadDarknet(fs.readFileSync(m, 'utf8'), fs.readFileSync(o.weights), {
      classNames: o.classNames,
      inputSize: o.inputSize,
      name: path.basename(m, '.cfg'),
    });
  }
  if (isPytorchFile(m)) {
    if (!fs.existsSync(m)) throw new UsageError(`weights file not found: ${m}`);
    if (!o.arch) throw new UsageError(`--model ${m} is a PyTorch file: say which architecture with --arch (e.g. ${ARCH_EXAMPLES})`);
    if (o.arch === 'darknet') throw new UsageError(`a cfg-defined Darknet checkpoint needs its cfg: --model <file.cfg> --weights ${m}`);
    const { loadPytorch } = await import('../models/loadPytorch');
    return loadPytorch(o.arch, fs.readFileSync(m), { classNames: o.classNames, inputSize: o.inputSize });
  }
  const builders = modelBuilders();
  if (Object.prototype.hasOwnProperty.call(builders, m)) {
    // a builder name: a new model with random weights (training from scratch)
    return builders[m]({ classNames: o.builderClassNames ?? o.classNames, inputSize: o.inputSize });
  }
  const { load } = await import('../registry/load');
  return load(m);
}

/** A PyTorch weights file by its name (`.pt`, `.pth`, `.safetensors`). */
export function isPytorchFile(file: string): boolean {
  return /\.(pth|pt|safetensors)$/i.test(file);
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
