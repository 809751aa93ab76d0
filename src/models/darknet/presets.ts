/**
 * Published Darknet models: Yolo-Fastest 1.1 (and XL) and the AlexeyAB tiny YOLOs, each a cfg +
 * `.weights` pair converted by `loadDarknet`.
 */
import { COCO_CLASSES } from '../../spec';
import { ModelPreset, githubRaw } from '../preset';

const YOLO_FASTEST_COMMIT = '96a2900d163196c396e73f3fdab04ca4dd9a2f70';
const ALEXEYAB_DARKNET_COMMIT = '59596d7880f6504768df41d6daa586f5cb2b932f';

function yoloFastest(name: string, stem: string, sizes: [number, number], sha: [string, string], description: string): ModelPreset {
  const dir = 'ModelZoo/yolo-fastest-1.1_coco';
  return {
    name,
    description,
    source: 'https://github.com/dog-qiuqiu/Yolo-Fastest',
    files: [
      { url: githubRaw('dog-qiuqiu/Yolo-Fastest', YOLO_FASTEST_COMMIT, `${dir}/${stem}.cfg`), filename: `${stem}.cfg`, size: sizes[0], sha256: sha[0] },
      { url: githubRaw('dog-qiuqiu/Yolo-Fastest', YOLO_FASTEST_COMMIT, `${dir}/${stem}.weights`), filename: `${stem}.weights`, size: sizes[1], sha256: sha[1] },
    ],
    converter: { kind: 'darknet', cfg: `${stem}.cfg`, weights: `${stem}.weights` },
    classNames: COCO_CLASSES.slice(),
  };
}

function darknetTiny(name: string, weightsUrl: string, weightsSize: number, cfgSize: number, cfgSha: string, description: string): ModelPreset {
  return {
    name,
    description,
    source: 'https://github.com/AlexeyAB/darknet',
    files: [
      { url: githubRaw('AlexeyAB/darknet', ALEXEYAB_DARKNET_COMMIT, `cfg/${name}.cfg`), filename: `${name}.cfg`, size: cfgSize, sha256: cfgSha },
      { url: weightsUrl, filename: `${name}.weights`, size: weightsSize },
    ],
    converter: { kind: 'darknet', cfg: `${name}.cfg`, weights: `${name}.weights` },
    classNames: COCO_CLASSES.slice(),
  };
}

/** The Darknet presets, in registry order. */
export const DARKNET_PRESETS: readonly ModelPreset[] = [
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
];
