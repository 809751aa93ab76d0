/**
 * The published weights `load(name)` knows: where each upstream file lives (its original public
 * URL), how big it is and its sha256 where known, and how to convert it. Pure data; browser-safe.
 *
 * URLs of files kept in git repositories are pinned to a commit so that the sha256 stays valid.
 */
import { COCO_CLASSES } from '../spec';
import { EFFICIENTDET_COCO_CLASSES } from '../models/efficientDet';
import { SCALED_YOLOV4_PRESETS } from '../models/scaledYolov4/presets';

/** One file to download. */
export interface RegistryFile {
  /** Original public URL. */
  url: string;
  /** File name in the cache folder `<cache>/<model name>/`. */
  filename: string;
  /** Size in bytes, checked after download when known. */
  size?: number;
  /** Lower-case hex sha256, checked after download when known. */
  sha256?: string;
  /**
   * The host serves the file only to a browser (e.g. Google Drive's confirmation page): never
   * downloaded; when it is not in the cache, the error says where to put it.
   */
  manual?: boolean;
}

/** How the raw files become a Detector. */
export type RegistryConverter =
  /** `loadDarknet(cfgText, weights)`; `cfg`/`weights` are file names of the entry. */
  | { kind: 'darknet'; cfg: string; weights: string }
  /**
   * `loadPytorch(arch, pth, { cfg, inputSize })`; `weights` (and `cfg`, for a cfg-defined
   * network) are file names of the entry.
   */
  | { kind: 'pytorch'; arch: string; weights: string; cfg?: string; inputSize?: number };

/** One published model. */
export interface RegistryEntry {
  name: string;
  description: string;
  /** Upstream project page. */
  source: string;
  files: RegistryFile[];
  converter: RegistryConverter;
  classNames: string[];
}

const YOLO_FASTEST_COMMIT = '96a2900d163196c396e73f3fdab04ca4dd9a2f70';
const YOLO_FASTESTV2_COMMIT = 'ac2a5e3060bff76dd1e45f9b921dd77bfbeb194d';
const ALEXEYAB_DARKNET_COMMIT = '59596d7880f6504768df41d6daa586f5cb2b932f';

const raw = (repo: string, commit: string, path: string): string =>
  `https://raw.githubusercontent.com/${repo}/${commit}/${path}`;

function yoloFastest(name: string, stem: string, sizes: [number, number], sha: [string, string], description: string): RegistryEntry {
  const dir = 'ModelZoo/yolo-fastest-1.1_coco';
  return {
    name,
    description,
    source: 'https://github.com/dog-qiuqiu/Yolo-Fastest',
    files: [
      { url: raw('dog-qiuqiu/Yolo-Fastest', YOLO_FASTEST_COMMIT, `${dir}/${stem}.cfg`), filename: `${stem}.cfg`, size: sizes[0], sha256: sha[0] },
      { url: raw('dog-qiuqiu/Yolo-Fastest', YOLO_FASTEST_COMMIT, `${dir}/${stem}.weights`), filename: `${stem}.weights`, size: sizes[1], sha256: sha[1] },
    ],
    converter: { kind: 'darknet', cfg: `${stem}.cfg`, weights: `${stem}.weights` },
    classNames: COCO_CLASSES.slice(),
  };
}

function darknetTiny(name: string, weightsUrl: string, weightsSize: number, cfgSize: number, cfgSha: string, description: string): RegistryEntry {
  return {
    name,
    description,
    source: 'https://github.com/AlexeyAB/darknet',
    files: [
      { url: raw('AlexeyAB/darknet', ALEXEYAB_DARKNET_COMMIT, `cfg/${name}.cfg`), filename: `${name}.cfg`, size: cfgSize, sha256: cfgSha },
      { url: weightsUrl, filename: `${name}.weights`, size: weightsSize },
    ],
    converter: { kind: 'darknet', cfg: `${name}.cfg`, weights: `${name}.weights` },
    classNames: COCO_CLASSES.slice(),
  };
}

