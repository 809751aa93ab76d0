/**
 * `loadPytorch('darknet', bytes, { cfg })`: a PyTorch checkpoint of a cfg-defined Darknet (the
 * `models/models.py` Darknet of ScaledYOLOv4's yolov4-csp branch, also ultralytics' cfg-era
 * ports): a state dict with keys `module_list.<i>.Conv2d.weight` (+ `.bias` without BN) and
 * `module_list.<i>.BatchNorm2d.{weight,bias,running_mean,running_var}`, usually inside a
 * training checkpoint `{model: state_dict, ...}` and in float16. The network is our cfg builder;
 * the conventions are the PyTorch port's, not Darknet's: BatchNorm eps 1e-4, and its YOLOLayer
 * decode (yolov4-csp: sigmoid on all channels, xy = (2s - 0.5 + grid) * stride, wh = (2s)^2 *
 * anchor; `port: 'ultralytics'`: YOLOv3's sigmoid + grid, exp * anchor; the cfg's scale_x_y /
 * new_coords / nms_kind ignored), letterbox and torchvision NMS as yolov4-large.
 */
import { Detector } from '../../detector';
import { assignStateDict, KeyTableEntry } from '../../weights/assignStateDict';
import { parseDarknetCfg, DarknetCfg } from '../../weights/parseDarknetCfg';
import { readTorchObjectFile } from '../../weights/readPytorchStateDict';
import { findStateDict } from '../../weights/pytorch/extractStateDict';
import { LazyTensor } from '../../weights/pytorch/torchPickle';
import { TensorMap } from '../../weights/tensorMap';
import { buildDarknetModel, darknetYoloLayers, resolveDarknetInputSize } from '../darknet/darknetCfg';
import { darknetConvLayers } from '../darknet/darknetConvLayers';
import { disposeLayersModel } from '../../layers/disposeLayersModel';
import { scaledYoloSpec } from './spec';
import type { ModelSpec } from '../../spec';

/** BatchNorm eps of the PyTorch Darknet ports (`nn.BatchNorm2d(filters, momentum=0.03, eps=1E-4)`). */
export const PYTORCH_DARKNET_BN_EPSILON = 1e-4;

/** Options of {@link darknetFromPytorchCheckpoint}. */
export interface DarknetCheckpointOptions {
  /** The cfg text the checkpoint was trained with. */
  cfg: string;
  classNames?: string[];
  /** Square side or `[height, width]` (default the cfg's `[net]` size). */
  inputSize?: number | [number, number];
  /** BatchNorm eps (default 1e-4). */
  bnEpsilon?: number;
  /**
   * The PyTorch port that trained it, which fixes the box decode: `scaled-yolov4` (default; the
   * yolov4-csp branch: xy = (2s - 0.5 + grid) * stride, wh = (2s)^2 * anchor) or `ultralytics`
   * (ultralytics/yolov3's cfg-era models.py: xy = (s + grid) * stride, wh = exp(t) * anchor).
   */
  port?: DarknetPytorchPort;
}

/** The ports a cfg + .pt checkpoint may come from; the first is the default. */
export const DARKNET_PYTORCH_PORTS = ['scaled-yolov4', 'ultralytics'] as const;

/** See {@link DarknetCheckpointOptions.port}. */
export type DarknetPytorchPort = (typeof DARKNET_PYTORCH_PORTS)[number];

/** Key table of a cfg's convs onto the model our cfg builder made. */
function darknetTorchKeyTable(cfg: DarknetCfg, model: ReturnType<typeof buildDarknetModel>): KeyTableEntry[] {
  const table: KeyTableEntry[] = [];
  const bySection = new Map(cfg.layers.map((l) => [l.index, l]));
  for (const { index, conv, bn } of darknetConvLayers(model)) {
    const l = bySection.get(index);
    if (!l || l.type !== 'convolutional') continue;
    if (l.groups !== 1 && conv.getClassName() !== 'DepthwiseConv2D') {
      throw new Error(`loadPytorch('darknet'): grouped convolution at cfg layer ${index} (groups=${l.groups}) is not supported`);
    }
    const p = `module_list.${index}`;
    const depthwise = conv.getClassName() === 'DepthwiseConv2D';
    table.push({ key: `${p}.Conv2d.weight`, layer: conv.name, weight: depthwise ? 'depthwise_kernel' : 'kernel', transform: depthwise ? 'depthwise' : 'conv2d' });
    if (bn) {
      table.push({ key: `${p}.BatchNorm2d.weight`, layer: bn.name, weight: 'gamma', transform: 'identity' });
      table.push({ key: `${p}.BatchNorm2d.bias`, layer: bn.name, weight: 'beta', transform: 'identity' });
      table.push({ key: `${p}.BatchNorm2d.running_mean`, layer: bn.name, weight: 'moving_mean', transform: 'identity' });
      table.push({ key: `${p}.BatchNorm2d.running_var`, layer: bn.name, weight: 'moving_variance', transform: 'identity' });
    } else {
      table.push({ key: `${p}.Conv2d.bias`, layer: conv.name, weight: 'bias', transform: 'identity' });
    }
  }
  return table;
}

