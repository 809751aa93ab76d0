/**
 * The Scaled-YOLOv4 family (WongKinYiu/ScaledYOLOv4): the yolov4-large YAML models (P5, P6, P7)
 * built from their model dict, loaded from their whole-model checkpoints as they are, and
 * cfg-defined PyTorch Darknets (the yolov4-csp branch). Heads are anchor-major `yolov5` kind.
 */
import { Family } from '../family';
import { scaledYoloLoss } from './loss';
import { scaledYoloBackbone, scaledYoloClassLayers, scaledYoloHeads } from './parts';
import { SCALED_YOLOV4_PRESETS } from './presets';
import { scaledYolov4 } from './scaledYolov4';
import { scaledYolov4FromCheckpoint } from './fromCheckpoint';
import { DARKNET_PYTORCH_PORTS, DarknetPytorchPort, darknetFromPytorchCheckpoint } from './darknetCheckpoint';
import { Yolov5HeadSpec } from '../../spec';

export const scaledYolov4Family: Family = {
  name: 'scaled-yolov4',
  description: 'Scaled-YOLOv4 (WongKinYiu): yolov4-p5/p6/p7 whole-model .pt checkpoints, yolov4-csp cfg + .pt',
  matchesSpec: (spec) => spec.heads.every((h) => h.kind === 'yolov5' && h.layout === 'anchor-major'),
  parts: {
    backbone: (model) => scaledYoloBackbone(model),
    heads: (model) => scaledYoloHeads(model),
    classLayers: (model, spec) => scaledYoloClassLayers(model, spec),
  },
  builders: {
    'yolov4-p5': (o) => scaledYolov4({ model: 'yolov4-p5', ...o }),
    'yolov4-p6': (o) => scaledYolov4({ model: 'yolov4-p6', ...o }),
    'yolov4-p7': (o) => scaledYolov4({ model: 'yolov4-p7', ...o }),
  },
  pytorchArchs: ['scaled-yolov4', 'darknet'],
  pytorchPorts: DARKNET_PYTORCH_PORTS,
  pytorchPortsHelp: 'scaled-yolov4 (default; yolov4-csp) | ultralytics (cfg-era yolov3)',
  fromPytorchFile(arch, bytes, opts) {
    if (arch === 'darknet') {
      return darknetFromPytorchCheckpoint(bytes, { cfg: opts.cfg as string, classNames: opts.classNames, inputSize: opts.inputSize, port: opts.port as DarknetPytorchPort | undefined });
    }
    return scaledYolov4FromCheckpoint(bytes, { classNames: opts.classNames, inputSize: opts.inputSize, read: opts.read });
  },
  fromStateDict(arch, sd, opts) {
    if (arch !== 'darknet') throw new Error(`loadPytorch('${arch}') needs the .pt file's bytes (the checkpoint pickles the whole model), not a tensor map`);
    return darknetFromPytorchCheckpoint(sd, { cfg: opts.cfg as string, classNames: opts.classNames, inputSize: opts.inputSize, port: opts.port as DarknetPytorchPort | undefined });
  },
  loss: (spec) => {
    const heads = spec.heads as Yolov5HeadSpec[];
    const opts = { inputSize: spec.input.size, anchors: heads.map((h) => h.anchors), numClasses: spec.classNames.length };
    return (outputs, boxes) => scaledYoloLoss(heads.map((h) => outputs[h.output]), boxes, opts);
  },
  presets: SCALED_YOLOV4_PRESETS,
};
