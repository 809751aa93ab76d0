/**
 * EfficientDet's box and class heads (zylo117's `Regressor` / `Classifier`): a tower of
 * `depth` separable convs SHARED across the pyramid levels, each followed by a BN that is
 * SEPARATE per level (`bn_list[level][i]`) and swish, then a shared separable "header" conv
 * (no BN, no activation) with A*k outputs. Each level is reshaped NHWC -> [N, H*W*A, k] and
 * the levels are concatenated (order level -> y -> x -> anchor). The classifier applies a
 * sigmoid at the end; the regressor output (dy, dx, dh, dw) is raw.
 *
 * Shared convs are single tfjs layers applied to every level; layer names are the PyTorch paths
 * (`regressor.conv_list.0`, `regressor.bn_list.2.1`, `classifier.header`, ...).
 */
import * as tf from '@tensorflow/tfjs';
import { Swish } from '../../layers/mish';
import { separableConvLayer, efficientBatchNorm } from '../../layers/separableConvBlock';
import { WeightInit } from '../../layers/weightInit';

/** Options of {@link efficientDetHead}. */
export interface EfficientDetHeadOptions {
  /** Feature width C (the BiFPN width). */
  channels: number;
  /** Number of shared separable convs before the header (zylo117 `box_class_repeats`). */
  depth: number;
  /** Anchors per location (default 9). */
  numAnchors?: number;
  /** Values per anchor: 4 for the regressor, the class count for the classifier. */
  outputsPerAnchor: number;
  /** Final activation: none (regressor) or sigmoid (classifier). */
  activation: 'linear' | 'sigmoid';
  /** Name prefix (`regressor` or `classifier`). */
  name: string;
  /** Kernel initialisation (default 'random'). */
  init?: WeightInit;
}

/** Build one head over the pyramid `features` (P3..P7); returns `[N, sum(H*W)*A, outputsPerAnchor]`. */
export function efficientDetHead(features: tf.SymbolicTensor[], o: EfficientDetHeadOptions): tf.SymbolicTensor {
  const A = o.numAnchors ?? 9;
  const k = o.outputsPerAnchor;
  const n = o.name;
  for (const [key, v] of [['channels', o.channels], ['depth', o.depth], ['numAnchors', A], ['outputsPerAnchor', k]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`efficientDetHead '${n}': ${key} must be an integer >= 1, got ${v}`);
  }
  if (features.length < 1) throw new Error(`efficientDetHead '${n}': needs at least one feature map`);
  const convs = Array.from({ length: o.depth }, (_, i) => separableConvLayer(`${n}.conv_list.${i}`, o.channels, o.init));
  const header = separableConvLayer(`${n}.header`, A * k, o.init);
  const perLevel = features.map((f, level) => {
    const [, h, w, c] = f.shape;
    if (c !== o.channels || h == null || w == null) {
      throw new Error(`efficientDetHead '${n}': level ${level} must be [N, H, W, ${o.channels}] with known H, W, got [${f.shape.join(', ')}]`);
    }
    let x = f;
    for (let i = 0; i < o.depth; i++) {
      x = convs[i].apply(x) as tf.SymbolicTensor;
      x = efficientBatchNorm(`${n}.bn_list.${level}.${i}`).apply(x) as tf.SymbolicTensor;
      x = new Swish({ name: `${n}.swish.${level}.${i}` }).apply(x) as tf.SymbolicTensor;
    }
    x = header.apply(x) as tf.SymbolicTensor;
    return tf.layers.reshape({ targetShape: [h * w * A, k], name: `${n}.reshape.${level}` }).apply(x) as tf.SymbolicTensor;
  });
  let out = perLevel.length === 1 ? perLevel[0] : (tf.layers.concatenate({ axis: 1, name: `${n}.concat` }).apply(perLevel) as tf.SymbolicTensor);
  if (o.activation === 'sigmoid') out = tf.layers.activation({ activation: 'sigmoid', name: `${n}.sigmoid` }).apply(out) as tf.SymbolicTensor;
  return out;
}

/** zylo117 `Regressor`: `[N, K, 4]` raw (dy, dx, dh, dw). */
export function efficientDetRegressor(
  features: tf.SymbolicTensor[],
  o: { channels: number; depth: number; numAnchors?: number; name?: string; init?: WeightInit },
): tf.SymbolicTensor {
  return efficientDetHead(features, { ...o, outputsPerAnchor: 4, activation: 'linear', name: o.name ?? 'regressor' });
}

/** zylo117 `Classifier`: `[N, K, numClasses]` sigmoid probabilities. */
export function efficientDetClassifier(
  features: tf.SymbolicTensor[],
  o: { channels: number; depth: number; numClasses: number; numAnchors?: number; name?: string; init?: WeightInit },
): tf.SymbolicTensor {
  return efficientDetHead(features, { ...o, outputsPerAnchor: o.numClasses, activation: 'sigmoid', name: o.name ?? 'classifier' });
}