/** numpy's array reconstruction: the training checkpoints store `best_fitness*` as numpy arrays. */
function numpyArrays(module: string, name: string): boolean {
  if ((module === 'numpy.core.multiarray' || module === 'numpy._core.multiarray') && name === '_reconstruct') return true;
  return module === 'numpy' && (name === 'ndarray' || name === 'dtype');
}

/** The state dict of a training checkpoint (`{model: state_dict, best_fitness: ndarray, ...}`) or a bare one. */
function readCheckpointStateDict(bytes: Uint8Array | ArrayBuffer): TensorMap {
  let file: ReturnType<typeof readTorchObjectFile>;
  try {
    file = readTorchObjectFile(bytes, { objectClass: numpyArrays });
  } catch (e) {
    const msg = (e as Error).message;
    // a whole pickled yolov4-large model is not a cfg Darknet's state dict: say which loader reads it
    if (/'models\.(yolo|common)\./.test(msg)) throw new Error(`${msg} (this is a whole-model yolov4-large checkpoint: load it with loadPytorch('scaled-yolov4', bytes), CLI --arch scaled-yolov4)`);
    throw e;
  }
  const sd = findStateDict(file.root);
  const out: TensorMap = new Map();
  for (const [k, v] of sd.map) {
    const key = String(k);
    if (key.endsWith('num_batches_tracked')) continue;
    out.set(key, file.tensor(v as LazyTensor, key));
  }
  return out;
}

/**
 * The spec of an ultralytics cfg-era checkpoint: its YOLOLayer decodes as YOLOv3 does
 * (sigmoid(t_xy) + grid, exp(t_wh) * anchor, sigmoid obj / classes), i.e. Darknet heads with
 * scale_x_y 1 and no new_coords; letterbox and NMS as the yolov4-csp branch (which inherited
 * them). Darknet heads belong to the Darknet family (its layer roles and YOLOv3 loss).
 */
function ultralyticsDecode(spec: ModelSpec, anchors: [number, number][][]): ModelSpec {
  const heads = anchors.map((a, output) => ({ kind: 'darknet' as const, output, anchors: a, scaleXY: 1, newCoords: false }));
  return { ...spec, family: 'darknet', heads };
}

/** Build the Detector of a cfg + PyTorch state dict (bytes of a `.pt`/`.pth`, or a read TensorMap). */
export function darknetFromPytorchCheckpoint(weights: Uint8Array | ArrayBuffer | TensorMap, opts: DarknetCheckpointOptions): Detector {
  if (!opts || typeof opts.cfg !== 'string') {
    throw new Error(`loadPytorch('darknet') needs the cfg text: loadPytorch('darknet', bytes, { cfg })`);
  }
  const cfg = parseDarknetCfg(opts.cfg);
  const yolos = darknetYoloLayers(cfg);
  if (yolos.length === 0) throw new Error('Darknet cfg: no [yolo] layer');
  const classes = yolos[0].classes;
  if (yolos.some((y) => y.classes !== classes)) throw new Error('Darknet cfg: [yolo] layers disagree on classes');
  const port: string = opts.port ?? 'scaled-yolov4';
  if (port !== 'scaled-yolov4' && port !== 'ultralytics') throw new Error(`loadPytorch('darknet'): port must be 'scaled-yolov4' or 'ultralytics', got ${JSON.stringify(port)}`);
  const sd = weights instanceof Map ? weights : readCheckpointStateDict(weights);
  const inputSize = resolveDarknetInputSize(cfg, opts.inputSize);
  const model = buildDarknetModel(cfg, { inputSize, name: 'darknet', kernelInitializer: 'zeros', bnEpsilon: opts.bnEpsilon ?? PYTORCH_DARKNET_BN_EPSILON });
  try {
    assignStateDict(model, sd, darknetTorchKeyTable(cfg, model));
    const strides = model.outputs.map((o) => inputSize[0] / (o.shape[1] as number));
    const anchors = yolos.map((y) => y.mask.map((m) => [y.anchors[m][0], y.anchors[m][1]] as [number, number]));
    const spec = scaledYoloSpec({ name: 'darknet', inputSize, strides, anchors, numClasses: classes, classNames: opts.classNames });
    return new Detector(model, port === 'ultralytics' ? ultralyticsDecode(spec, anchors) : spec);
  } catch (e) {
    disposeLayersModel(model);
    throw new Error(`loadPytorch('darknet'): ${(e as Error).message}`);
  }
}
