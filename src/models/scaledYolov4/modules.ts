/**
 * The module table of the YAML models: one entry per `module` name a `[from, number, module,
 * args]` row may use, saying how upstream's `parse_model` turns the row's arguments into the
 * module's constructor arguments and output channels, and which block it builds. YOLOv5's
 * modules (Focus, C3, SPP, SPPF) are added as further entries.
 */
import * as tf from '@tensorflow/tfjs';
import { YamlValue } from './parseModelYaml';
import {
  Block,
  BuildEnv,
  ParamEntry,
  bottleneck,
  bottleneckCSP,
  bottleneckCSP2,
  conv2dBlock,
  convBnAct,
  sequence,
  sppCSP,
} from './blocks';

type Sym = tf.SymbolicTensor;

/** What a row's module gets from `parse_model`. */
export interface ModuleRow {
  /** Module path of the layer, `model.<i>`. */
  path: string;
  /** Arguments after name evaluation (`nc`, `anchors`, `None`, `True`, `False`). */
  args: YamlValue[];
  /** Repeat count after the depth multiple. */
  n: number;
  /** Output channels of the layers in `from`, in order. */
  inChannels: number[];
  /** Channel count after the width multiple: `make_divisible(c * width_multiple, 8)`. */
  width(c: number): number;
  nc: number;
}

/** A resolved layer: output channels, stride change, state-dict entries and forward. */
export interface ResolvedModule {
  /** Constructor arguments as upstream prints them (`[c1, c2, n, ...]`). */
  args: unknown[];
  outChannels: number;
  /** Output stride / input stride (2 for a stride-2 conv, 0.5 for a x2 upsample). */
  strideFactor: number;
  params: ParamEntry[];
  apply(xs: Sym[], env: BuildEnv): Sym | Sym[];
  /** For the detection module: anchors per level `[w, h]` in input pixels. */
  detect?: { anchors: [number, number][][]; nc: number };
}

/** One entry of the table. */
export interface ModuleDef {
  /** Class path upstream prints and pickles, e.g. `models.common.Conv`. */
  className: string;
  resolve(row: ModuleRow): ResolvedModule;
}

function int(v: YamlValue | undefined, what: string, row: ModuleRow, dflt?: number): number {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw new Error(`${row.path}: ${what} is missing`);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1 << 20) {
    throw new Error(`${row.path}: ${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function num(v: YamlValue | undefined, what: string, row: ModuleRow, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${row.path}: ${what} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: YamlValue | undefined, what: string, row: ModuleRow, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${row.path}: ${what} must be True or False, got ${JSON.stringify(v)}`);
  return v;
}

function groupsOne(v: YamlValue | undefined, row: ModuleRow): void {
  if (v !== undefined && v !== null && v !== 1) throw new Error(`${row.path}: grouped convolutions (g=${JSON.stringify(v)}) are not supported`);
}

function single(row: ModuleRow): number {
  if (row.inChannels.length !== 1) throw new Error(`${row.path}: takes one input, 'from' names ${row.inChannels.length}`);
  return row.inChannels[0];
}

/** Upstream repeats a non-CSP module n times in an nn.Sequential (`path.0`, `path.1`, ...). */
function repeated(row: ModuleRow, make: (path: string) => Block): Block {
  if (row.n <= 1) return make(row.path);
  return sequence(...Array.from({ length: row.n }, (_, j) => make(`${row.path}.${j}`)));
}

function fromBlock(block: Block): (xs: Sym[], env: BuildEnv) => Sym {
  return (xs, env) => block.apply(xs[0], env);
}

/** Modules whose first argument is the output channel count (scaled by the width multiple). */
function channelModule(
  className: string,
  build: (row: ModuleRow, c1: number, c2: number, rest: YamlValue[]) => { block: Block; args: unknown[]; stride?: number },
): ModuleDef {
  return {
    className,
    resolve(row) {
      const c1 = single(row);
      const c2 = row.width(int(row.args[0], 'output channels', row));
      if (c2 < 1) throw new Error(`${row.path}: output channels must be positive`);
      const { block, args, stride } = build(row, c1, c2, row.args.slice(1));
      return { args, outChannels: c2, strideFactor: stride ?? 1, params: block.params, apply: fromBlock(block) };
    },
  };
}

