/**
 * The building blocks of the ScaledYOLOv4 / YOLOv5 YAML models (models/common.py), each as
 * data (its state-dict entries, named by PyTorch module path) plus a function that applies it
 * to a tfjs symbolic tensor. Layers are named by the same module path (`model.2.cv1.conv`), so
 * the key table is `<path>.weight -> layer <path>`.
 *
 * Semantics: `Conv` = Conv2d(k, s, padding k//2, no bias) -> BatchNorm2d -> Mish; BatchNorm eps
 * comes from the checkpoint's modules (0.001 in every upstream model: `initialize_weights`).
 */
import * as tf from '@tensorflow/tfjs';
import { Mish } from '../../layers/mish';
import { torchConv2D, torchMaxPool2D } from '../../layers/torchConv2D';
import { KeyTableEntry, WeightTransform } from '../../weights/assignStateDict';

/** BatchNorm eps of the yolov4-large models (set by `initialize_weights`, stored in the modules). */
export const SCALED_YOLOV4_BN_EPSILON = 0.001;
/** BatchNorm momentum 0.03 of `initialize_weights`, in Keras terms (running = 0.97 running + 0.03 batch). */
const BN_MOMENTUM = 0.97;

/** One state-dict entry of a block. */
export interface ParamEntry {
  /** State-dict key, e.g. `model.2.cv1.conv.weight`. */
  key: string;
  /** Shape in the PyTorch layout. */
  shape: number[];
  /** True for buffers (BN running stats, Detect anchors), false for parameters. */
  buffer: boolean;
  /** Target tfjs weight, or null for buffers the tfjs model does not hold (anchors). */
  target: { layer: string; weight: string; transform: WeightTransform } | null;
}

/** What blocks need while building tfjs layers. */
export interface BuildEnv {
  /** BatchNorm eps of the BN at this module path (default {@link SCALED_YOLOV4_BN_EPSILON}). */
  bnEpsilon(path: string): number;
  kernelInitializer?: 'zeros';
}

/** A block: its state-dict entries and its forward function. */
export interface Block {
  params: ParamEntry[];
  apply(x: tf.SymbolicTensor, env: BuildEnv): tf.SymbolicTensor;
}

type Sym = tf.SymbolicTensor;

/** PyTorch Conv2d (bias optional) as a block at `path`. */
export function conv2dBlock(path: string, c1: number, c2: number, k: number, s: number, p: number, bias: boolean): Block {
  const params: ParamEntry[] = [
    { key: `${path}.weight`, shape: [c2, c1, k, k], buffer: false, target: { layer: path, weight: 'kernel', transform: 'conv2d' } },
  ];
  if (bias) params.push({ key: `${path}.bias`, shape: [c2], buffer: false, target: { layer: path, weight: 'bias', transform: 'identity' } });
  return {
    params,
    apply: (x, env) =>
      torchConv2D({ filters: c2, kernelSize: k, stride: s, padding: p, useBias: bias, name: path, kernelInitializer: env.kernelInitializer })(x),
  };
}

/** PyTorch BatchNorm2d at `path` (eps from the checkpoint). */
export function batchNormBlock(path: string, c: number): Block {
  const entry = (name: string, weight: string, buffer: boolean): ParamEntry => ({
    key: `${path}.${name}`,
    shape: [c],
    buffer,
    target: { layer: path, weight, transform: 'identity' },
  });
  return {
    params: [entry('weight', 'gamma', false), entry('bias', 'beta', false), entry('running_mean', 'moving_mean', true), entry('running_var', 'moving_variance', true)],
    apply: (x, env) =>
      tf.layers
        .batchNormalization({ axis: -1, epsilon: env.bnEpsilon(path), momentum: BN_MOMENTUM, name: path })
        .apply(x) as Sym,
  };
}

/** Mish activation layer at `path` (no weights). */
export function mishBlock(path: string): Block {
  return { params: [], apply: (x) => new Mish({ name: path }).apply(x) as Sym };
}

/** Blocks applied one after another. */
export function sequence(...blocks: Block[]): Block {
  return {
    params: blocks.flatMap((b) => b.params),
    apply: (x, env) => blocks.reduce((y, b) => b.apply(y, env), x),
  };
}

/** `Conv(c1, c2, k, s, p, g=1, act)`: conv (no bias) -> BN -> Mish (or identity). */
export function convBnAct(path: string, c1: number, c2: number, k: number, s: number, p: number | null = null, act = true): Block {
  const pad = p ?? Math.floor(k / 2);
  const parts = [conv2dBlock(`${path}.conv`, c1, c2, k, s, pad, false), batchNormBlock(`${path}.bn`, c2)];
  if (act) parts.push(mishBlock(`${path}.act`));
  return sequence(...parts);
}

/** `Bottleneck(c1, c2, shortcut, g, e)`: 1x1 Conv -> 3x3 Conv, plus the input when `shortcut and c1 == c2`. */
export function bottleneck(path: string, c1: number, c2: number, shortcut: boolean, e: number): Block {
  const c = Math.trunc(c2 * e);
  const body = sequence(convBnAct(`${path}.cv1`, c1, c, 1, 1), convBnAct(`${path}.cv2`, c, c2, 3, 1));
  const add = shortcut && c1 === c2;
  return {
    params: body.params,
    apply: (x, env) => {
      const y = body.apply(x, env);
      return add ? (tf.layers.add({ name: `${path}.add` }).apply([x, y]) as Sym) : y;
    },
  };
}

