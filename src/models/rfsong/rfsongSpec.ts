/**
 * RFSong's ModelSpec: the priors of `data/config.py::VOC_Config` as data, upstream's input
 * transform (`BaseTransform(300, (104, 117, 123))`: BGR, stretched to 300x300 with a bilinear
 * cv2 resize on uint8, minus the BGR means, no /255), softmax scores with background class 0,
 * and upstream's per-class `py_cpu_nms` (+1-pixel areas) at test_RFB.py's settings (score > 0.05,
 * IoU 0.45, no top-k cap).
 */
import { ModelSpec, SsdPriorSpec } from '../../spec';

/** Upstream's prior configuration (`VOC_Config`), in its own terms. */
export const RFSONG_PRIOR_CONFIG = Object.freeze({
  featureMaps: [38, 19, 10, 5, 3, 1],
  minDim: 300,
  steps: [8, 16, 32, 64, 100, 300],
  minSizes: [26, 60, 111, 162, 213, 264],
  maxSizes: [60, 111, 162, 213, 264, 315],
  aspectRatios: [[0.4, 1.0, 1.5], [0.4, 1.0, 1.6], [0.5, 1.1, 1.6], [0.5, 1.1, 1.6], [0.5, 1.1, 1.6], [0.7, 1.4]],
  /** Aspect ratio of the sqrt(min * max) prior, which comes FIRST at every location. */
  maxRatios: [0.8, 0.8, 0.8, 0.9, 1, 1],
  variance: [0.1, 0.2] as [number, number],
  clip: true,
});

/** demo.py's thresholds (test_RFB.py's are the spec default: score 0.05, IoU 0.45). */
export const RFSONG_DEMO_THRESHOLDS = Object.freeze({ scoreThreshold: 0.1, iouThreshold: 0.2 });

/**
 * `PriorBox` as an {@link SsdPriorSpec}: at every location the max-size prior with the map's
 * max ratio, then one min-size prior per aspect ratio in list order.
 */
export function rfsongPriorSpec(): SsdPriorSpec {
  const c = RFSONG_PRIOR_CONFIG;
  return {
    featureMaps: c.featureMaps.slice(),
    minDim: c.minDim,
    steps: c.steps.slice(),
    minSizes: c.minSizes.slice(),
    maxSizes: c.maxSizes.slice(),
    shapes: c.featureMaps.map((_, k) => [
      { size: 'max' as const, ratio: c.maxRatios[k] },
      ...c.aspectRatios[k].map((ratio) => ({ size: 'min' as const, ratio })),
    ]),
    clip: c.clip,
  };
}

/** The spec of an RFSong detector with these object classes (background not included). */
export function rfsongSpec(classNames: string[]): ModelSpec {
  const priors = rfsongPriorSpec();
  const maps = priors.featureMaps.length;
  return {
    name: 'rfsong',
    input: {
      size: [priors.minDim, priors.minDim],
      resize: 'stretch',
      channelOrder: 'BGR',
      scale: 1,
      mean: [104, 117, 123],
      interpolation: 'opencv-linear-u8',
    },
    classNames: classNames.slice(),
    heads: [
      {
        kind: 'ssd',
        locOutputs: Array.from({ length: maps }, (_, k) => k),
        confOutputs: Array.from({ length: maps }, (_, k) => maps + k),
        priors,
        variances: [RFSONG_PRIOR_CONFIG.variance[0], RFSONG_PRIOR_CONFIG.variance[1]],
        backgroundClass: 0,
      },
    ],
    // test_RFB.py thresholds every foreground class separately.
    multiLabel: true,
    scoreThreshold: 0.05,
    nms: { kind: 'iou', perClass: true, iouThreshold: 0.45, pixelOffset: 1 },
    maxDetections: 0,
  };
}