/** `Conv` args `[c2, k=1, s=1, p=None, g=1, act=True]`. */
const conv = channelModule('models.common.Conv', (row, c1, c2, rest) => {
  const k = int(rest[0], 'kernel', row, 1);
  const s = int(rest[1], 'stride', row, 1);
  const p = rest[2] === undefined || rest[2] === null ? null : int(rest[2], 'padding', row);
  groupsOne(rest[3], row);
  const act = bool(rest[4], 'act', row, true);
  if (k < 1 || s < 1) throw new Error(`${row.path}: kernel and stride must be >= 1`);
  if (row.n > 1 && c1 !== c2) throw new Error(`${row.path}: a repeated Conv needs equal in/out channels`);
  return { block: repeated(row, (path) => convBnAct(path, c1, c2, k, s, p, act)), args: [c1, c2, k, s], stride: s ** row.n };
});

/** `Bottleneck` args `[c2, shortcut=True, g=1, e=0.5]`. */
const bottleneckDef = channelModule('models.common.Bottleneck', (row, c1, c2, rest) => {
  const shortcut = bool(rest[0], 'shortcut', row, true);
  groupsOne(rest[1], row);
  const e = num(rest[2], 'expansion', row, 0.5);
  return { block: repeated(row, (path) => bottleneck(path, c1, c2, shortcut, e)), args: [c1, c2] };
});

/** CSP modules take the repeat count as their third constructor argument (n = 1 layer). */
const bottleneckCSPDef = channelModule('models.common.BottleneckCSP', (row, c1, c2, rest) => {
  const shortcut = bool(rest[0], 'shortcut', row, true);
  groupsOne(rest[1], row);
  const e = num(rest[2], 'expansion', row, 0.5);
  return { block: bottleneckCSP(row.path, c1, c2, row.n, shortcut, e), args: [c1, c2, row.n] };
});

const bottleneckCSP2Def = channelModule('models.common.BottleneckCSP2', (row, c1, c2, rest) => {
  const shortcut = bool(rest[0], 'shortcut', row, false);
  groupsOne(rest[1], row);
  return { block: bottleneckCSP2(row.path, c1, c2, row.n, shortcut), args: [c1, c2, row.n] };
});

const sppCSPDef = channelModule('models.common.SPPCSP', (row, c1, c2, rest) => {
  groupsOne(rest[1], row);
  const e = num(rest[2], 'expansion', row, 0.5);
  const kRaw = rest[3] ?? [5, 9, 13];
  if (!Array.isArray(kRaw) || kRaw.length === 0) throw new Error(`${row.path}: pool sizes must be a list`);
  const k = kRaw.map((v) => int(v, 'pool size', row));
  if (k.some((v) => v % 2 !== 1)) throw new Error(`${row.path}: pool sizes must be odd`);
  return { block: sppCSP(row.path, c1, c2, e, k), args: [c1, c2, row.n] };
});

/** `nn.Upsample` args `[size=None, scale_factor, mode='nearest']`. */
const upsample: ModuleDef = {
  className: 'torch.nn.modules.upsampling.Upsample',
  resolve(row) {
    const c = single(row);
    if (row.args[0] !== null && row.args[0] !== undefined) throw new Error(`${row.path}: Upsample with a fixed size is not supported (use scale_factor)`);
    const scale = int(row.args[1], 'scale_factor', row);
    const mode = row.args[2] ?? 'nearest';
    if (mode !== 'nearest') throw new Error(`${row.path}: Upsample mode '${String(mode)}' is not supported (nearest only)`);
    if (scale < 1) throw new Error(`${row.path}: scale_factor must be >= 1`);
    return {
      args: row.args,
      outChannels: c,
      strideFactor: 1 / scale,
      params: [],
      apply: (xs) => tf.layers.upSampling2d({ size: [scale, scale], interpolation: 'nearest', name: row.path }).apply(xs[0]) as Sym,
    };
  },
};

