/**
 * Upstream's `parse_model` as data: a model dict (`nc`, `depth_multiple`, `width_multiple`,
 * `anchors`, `backbone`, `head`) becomes a list of resolved layers with their inputs, output
 * channels, strides and state-dict entries. Nothing is allocated: the full-size models'
 * parameter counts and keys come from here without building them.
 *
 * Differences from upstream kept on purpose: `from` always means the referenced layer's output
 * (upstream reads `ch[f]` for the input channels of an int `from` and `ch[x + 1]` for a Concat,
 * off by one for some indices; every published file is unaffected because the two layers have
 * the same width, and any real disagreement shows up here as a shape error against the weights).
 */
import { ParamEntry } from './blocks';
import { ModuleDef, ResolvedModule, moduleDef } from './modules';
import { YamlValue } from './parseModelYaml';

/** A model dict as the YAML file (or the checkpoint's `Model.yaml`) holds it. */
export type ModelDict = Record<string, unknown>;

/** One layer of the plan. */
export interface PlannedLayer {
  index: number;
  /** Absolute indices of the inputs (-1 = the network input). */
  from: number[];
  /** Module name of the row (`Conv`, `nn.Upsample`, ...). */
  module: string;
  def: ModuleDef;
  resolved: ResolvedModule;
  /** Output stride relative to the network input. */
  stride: number;
}

/** The whole model. */
export interface ModelPlan {
  nc: number;
  layers: PlannedLayer[];
  /** The detection layer (last row). */
  detect: PlannedLayer;
  /** Strides of the detection levels (8, 16, 32, ...). */
  strides: number[];
  /** Anchors per level, `[w, h]` input pixels. */
  anchors: [number, number][][];
  /** Every state-dict entry (parameters and buffers), in module order. */
  params: ParamEntry[];
}

const MAX_LAYERS = 1000;

/** Python's round(): half to even. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** `make_divisible(x, divisor)`: ceil to a multiple. */
function makeDivisible(x: number, divisor: number): number {
  return Math.ceil(x / divisor) * divisor;
}

function positive(d: ModelDict, key: string): number {
  const v = d[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new Error(`model dict: '${key}' must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Evaluate the names upstream's `eval(a)` resolves in a row's args. */
function evalArg(a: unknown, nc: number, anchors: unknown): YamlValue {
  if (typeof a !== 'string') return a as YamlValue;
  switch (a) {
    case 'nc':
      return nc;
    case 'anchors':
      return anchors as YamlValue;
    case 'None':
      return null;
    case 'True':
      return true;
    case 'False':
      return false;
    default:
      return a;
  }
}

function rowsOf(d: ModelDict, key: string): unknown[] {
  const v = d[key];
  if (!Array.isArray(v)) throw new Error(`model dict: '${key}' must be a list of [from, number, module, args] rows`);
  return v;
}

/**
 * Resolve a model dict. `ncOverride` replaces `nc` (as `Model(cfg, nc=...)`). Errors name the
 * layer and the problem.
 */
export function planModel(dict: ModelDict, ncOverride?: number): ModelPlan {
  if (typeof dict !== 'object' || dict === null) throw new Error('model dict must be an object');
  const gd = positive(dict, 'depth_multiple');
  const gw = positive(dict, 'width_multiple');
  const nc = ncOverride ?? dict.nc;
  if (typeof nc !== 'number' || !Number.isInteger(nc) || nc < 1 || nc > 100000) {
    throw new Error(`model dict: 'nc' must be a positive integer, got ${JSON.stringify(nc)}`);
  }
  const anchors = dict.anchors;
  if (!Array.isArray(anchors) || anchors.length === 0 || !Array.isArray(anchors[0])) {
    throw new Error(`model dict: 'anchors' must be a list of per-level anchor lists, got ${JSON.stringify(anchors)?.slice(0, 60)}`);
  }
  const na = Math.floor((anchors[0] as unknown[]).length / 2);
  const no = na * (nc + 5);
  const rows = [...rowsOf(dict, 'backbone'), ...rowsOf(dict, 'head')];
  if (rows.length === 0) throw new Error('model dict: no layers');
  if (rows.length > MAX_LAYERS) throw new Error(`model dict: ${rows.length} layers; at most ${MAX_LAYERS} are accepted`);

  const layers: PlannedLayer[] = [];
  const chOut: number[] = [];
  const strideOut: number[] = [];
  rows.forEach((row, i) => {
    const path = `model.${i}`;
    if (!Array.isArray(row) || row.length !== 4) throw new Error(`${path}: a row must be [from, number, module, args], got ${JSON.stringify(row)?.slice(0, 60)}`);
    const [f, nRaw, module, argsRaw] = row;
    const fromList = (Array.isArray(f) ? f : [f]).map((x) => {
      if (typeof x !== 'number' || !Number.isInteger(x)) throw new Error(`${path}: 'from' must be integers, got ${JSON.stringify(f)}`);
      const abs = x < 0 ? i + x : x;
      if (abs < -1 || abs >= i || (x < 0 && abs < 0 && x !== -1)) {
        throw new Error(`${path}: 'from' ${x} refers to no earlier layer`);
      }
      return abs;
    });
    if (typeof nRaw !== 'number' || !Number.isInteger(nRaw) || nRaw < 1 || nRaw > 1000) {
      throw new Error(`${path}: 'number' must be a positive integer, got ${JSON.stringify(nRaw)}`);
    }
    if (!Array.isArray(argsRaw)) throw new Error(`${path}: 'args' must be a list`);
    const n = nRaw > 1 ? Math.max(pyRound(nRaw * gd), 1) : nRaw;
    const def = moduleDef(module, path);
    const inChannels = fromList.map((j) => (j < 0 ? 3 : chOut[j]));
    const resolved = def.resolve({
      path,
      args: argsRaw.map((a) => evalArg(a, nc, anchors)),
      n,
      inChannels,
      width: (c) => (c === no ? c : makeDivisible(c * gw, 8)),
      nc,
    });
    const inStrides = fromList.map((j) => (j < 0 ? 1 : strideOut[j]));
    if (!resolved.detect && inStrides.some((s) => s !== inStrides[0])) {
      throw new Error(`${path}: inputs of different strides (${inStrides.join(', ')}) cannot be combined`);
    }
    const stride = inStrides[0] * resolved.strideFactor;
    layers.push({ index: i, from: fromList, module: String(module), def, resolved, stride });
    chOut.push(resolved.outChannels);
    strideOut.push(stride);
  });
  const detect = layers[layers.length - 1];
  if (!detect.resolved.detect) throw new Error(`model dict: the last layer must be Detect, got '${detect.module}'`);
  for (const l of layers.slice(0, -1)) {
    if (l.resolved.detect) throw new Error(`model.${l.index}: Detect must be the last layer`);
  }
  const strides = detect.from.map((j) => (j < 0 ? 1 : strideOut[j]));
  for (const s of strides) if (!Number.isInteger(s) || s < 1) throw new Error(`model dict: a detection level has stride ${s}`);
  return {
    nc,
    layers,
    detect,
    strides,
    anchors: detect.resolved.detect!.anchors,
    params: layers.flatMap((l) => l.resolved.params),
  };
}

/** Parameter count (trainable tensors, no BN running stats or anchors), as upstream's `model_info`. */
export function planParameterCount(plan: ModelPlan): number {
  return plan.params.filter((p) => !p.buffer).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
}
