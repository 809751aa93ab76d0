/**
 * The `ModelSpec` of a Darknet cfg: one `darknet` head per `[yolo]` (anchors selected by its
 * mask, scale_x_y, new_coords), Darknet's test-time preprocessing (stretch, or Darknet's
 * letterbox with 0.5 padding when `[net] letter_box=1`), RGB /255, multi-label scores with
 * threshold 0.25, and the NMS `darknet detector test` uses.
 */
import { ModelSpec, NmsSpec, defaultClassNames } from '../../spec';
import { DarknetCfg, DarknetYoloSection } from '../../weights/parseDarknetCfg';
import { darknetLayerShapes } from '../../weights/darknetLayerShapes';
import { darknetYoloLayers, resolveDarknetInputSize } from './darknetCfg';
import { darknetHead, darknetInput } from './darknetModelOptions';

/** Options of {@link darknetModelSpec}. */
export interface DarknetSpecOptions {
  /** Class names; length must equal the cfg's `classes`. Default COCO for 80, else class0... */
  classNames?: string[];
  /** Input size override (square or `[height, width]`). */
  inputSize?: number | [number, number];
  /** Spec name (default 'darknet'). */
  name?: string;
}

/**
 * NMS of a `[yolo]` section as `detector test` applies it: `default` -> greedy IoU
 * (`do_nms_sort`); `greedynms` -> DIoU with the hard-coded exponent 0.6 (cfg beta_nms is
 * ignored); `diounms` -> DIoU with the cfg's `beta_nms`. Threshold 0.45, per class.
 */
export function darknetNms(yolo: Pick<DarknetYoloSection, 'nmsKind' | 'betaNms'>): NmsSpec {
  const base = { perClass: true, iouThreshold: 0.45 };
  switch (yolo.nmsKind) {
    case 'default':
      return { kind: 'iou', ...base };
    case 'greedynms':
      return { kind: 'diou', beta: 0.6, ...base };
    case 'diounms':
      return { kind: 'diou', beta: yolo.betaNms, ...base };
  }
}

/**
 * The detection settings of every Darknet spec (`detector test`'s): one detection per passing
 * class, threshold 0.25, the given NMS, no cap. In spec field order.
 */
export function darknetDetectionSettings(nms: NmsSpec): Pick<ModelSpec, 'multiLabel' | 'scoreThreshold' | 'nms' | 'maxDetections'> {
  return { multiLabel: true, scoreThreshold: 0.25, nms, maxDetections: 0 };
}

/** Build the spec of a parsed cfg. */
export function darknetModelSpec(cfg: DarknetCfg, opts: DarknetSpecOptions = {}): ModelSpec {
  const yolos = darknetYoloLayers(cfg);
  if (yolos.length === 0) throw new Error('Darknet cfg: no [yolo] layer');
  const classes = yolos[0].classes;
  for (const y of yolos) {
    if (y.classes !== classes) {
      throw new Error(
        `Darknet cfg: [yolo] layers disagree on classes (${classes} at line ${yolos[0].line}, ${y.classes} at line ${y.line})`,
      );
    }
  }
  // Sizes first: they check every layer against the input (and classes against the head's
  // filters) before anything is allocated per class.
  const size = resolveDarknetInputSize(cfg, opts.inputSize);
  darknetLayerShapes(cfg, size);
  let classNames: string[];
  if (opts.classNames) {
    if (!Array.isArray(opts.classNames) || opts.classNames.length !== classes) {
      throw new Error(
        `Darknet: classNames has ${Array.isArray(opts.classNames) ? opts.classNames.length : 'no'} names but the cfg has ` +
          `classes=${classes}`,
      );
    }
    classNames = opts.classNames.slice();
  } else {
    classNames = defaultClassNames(classes);
  }
  // Darknet's detector uses the NMS settings of the network's last layer (a [yolo] in every
  // supported cfg, since a [yolo] is always last in practice); take the last [yolo].
  const nms = darknetNms(yolos[yolos.length - 1]);
  return {
    name: opts.name ?? 'darknet',
    input: darknetInput(size, cfg.net.letterBox),
    classNames,
    heads: yolos.map((y, k) => darknetHead(k, y.mask.map((m) => [y.anchors[m][0], y.anchors[m][1]] as [number, number]), y.scaleXY, y.newCoords)),
    ...darknetDetectionSettings(nms),
  };
}
