/**
 * A planned YAML model as a tfjs LayersModel: input NHWC, outputs the raw detection convs (one
 * per level, `[N, H/s, W/s, na*(nc+5)]`, channel = anchor*(nc+5) + j as upstream's
 * `Detect.m[i]` output before view/permute), layers named by PyTorch module path.
 */
import * as tf from '@tensorflow/tfjs';
import { KeyTableEntry } from '../../weights/assignStateDict';
import { BuildEnv, SCALED_YOLOV4_BN_EPSILON } from './blocks';
import { ModelPlan } from './planModel';

/** Options of {@link buildYamlModel}. */
export interface BuildYamlModelOptions {
  /** Input `[height, width]`; each must be a multiple of the largest stride. */
  inputSize: [number, number];
  /** Model name. */
  name?: string;
  /** BatchNorm eps per BN module path (default 0.001). */
  bnEpsilon?: (path: string) => number;
  /** 'zeros' when weights are assigned right after (much faster than random init). */
  kernelInitializer?: 'zeros';
}

/** Check an input size against the plan's strides. */
export function checkInputSize(plan: ModelPlan, size: [number, number]): void {
  const maxStride = Math.max(...plan.strides);
  for (const s of size) {
    if (!Number.isInteger(s) || s < maxStride || s % maxStride !== 0 || s > 16384) {
      throw new Error(`input size must be a positive multiple of ${maxStride} (the largest stride), got ${JSON.stringify(size)}`);
    }
  }
}

/** Build the LayersModel of a plan. */
export function buildYamlModel(plan: ModelPlan, opts: BuildYamlModelOptions): tf.LayersModel {
  checkInputSize(plan, opts.inputSize);
  const env: BuildEnv = {
    bnEpsilon: opts.bnEpsilon ?? (() => SCALED_YOLOV4_BN_EPSILON),
    kernelInitializer: opts.kernelInitializer,
  };
  const input = tf.input({ shape: [opts.inputSize[0], opts.inputSize[1], 3], name: 'input' });
  const outs: tf.SymbolicTensor[] = [];
  let heads: tf.SymbolicTensor[] = [];
  for (const layer of plan.layers) {
    const xs = layer.from.map((j) => (j < 0 ? input : outs[j]));
    const y = layer.resolved.apply(xs, env);
    if (Array.isArray(y)) {
      heads = y;
      outs.push(y[0]);
    } else {
      outs.push(y);
    }
  }
  return tf.model({ inputs: input, outputs: heads, name: opts.name ?? 'scaled-yolov4' });
}

/** The key table (state-dict key -> tfjs weight) of a plan: every parameter and BN statistic. */
export function yamlKeyTable(plan: ModelPlan): KeyTableEntry[] {
  return plan.params
    .filter((p) => p.target !== null)
    .map((p) => ({ key: p.key, layer: p.target!.layer, weight: p.target!.weight, transform: p.target!.transform }));
}