function efficientDetEntry(phi: number): RegistryEntry {
  const release = phi === 7 ? '1.2' : '1.0';
  return {
    name: `efficientdet-d${phi}`,
    description: `EfficientDet-D${phi}, COCO (zylo117/Yet-Another-EfficientDet-Pytorch)`,
    source: 'https://github.com/zylo117/Yet-Another-EfficientDet-Pytorch',
    files: [
      {
        url: `https://github.com/zylo117/Yet-Another-Efficient-Pytorch/releases/download/${release}/efficientdet-d${phi}.pth`,
        filename: `efficientdet-d${phi}.pth`,
      },
    ],
    converter: { kind: 'pytorch', arch: `efficientdet-d${phi}`, weights: `efficientdet-d${phi}.pth` },
    classNames: EFFICIENTDET_COCO_CLASSES.slice(),
  };
}

const ENTRIES: RegistryEntry[] = [
  {
    name: 'yolo-fastestv2-coco',
    description: 'YOLO-FastestV2, COCO, 352x352 (dog-qiuqiu/Yolo-FastestV2, 0.241 AP)',
    source: 'https://github.com/dog-qiuqiu/Yolo-FastestV2',
    files: [
      {
        url: raw('dog-qiuqiu/Yolo-FastestV2', YOLO_FASTESTV2_COMMIT, 'modelzoo/coco2017-0.241078ap-model.pth'),
        filename: 'coco2017-0.241078ap-model.pth',
        size: 1158025,
        sha256: 'bdd956aa079bf1cdd3e0090a295ac26d73c40aef7b61b6405981b1afcbea985c',
      },
    ],
    converter: { kind: 'pytorch', arch: 'yolo-fastestv2', weights: 'coco2017-0.241078ap-model.pth' },
    classNames: COCO_CLASSES.slice(),
  },
  yoloFastest(
    'yolo-fastest-1.1',
    'yolo-fastest-1.1',
    [9685, 1384268],
    ['f6df5775c1e862998cf69046eba9265be3ae84dfe8b2caab7529823f0795bf70', '1c445c42bbd6df63edea2cc69f99667b5650d663ca11e34b116240740cd42890'],
    'Yolo-Fastest 1.1, COCO, 320x320 (dog-qiuqiu/Yolo-Fastest)',
  ),
  yoloFastest(
    'yolo-fastest-1.1-xl',
    'yolo-fastest-1.1-xl',
    [9696, 3693964],
    ['c458427acc4fbeabceff4528ef7b65b066c0308ce599460f8ba299eba63abad3', 'fac5fb41786c1f38f04972a658443b189f48720d7d117f9a044100e98a35b0c5'],
    'Yolo-Fastest 1.1 XL, COCO, 320x320 (dog-qiuqiu/Yolo-Fastest)',
  ),
  darknetTiny(
    'yolov3-tiny',
    'https://pjreddie.com/media/files/yolov3-tiny.weights',
    35434956,
    1915,
    '84eb7a675ef87c906019ff5a6e0effe275d175adb75100dcb47f0727917dc2c7',
    'tiny YOLOv3, COCO, 416x416 (pjreddie weights, AlexeyAB cfg)',
  ),
  darknetTiny(
    'yolov4-tiny',
    'https://github.com/AlexeyAB/darknet/releases/download/darknet_yolo_v4_pre/yolov4-tiny.weights',
    24251276,
    3231,
    'f858e3724962eedf3ac44e3b6cb3f0c3d9ed067c306bb831f539c578b924c90e',
    'YOLOv4-tiny, COCO, 416x416 (AlexeyAB/darknet)',
  ),
  ...Array.from({ length: 8 }, (_, phi) => efficientDetEntry(phi)),
  ...SCALED_YOLOV4_PRESETS,
];

/** Every registry entry by name. */
export const REGISTRY: Readonly<Record<string, RegistryEntry>> = Object.freeze(
  Object.fromEntries(ENTRIES.map((e) => [e.name, e])),
);

/** Names `load()` accepts besides a folder path. */
export function registryNames(): string[] {
  return ENTRIES.map((e) => e.name);
}

/**
 * The registry entry of `name`.
 * @throws listing the known names when `name` is unknown.
 */
export function getRegistryEntry(name: string): RegistryEntry {
  const e = Object.prototype.hasOwnProperty.call(REGISTRY, name) ? REGISTRY[name] : undefined;
  if (!e) throw new Error(`unknown model '${name}'; known models: ${registryNames().join(', ')} (or a folder with model.json)`);
  return e;
}
