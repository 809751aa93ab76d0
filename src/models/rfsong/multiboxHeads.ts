/**
 * SSD multibox heads (`multibox` in models/RFB_Net_vgg.py): per source map a 3x3 loc conv
 * (A*4 channels) and a 3x3 conf conv (A*(C+1) channels), both with bias, padding 1. Named
 * `loc.<k>` and `conf.<k>` as upstream's ModuleLists.
 */
import * as tf from '@tensorflow/tfjs';
import { torchConv2D } from '../../layers/torchConv2D';

/** Loc and conf outputs of every source map (NHWC raw conv outputs). */
export interface MultiboxOutputs {
  loc: tf.SymbolicTensor[];
  conf: tf.SymbolicTensor[];
}

/**
 * The heads on `sources`, with `anchors[k]` priors per location of map k and `numClasses`
 * object classes (the conf convs get one more channel per anchor: background).
 */
export function multiboxHeads(sources: tf.SymbolicTensor[], anchors: number[], numClasses: number): MultiboxOutputs {
  if (anchors.length !== sources.length) throw new Error(`multiboxHeads: ${anchors.length} anchor counts for ${sources.length} source maps`);
  const conv = (name: string, filters: number) => torchConv2D({ name, filters, kernelSize: 3, padding: 1, useBias: true });
  return {
    loc: sources.map((s, k) => conv(`loc.${k}`, anchors[k] * 4)(s)),
    conf: sources.map((s, k) => conv(`conf.${k}`, anchors[k] * (numClasses + 1))(s)),
  };
}
