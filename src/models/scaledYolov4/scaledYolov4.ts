/**
 * Scaled-YOLOv4 (yolov4-large) models from their YAML definition: `scaledYolov4({ model })`
 * with a published name (`yolov4-p5`, `yolov4-p6`, `yolov4-p7`), a YAML text or a model dict.
 */
import { Detector } from '../../detector';
import { disposeLayersModel } from '../../layers/disposeLayersModel';
import { LargeModelName, largeModelDict } from './architectures';
import { buildYamlModel } from './buildModel';
import { parseModelYaml } from './parseModelYaml';
import { ModelDict, ModelPlan, planModel } from './planModel';
import { scaledYoloSpec } from './spec';

/** Options of {@link scaledYolov4}. */
export interface ScaledYolov4Options {
  /** `yolov4-p5` (default), `yolov4-p6`, `yolov4-p7`, a model YAML text or a model dict. */
  model?: LargeModelName | string | ModelDict;
  /** Class count (default the model's `nc`, or the class names' count). */
  numClasses?: number;
  classNames?: string[];
  /** Square side or `[height, width]`, multiples of the largest stride. Default: the model's test size. */
  inputSize?: number | [number, number];
  /** Spec name (default the model name, or `scaled-yolov4`). */
  name?: string;
  /** 'zeros' when weights are assigned next (fast); default random (glorot) init. */
  kernelInitializer?: 'zeros';
  /** BatchNorm eps per BN module path (default 0.001). */
  bnEpsilon?: (path: string) => number;
}

/** Test sizes of the published models (README: 896 / 1280 / 1536), by detection level count. */
const DEFAULT_SIZE: Record<number, number> = { 3: 896, 4: 1280, 5: 1536 };

const PUBLISHED: readonly string[] = ['yolov4-p5', 'yolov4-p6', 'yolov4-p7'];

/** The model dict and name an option names. */
export function resolveModelDict(model: ScaledYolov4Options['model']): { dict: ModelDict; name: string } {
  const m = model ?? 'yolov4-p5';
  if (typeof m === 'string') {
    if (PUBLISHED.includes(m)) return { dict: largeModelDict(m as LargeModelName), name: m };
    if (!/[\n:]/.test(m)) throw new Error(`unknown Scaled-YOLOv4 model '${m}' (known: ${PUBLISHED.join(', ')}, or pass a model YAML text)`);
    return { dict: parseModelYaml(m), name: 'scaled-yolov4' };
  }
  if (typeof m !== 'object' || m === null) throw new Error('model must be a name, a YAML text or a model dict');
  return { dict: m, name: 'scaled-yolov4' };
}

/** Resolve the input size option against the plan. */
export function resolveInputSize(plan: ModelPlan, size: number | [number, number] | undefined): [number, number] {
  if (size === undefined) {
    const maxStride = Math.max(...plan.strides);
    const s = DEFAULT_SIZE[plan.strides.length] ?? Math.ceil(640 / maxStride) * maxStride;
    return [s, s];
  }
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/** Build a Detector from a plan (weights random, or zeros with `kernelInitializer`). */
export function detectorFromPlan(plan: ModelPlan, name: string, opts: ScaledYolov4Options): Detector {
  const inputSize = resolveInputSize(plan, opts.inputSize);
  const spec = scaledYoloSpec({ name, inputSize, strides: plan.strides, anchors: plan.anchors, numClasses: plan.nc, classNames: opts.classNames });
  const model = buildYamlModel(plan, { inputSize, name, kernelInitializer: opts.kernelInitializer, bnEpsilon: opts.bnEpsilon });
  try {
    return new Detector(model, spec);
  } catch (e) {
    disposeLayersModel(model);
    throw e;
  }
}

/**
 * A Scaled-YOLOv4 Detector with untrained weights (load weights with `loadPytorch` instead to
 * use the published checkpoints).
 */
export function scaledYolov4(opts: ScaledYolov4Options = {}): Detector {
  const { dict, name } = resolveModelDict(opts.model);
  const nc = opts.numClasses ?? opts.classNames?.length;
  const plan = planModel(dict, nc);
  return detectorFromPlan(plan, opts.name ?? name, opts);
}