/** `Concat` args `[dimension=1]` (the channel axis). */
const concatDef: ModuleDef = {
  className: 'models.common.Concat',
  resolve(row) {
    const d = row.args[0] ?? 1;
    if (d !== 1) throw new Error(`${row.path}: Concat along dimension ${JSON.stringify(d)} is not supported (channels, 1, only)`);
    if (row.inChannels.length < 2) throw new Error(`${row.path}: Concat needs at least two inputs`);
    return {
      args: [1],
      outChannels: row.inChannels.reduce((a, b) => a + b, 0),
      strideFactor: 1,
      params: [],
      apply: (xs) => tf.layers.concatenate({ axis: -1, name: row.path }).apply(xs) as Sym,
    };
  },
};

/** `Detect` args `[nc, anchors]`: one 1x1 conv (with bias) per level, outputs na*(nc+5) channels. */
const detect: ModuleDef = {
  className: 'models.yolo.Detect',
  resolve(row) {
    const nc = int(row.args[0], 'nc', row);
    if (nc < 1) throw new Error(`${row.path}: nc must be >= 1`);
    const raw = row.args[1];
    if (!Array.isArray(raw) || raw.length === 0) throw new Error(`${row.path}: anchors must be a list of per-level [w, h, w, h, ...] lists`);
    const anchors = raw.map((level, l) => {
      if (!Array.isArray(level) || level.length === 0 || level.length % 2 !== 0) {
        throw new Error(`${row.path}: anchors of level ${l} must be an even-length list of numbers`);
      }
      const pairs: [number, number][] = [];
      for (let j = 0; j < level.length; j += 2) {
        const w = level[j];
        const h = level[j + 1];
        if (typeof w !== 'number' || typeof h !== 'number' || !(w > 0 && h > 0 && Number.isFinite(w) && Number.isFinite(h))) {
          throw new Error(`${row.path}: anchors of level ${l} must be positive numbers`);
        }
        pairs.push([w, h]);
      }
      return pairs;
    });
    const na = anchors[0].length;
    if (anchors.some((a) => a.length !== na)) throw new Error(`${row.path}: every level needs the same anchor count`);
    if (row.inChannels.length !== anchors.length) {
      throw new Error(`${row.path}: Detect has ${anchors.length} anchor levels but 'from' names ${row.inChannels.length} layers`);
    }
    const no = na * (nc + 5);
    const convs = row.inChannels.map((c, l) => conv2dBlock(`${row.path}.m.${l}`, c, no, 1, 1, 0, true));
    const params: ParamEntry[] = [
      { key: `${row.path}.anchors`, shape: [anchors.length, na, 2], buffer: true, target: null },
      { key: `${row.path}.anchor_grid`, shape: [anchors.length, 1, na, 1, 1, 2], buffer: true, target: null },
      ...convs.flatMap((b) => b.params),
    ];
    return {
      args: [nc, raw, row.inChannels],
      outChannels: no,
      strideFactor: 1,
      params,
      apply: (xs, env) => convs.map((b, l) => b.apply(xs[l], env)),
      detect: { anchors, nc },
    };
  },
};

/** The table: YAML module name -> definition (`nn.Upsample` is how the files spell it). */
export const YAML_MODULES: Readonly<Record<string, ModuleDef>> = {
  Conv: conv,
  Bottleneck: bottleneckDef,
  BottleneckCSP: bottleneckCSPDef,
  BottleneckCSP2: bottleneckCSP2Def,
  SPPCSP: sppCSPDef,
  'nn.Upsample': upsample,
  Concat: concatDef,
  Detect: detect,
};

/** The module definition of a row's module name; unknown names are an error listing the known ones. */
export function moduleDef(name: unknown, path: string): ModuleDef {
  const def = typeof name === 'string' && Object.prototype.hasOwnProperty.call(YAML_MODULES, name) ? YAML_MODULES[name] : undefined;
  if (!def) throw new Error(`${path}: unknown module '${String(name)}' (known: ${Object.keys(YAML_MODULES).join(', ')})`);
  return def;
}
