/** The published YOLO-FastestV2 COCO weights (dog-qiuqiu/Yolo-FastestV2), converted by `loadPytorch`. */
import { COCO_CLASSES } from '../../spec';
import { ModelPreset, githubRaw } from '../preset';

const YOLO_FASTESTV2_COMMIT = 'ac2a5e3060bff76dd1e45f9b921dd77bfbeb194d';

/** The YOLO-FastestV2 presets, in registry order. */
export const YOLO_FASTESTV2_PRESETS: readonly ModelPreset[] = [
  {
    name: 'yolo-fastestv2-coco',
    description: 'YOLO-FastestV2, COCO, 352x352 (dog-qiuqiu/Yolo-FastestV2, 0.241 AP)',
    source: 'https://github.com/dog-qiuqiu/Yolo-FastestV2',
    files: [
      {
        url: githubRaw('dog-qiuqiu/Yolo-FastestV2', YOLO_FASTESTV2_COMMIT, 'modelzoo/coco2017-0.241078ap-model.pth'),
        filename: 'coco2017-0.241078ap-model.pth',
        size: 1158025,
        sha256: 'bdd956aa079bf1cdd3e0090a295ac26d73c40aef7b61b6405981b1afcbea985c',
      },
    ],
    converter: { kind: 'pytorch', arch: 'yolo-fastestv2', weights: 'coco2017-0.241078ap-model.pth' },
    classNames: COCO_CLASSES.slice(),
  },
];
