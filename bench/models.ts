/**
 * The benchmarked models. Each entry builds a network (a `Detector` or a plain function from
 * a `[1, H, W, 3]` input to raw output tensors). Builders are required lazily, so an entry
 * whose source or fixture is missing is skipped with a message instead of breaking the run.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as tfType from '@tensorflow/tfjs';

export const ROOT = path.resolve(__dirname, '..');
export const FIXTURES = process.env.YOLO_TFJS_FIXTURES || path.resolve(ROOT, '..', 'shared', 'fixtures');

/** What a builder returns: a Detector-like object, or a function from input to outputs. */
export type Network =
  | { predict(x: tfType.Tensor4D): tfType.Tensor[]; dispose?(): void }
  | ((x: tfType.Tensor4D) => tfType.Tensor[]);

/** One benchmark model. */
export interface BenchModel {
  name: string;
  /** Network input `[height, width]`. */
  inputSize: [number, number];
  build(): Promise<Network>;
  /**
   * The original authors' own ONNX export of the same weights (input NCHW), run on
   * onnxruntime-node as a second reference next to our export.
   */
  upstreamOnnx?: string;
  /** When set, this model is also run on tfjs-cpu. */
  cpu?: boolean;
}

/** Thrown by a builder when something it needs is absent: the entry is skipped. */
export class SkipError extends Error {}

function need(file: string): string {
  if (!fs.existsSync(file)) throw new SkipError(`missing ${path.relative(ROOT, file)}`);
  return file;
}

/** `require` of a project module; a missing module becomes a skip. */
function load<T>(rel: string): T {
  const file = path.join(ROOT, rel);
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(file) as T;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(path.basename(rel))) {
      throw new SkipError(`builder ${rel} not there yet`);
    }
    throw e;
  }
}

function builder<T>(rel: string, name: string): T {
  const mod = load<Record<string, unknown>>(rel);
  if (typeof mod[name] !== 'function') throw new SkipError(`${rel} has no ${name}() yet`);
  return mod[name] as T;
}

export const MODELS: BenchModel[] = [
  {
    name: 'tiny YOLOv3 416',
    inputSize: [416, 416],
    cpu: true,
    build: async () => builder<(o: object) => Network>('src/models/darknet/tinyYoloV3', 'tinyYoloV3')({ inputSize: 416 }),
  },
  {
    name: 'YOLOv4-tiny 416',
    inputSize: [416, 416],
    build: async () => builder<(o: object) => Network>('src/models/darknet/yoloV4Tiny', 'yoloV4Tiny')({ inputSize: 416 }),
  },
  {
    name: 'yolo-fastest-1.1 320',
    inputSize: [320, 320],
    build: async () => {
      const cfg = fs.readFileSync(need(path.join(FIXTURES, 'darknet', 'weights', 'yolo-fastest-1.1.cfg')), 'utf8');
      const weights = fs.readFileSync(need(path.join(FIXTURES, 'darknet', 'weights', 'yolo-fastest-1.1.weights')));
      const loadDarknet = builder<(c: string, w: Uint8Array, o: object) => Network>('src/models/darknet/loadDarknet', 'loadDarknet');
      return loadDarknet(cfg, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength), { inputSize: 320 });
    },
  },
  {
    name: 'YOLO-FastestV2 352',
    inputSize: [352, 352],
    upstreamOnnx: path.join(FIXTURES, 'yolo-fastestv2', 'yolo-fastestv2.onnx'),
    build: async () => {
      const pth = fs.readFileSync(need(path.join(FIXTURES, 'yolo-fastestv2', 'coco2017-0.241078ap-model.pth')));
      const loadPytorch = builder<(a: string, b: Uint8Array) => Network>('src/models/loadPytorch', 'loadPytorch');
      return loadPytorch('yolo-fastestv2', new Uint8Array(pth.buffer, pth.byteOffset, pth.byteLength));
    },
  },
  {
    // RFBNet300-style SSD with dilated 3x3 convs (BasicRFB) and a ceil-mode maxpool; random init
    name: 'RFSong 300',
    inputSize: [300, 300],
    build: async () => builder<(o: object) => Network>('src/models/rfsong/rfsong', 'rfsong')({ numClasses: 1 }),
  },
  {
    name: 'EfficientDet-D0 512',
    inputSize: [512, 512],
    build: async () => builder<(o: object) => Network>('src/models/efficientDet/efficientDet', 'efficientDet')({ phi: 0 }),
  },
];