/** `n` Bottlenecks(c, c, shortcut, e=1.0) in an nn.Sequential at `path` (`path.0`, `path.1`, ...). */
function bottlenecks(path: string, c: number, n: number, shortcut: boolean): Block {
  return sequence(...Array.from({ length: n }, (_, j) => bottleneck(`${path}.${j}`, c, c, shortcut, 1.0)));
}

function concat(name: string, xs: Sym[]): Sym {
  return tf.layers.concatenate({ axis: -1, name }).apply(xs) as Sym;
}

/** BN -> Mish on the concatenation of two branches, then a Conv: the CSP merge. */
function cspMerge(path: string, a: Sym, b: Sym, bn: Block, act: Block, out: Block, env: BuildEnv): Sym {
  return out.apply(act.apply(bn.apply(concat(`${path}.cat`, [a, b]), env), env), env);
}

/** `BottleneckCSP(c1, c2, n, shortcut, g, e)`: y1 = cv3(m(cv1(x))), y2 = cv2(x), cv4(Mish(bn(cat(y1, y2)))). */
export function bottleneckCSP(path: string, c1: number, c2: number, n: number, shortcut: boolean, e: number): Block {
  const c = Math.trunc(c2 * e);
  const cv1 = convBnAct(`${path}.cv1`, c1, c, 1, 1);
  const cv2 = conv2dBlock(`${path}.cv2`, c1, c, 1, 1, 0, false);
  const cv3 = conv2dBlock(`${path}.cv3`, c, c, 1, 1, 0, false);
  const cv4 = convBnAct(`${path}.cv4`, 2 * c, c2, 1, 1);
  const bn = batchNormBlock(`${path}.bn`, 2 * c);
  const act = mishBlock(`${path}.act`);
  const m = bottlenecks(`${path}.m`, c, n, shortcut);
  return {
    params: [cv1, cv2, cv3, cv4, bn, m].flatMap((b) => b.params),
    apply: (x, env) => {
      const y1 = cv3.apply(m.apply(cv1.apply(x, env), env), env);
      const y2 = cv2.apply(x, env);
      return cspMerge(path, y1, y2, bn, act, cv4, env);
    },
  };
}

/** `BottleneckCSP2(c1, c2, n, shortcut=False, g, e)`: x1 = cv1(x); cv3(Mish(bn(cat(m(x1), cv2(x1))))). */
export function bottleneckCSP2(path: string, c1: number, c2: number, n: number, shortcut: boolean): Block {
  const c = Math.trunc(c2);
  const cv1 = convBnAct(`${path}.cv1`, c1, c, 1, 1);
  const cv2 = conv2dBlock(`${path}.cv2`, c, c, 1, 1, 0, false);
  const cv3 = convBnAct(`${path}.cv3`, 2 * c, c2, 1, 1);
  const bn = batchNormBlock(`${path}.bn`, 2 * c);
  const act = mishBlock(`${path}.act`);
  const m = bottlenecks(`${path}.m`, c, n, shortcut);
  return {
    params: [cv1, cv2, cv3, bn, m].flatMap((b) => b.params),
    apply: (x, env) => {
      const x1 = cv1.apply(x, env);
      return cspMerge(path, m.apply(x1, env), cv2.apply(x1, env), bn, act, cv3, env);
    },
  };
}

/**
 * `SPPCSP(c1, c2, n, shortcut, g, e, k=(5, 9, 13))`: x1 = cv4(cv3(cv1(x))); y1 = cv6(cv5(cat(x1,
 * maxpools(x1)))); y2 = cv2(x); cv7(Mish(bn(cat(y1, y2)))). Max pools stride 1, padding k//2.
 */
export function sppCSP(path: string, c1: number, c2: number, e: number, k: number[]): Block {
  const c = Math.trunc(2 * c2 * e);
  const cv1 = convBnAct(`${path}.cv1`, c1, c, 1, 1);
  const cv2 = conv2dBlock(`${path}.cv2`, c1, c, 1, 1, 0, false);
  const cv3 = convBnAct(`${path}.cv3`, c, c, 3, 1);
  const cv4 = convBnAct(`${path}.cv4`, c, c, 1, 1);
  const cv5 = convBnAct(`${path}.cv5`, (k.length + 1) * c, c, 1, 1);
  const cv6 = convBnAct(`${path}.cv6`, c, c, 3, 1);
  const bn = batchNormBlock(`${path}.bn`, 2 * c);
  const act = mishBlock(`${path}.act`);
  const cv7 = convBnAct(`${path}.cv7`, 2 * c, c2, 1, 1);
  return {
    params: [cv1, cv2, cv3, cv4, cv5, cv6, bn, cv7].flatMap((b) => b.params),
    apply: (x, env) => {
      const x1 = cv4.apply(cv3.apply(cv1.apply(x, env), env), env);
      const pools = k.map((size, j) =>
        torchMaxPool2D({ kernelSize: size, stride: 1, padding: Math.floor(size / 2), name: `${path}.m.${j}` })(x1),
      );
      const y1 = cv6.apply(cv5.apply(concat(`${path}.spp`, [x1, ...pools]), env), env);
      return cspMerge(path, y1, cv2.apply(x, env), bn, act, cv7, env);
    },
  };
}
