/**
 * `rfsong({numClasses})`: the RFSong-7993 detector (songwsx/RFSong-7993, an RFBNet300-style
 * light SSD: `build_net('test', 300, num_classes)`), random init. Outputs: the six loc convs,
 * then the six conf convs (raw logits, NHWC), as the spec's SSD head reads them.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../detector';
import { ModelSpec, SsdHeadSpec } from '../../spec';
import { rfsongBackbone } from './backbone';
import { multiboxHeads } from './multiboxHeads';
import { rfsongSpec } from './rfsongSpec';

/** Options of {@link rfsong}. */
export interface RfsongOptions {
  /** Object classes, background not counted (upstream's num_classes - 1). Default 1 (person). */
  numClasses?: number;
  /** Class names; their count wins over `numClasses`. Default `['person']` for one class. */
  classNames?: string[];
  /** Only 300 (RFBNet300: the priors are laid out for it). */
  inputSize?: number;
}

function resolveClassNames(o: RfsongOptions): string[] {
  if (o.classNames) {
    if (o.classNames.length === 0) throw new Error('rfsong: classNames is empty');
    if (o.numClasses !== undefined && o.numClasses !== o.classNames.length) {
      throw new Error(`rfsong: numClasses ${o.numClasses} but ${o.classNames.length} class names`);
    }
    return o.classNames.slice();
  }
  const n = o.numClasses ?? 1;
  if (!(Number.isInteger(n) && n >= 1 && n <= 10000)) throw new Error(`rfsong: numClasses must be an integer in [1, 10000], got ${n}`);
  return n === 1 ? ['person'] : Array.from({ length: n }, (_, i) => `class${i}`);
}

/** The LayersModel and spec of an RFSong detector (random init). */
export function rfsongModel(opts: RfsongOptions = {}): { model: tf.LayersModel; spec: ModelSpec } {
  if (opts.inputSize !== undefined && opts.inputSize !== 300) {
    throw new Error(`rfsong: input size ${opts.inputSize} is not supported; RFBNet300's priors are laid out for 300`);
  }
  const spec = rfsongSpec(resolveClassNames(opts));
  const head = spec.heads[0] as SsdHeadSpec;
  const [h, w] = spec.input.size;
  const input = tf.input({ shape: [h, w, 3], name: 'input' });
  const sources = rfsongBackbone(input);
  sources.forEach((s, k) => {
    const f = head.priors.featureMaps[k];
    if (s.shape[1] !== f || s.shape[2] !== f) throw new Error(`rfsong: source map ${k} is ${s.shape[1]}x${s.shape[2]}, the priors expect ${f}x${f}`);
  });
  const { loc, conf } = multiboxHeads(sources, head.priors.shapes.map((s) => s.length), spec.classNames.length);
  const model = tf.model({ inputs: input, outputs: [...loc, ...conf], name: 'rfsong' });
  return { model, spec };
}

/** An RFSong {@link Detector} with random weights. */
export function rfsong(opts: RfsongOptions = {}): Detector {
  const { model, spec } = rfsongModel(opts);
  return new Detector(model, spec);
}
