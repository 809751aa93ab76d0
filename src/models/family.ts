/**
 * A model family: everything one kind of detector knows (builder, spec, weight key map and
 * loader, class count of a state dict, which layers are backbone / heads / class layers, its
 * training loss, its published presets), described once in its folder `src/models/<family>/`
 * and registered by one line in `families.ts`. The rest of the code (loadPytorch, load, the
 * registry, the CLI, train) learns of families only through that table.
 */
import * as tf from '@tensorflow/tfjs';
import type { Detector } from '../detector';
import type { ModelSpec } from '../spec';
import type { TensorMap } from '../weights/tensorMap';
import type { ReadPytorchOptions } from '../weights/readPytorchStateDict';
import type { LossForSpecOptions, TrainLoss } from '../loss/trainLoss';
import type { ModelPreset } from './preset';

/** Options every named builder of {@link Family.builders} accepts. */
export interface NamedBuilderOptions {
  classNames?: string[];
  inputSize?: number;
}

/** Options of a family's state-dict loader (those of `loadPytorch`). */
export interface StateDictLoadOptions {
  /** Class names; their count must match the weights' class count. */
  classNames?: string[];
  /** Input size override (square side). */
  inputSize?: number;
  /** A cfg-defined network's cfg text (`loadPytorch('darknet', bytes, { cfg })`). */
  cfg?: string;
  /**
   * `loadPytorch('darknet')`: the PyTorch port that trained the cfg-defined Darknet, which fixes
   * its box decode (see that family's loader): `ultralytics` for ultralytics/yolov3's cfg-era
   * models.py (YOLOv3's decode); default ScaledYOLOv4's yolov4-csp branch.
   */
  port?: string;
}

/** A class-dependent output layer and how its output channels are laid out. */
export interface ClassLayer {
  /** Layer name. */
  name: string;
  /** Channel groups (anchors) that each hold `leading` class-independent channels then the classes. */
  groups: number;
  /** Class-independent channels at the start of each group (Darknet: x, y, w, h, obj = 5). */
  leading: number;
  /** Reshape layers whose last target dimension is the class count (EfficientDet). */
  reshapes: string[];
  /**
   * Softmax class channels: a new class starts with bias 0 (a logit prior only makes sense for
   * independent sigmoid classes).
   */
  softmax?: boolean;
}

/**
 * Which layers of a detector of this family are what. Lazy (each called only when needed)
 * because some models cannot answer every question (a cfg without a stride-2 layer has no
 * backbone boundary) and that must fail only when the answer is asked for.
 */
export interface FamilyParts {
  /** Names of the backbone layers (what `freeze: 'backbone'` freezes). */
  backbone(model: tf.LayersModel, spec: ModelSpec): string[];
  /** Names of the prediction-head layers (what `freeze: 'headOnly'` leaves trainable). */
  heads(model: tf.LayersModel, spec: ModelSpec): string[];
  /** The class-dependent output layers (what `withClasses` rebuilds). */
  classLayers(model: tf.LayersModel, spec: ModelSpec): ClassLayer[];
}

/** One model family (see the file comment). Only `name`, `description`, `matchesSpec` and `parts` are required. */
export interface Family {
  /** Family name, e.g. `darknet`; a spec's optional `family` field refers to it. */
  name: string;
  /** One line for help texts. */
  description: string;
  /**
   * Whether a spec without a `family` field belongs to this family (decided from its head
   * kinds). The first family of the table that matches wins, so a family whose heads look like
   * another's must set `spec.family` in its builder.
   */
  matchesSpec(spec: ModelSpec): boolean;
  /** Layer roles, for freezing, `withClasses` and pruning. */
  parts: FamilyParts;
  /**
   * Builders of new models (random init) by name, for training from scratch (`yolo-tfjs train
   * --model <name>`). Names must not be registry names (those load published weights).
   */
  builders?: Readonly<Record<string, (opts?: NamedBuilderOptions) => Detector>>;
  /** Architecture names `loadPytorch(arch, ...)` accepts for this family (lower case). */
  pytorchArchs?: readonly string[];
  /** How the CLI's help writes `pytorchArchs` (e.g. `efficientdet-d0..d7`); default the list. */
  pytorchArchsHelp?: string;
  /**
   * The PyTorch ports a cfg + .pt checkpoint of this family may come from (`loadPytorch(arch,
   * bytes, { cfg, port })`, the CLI's `--port`); the first is the default.
   */
  pytorchPorts?: readonly string[];
  /** How the CLI's help writes `pytorchPorts`; default the list. */
  pytorchPortsHelp?: string;
  /** Class count implied by a state dict of `arch` (throws when the state dict is not of this family). */
  classCount?(arch: string, stateDict: TensorMap): number;
  /** Build the Detector of `arch` and load `stateDict` into it (every key checked). */
  fromStateDict?(arch: string, stateDict: TensorMap, opts: StateDictLoadOptions): Detector;
  /**
   * Build the Detector of `arch` from the file's bytes, for checkpoints that are more than a
   * state dict (a whole pickled model). Used by `loadPytorch` instead of `fromStateDict` when given bytes.
   */
  fromPytorchFile?(arch: string, bytes: Uint8Array | ArrayBuffer, opts: StateDictLoadOptions & { read?: ReadPytorchOptions }): Detector;
  /** The training loss of a spec of this family, bound to its geometry. */
  loss?(spec: ModelSpec, opts: LossForSpecOptions): TrainLoss;
  /** Whether `loss` takes the anchor options of {@link LossForSpecOptions}. */
  lossTakesAnchorOptions?: boolean;
  /** Published weights `load(name)` knows, in registry order. */
  presets?: readonly ModelPreset[];
}
