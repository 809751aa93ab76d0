/**
 * Model specifications: everything model-specific that preprocessing, decode and NMS need,
 * expressed as plain data. The functions in `src/decode` never branch on a model's name,
 * only on these fields.
 *
 * A spec is JSON-serialisable: it is written next to a converted tfjs model (`spec.json`)
 * and read back by `load(dir)`.
 */

/** How an image is brought to the network's input size. */
export interface InputSpec {
  /** Network input `[height, width]` in pixels. */
  size: [number, number];
  /**
   * `stretch`: resize to the input size ignoring aspect ratio (Darknet default, YOLO-FastestV2).
   * `letterbox`: keep the aspect ratio and pad (see `letterbox`).
   */
  resize: 'stretch' | 'letterbox';
  /** Letterbox geometry, used when `resize` is `letterbox`. */
  letterbox?: LetterboxSpec;
  /** Channel order the network expects. The image is decoded as RGB and swapped if `BGR`. */
  channelOrder: 'RGB' | 'BGR';
  /** Multiplier applied to 0..255 pixel values (1/255 for all current models). */
  scale: number;
  /** Per-channel mean subtracted after scaling (in network channel order). */
  mean?: [number, number, number];
  /** Per-channel std the scaled, mean-subtracted values are divided by. */
  std?: [number, number, number];
  /**
   * How the image is resized. `bilinear` (default): half-pixel float bilinear, no antialias
   * (`tf.image.resizeBilinear`). `opencv-linear-u8`: OpenCV's `cv2.resize(INTER_LINEAR)` on the
   * uint8 image in its fixed-point arithmetic, rounded to integers before the float conversion
   * (SSD / RFBNet's `BaseTransform`); the same interpolation up to +-1 rounding, bit exact with
   * OpenCV.
   */
  interpolation?: 'bilinear' | 'opencv-linear-u8';
}

/** Letterbox geometry. */
export interface LetterboxSpec {
  /**
   * `darknet`: Darknet's `letterbox_image` (integer new size by C division, image pasted at the
   * integer centre, boxes corrected with the FLOAT half padding, as Darknet does).
   * `center`: pasted at the integer centre, boxes corrected with that same integer offset.
   * `top-left`: pasted at the top-left corner (EfficientDet's `aspectaware_resize_padding`).
   * `yolov5`: Ultralytics' `letterbox(auto=False)` as YOLOv5 / Scaled-YOLOv4 use it: new size
   * round(side * r) (half to even), padding halves rounded as round(d/2 -+ 0.1) (an odd padding
   * puts the extra pixel bottom/right); boxes mapped back as `scale_coords` (float32 subtract
   * the float padding, divide by the gain) and clipped to the image.
   */
  align: 'darknet' | 'center' | 'top-left' | 'yolov5';
  /** Value of the padded area, in the final (scaled, normalised) input domain. */
  padValue: number;
}

/**
 * Darknet `[yolo]` head: one output tensor `[N, H, W, A*(5+C)]`, anchor-major, per anchor
 * x, y, w, h, objectness, C classes (independent sigmoids).
 */
export interface DarknetHeadSpec {
  kind: 'darknet';
  /** Index of the raw output this head decodes. */
  output: number;
  /** Anchors `[w, h]` in network pixels, for this head only (already selected by the mask). */
  anchors: [number, number][];
  /** `scale_x_y` (1 when absent). */
  scaleXY: number;
  /**
   * `new_coords=1` (Scaled-YOLOv4, YOLOv7): the head conv has its own logistic, so the raw
   * output is already a probability; x,y = v*scale - (scale-1)/2, w = (2v)^2 * anchor, no exp.
   * When false: x,y = sigmoid(t)*scale - (scale-1)/2, w = exp(t) * anchor.
   */
  newCoords: boolean;
}

/**
 * YOLOv5-style head: cx = (sigmoid(tx)*2 - 0.5 + gx) * stride, w = (sigmoid(tw)*2)^2 * anchor,
 * score = sigmoid(obj) * class probability. Two channel layouts of the one output tensor:
 * - `split` (default; YOLO-FastestV2): `[N, H, W, 4A + A + C]`, A anchors' boxes (anchor-major
 *   x, y, w, h), A objectness logits, C class logits shared by all anchors of a cell;
 * - `anchor-major` (YOLOv5, Scaled-YOLOv4's Detect): `[N, H, W, A*(5+C)]`, per anchor x, y, w,
 *   h, objectness, C classes.
 */
export interface Yolov5HeadSpec {
  kind: 'yolov5';
  output: number;
  anchors: [number, number][];
  /** Network pixels per grid cell, `[strideY, strideX]`. */
  stride: [number, number];
  /** How the class logits become probabilities. */
  classActivation: 'softmax' | 'sigmoid';
  /** Channel layout (default `split`). */
  layout?: 'split' | 'anchor-major';
}

/**
 * Anchor + delta head (EfficientDet): outputs `regression [N, K, 4]` (dy, dx, dh, dw) and
 * `classification [N, K, C]` (probabilities), with K anchors generated from this spec in the
 * order level -> y -> x -> anchor.
 */
export interface AnchorDeltasHeadSpec {
  kind: 'anchor-deltas';
  /** Index of the regression output. */
  regressionOutput: number;
  /** Index of the classification output. */
  classificationOutput: number;
  /** Pyramid levels, e.g. [3, 4, 5, 6, 7]. Stride = 2^level. */
  levels: number[];
  /** Anchor size = anchorScale * stride * scale. */
  anchorScale: number;
  scales: number[];
  /** Aspect ratios `[rx, ry]`. */
  ratios: [number, number][];
  /** Clip decoded boxes to the network input. */
  clip: boolean;
}

/**
 * One prior shape of an SSD feature-map location: `size` `min` is the map's min size s,
 * `max` is sqrt(min * max); width = size * sqrt(ratio), height = size / sqrt(ratio).
 */
export interface SsdPriorShape {
  size: 'min' | 'max';
  ratio: number;
}

/**
 * SSD prior boxes (ssd.pytorch / RFBNet `PriorBox`): for every source map k (map-major), every
 * cell (row y, then column x), the shapes of `shapes[k]` in order, centred at
 * ((x + 0.5) * steps[k], (y + 0.5) * steps[k]) / minDim. Sizes are `minSizes[k]` and
 * `maxSizes[k]` pixels of a `minDim` image. Computed in double precision, then float32;
 * `clip` clamps every number (cx, cy, w, h) to [0, 1].
 */
export interface SsdPriorSpec {
  /** Side of each (square) source map, e.g. [38, 19, 10, 5, 3, 1]. */
  featureMaps: number[];
  /** Image side the sizes and steps refer to (`min_dim`, 300). */
  minDim: number;
  /** Input pixels per cell of each map (not necessarily minDim / map side). */
  steps: number[];
  minSizes: number[];
  maxSizes: number[];
  /** Prior shapes at each location of each map, in output order. */
  shapes: SsdPriorShape[][];
  clip: boolean;
}

/**
 * SSD multibox head: per source map k a loc conv output `[N, H, W, A*4]` (per anchor dx, dy, dw,
 * dh) and a conf conv output `[N, H, W, A*(C+1)]` (per anchor the logits of the C+1 classes,
 * background at `backgroundClass`). Boxes: cx = p_cx + dx * v0 * p_w, w = p_w * exp(dw * v1)
 * (normalised, then scaled to the input); scores: softmax over the C+1 logits, background
 * dropped; the other columns are `classNames` in order.
 */
export interface SsdHeadSpec {
  kind: 'ssd';
  /** Index of the loc output of each source map. */
  locOutputs: number[];
  /** Index of the conf output of each source map. */
  confOutputs: number[];
  priors: SsdPriorSpec;
  /** Centre and size variances `[v0, v1]`. */
  variances: [number, number];
  /** Conf channel of the background class within each anchor's C+1 (0 in SSD/RFBNet). */
  backgroundClass: number;
}

export type HeadSpec = DarknetHeadSpec | Yolov5HeadSpec | AnchorDeltasHeadSpec | SsdHeadSpec;

/** Indices of the raw outputs a head reads. */
export function headOutputs(head: HeadSpec): number[] {
  switch (head.kind) {
    case 'anchor-deltas':
      return [head.regressionOutput, head.classificationOutput];
    case 'ssd':
      return [...head.locOutputs, ...head.confOutputs];
    default:
      return [head.output];
  }
}

/** Non-maximum suppression settings. */
export interface NmsSpec {
  /**
   * `iou`: greedy IoU NMS (Darknet `do_nms_sort`).
   * `diou`: greedy DIoU NMS: suppress when IoU - (d^2/c^2)^beta > threshold (Darknet `greedynms`
   * uses beta 0.6, `diounms` the cfg's `beta_nms`).
   * `soft`: Gaussian soft-NMS, score *= exp(-iou^2/sigma).
   */
  kind: 'iou' | 'diou' | 'soft';
  /** Per class (default) or class-agnostic. */
  perClass: boolean;
  iouThreshold: number;
  /** DIoU exponent. */
  beta?: number;
  /** Soft-NMS sigma. */
  sigma?: number;
  /**
   * Added to widths and heights of boxes and intersections, in ORIGINAL-image pixels, when NMS
   * computes IoU: 1 is the Fast R-CNN / `py_cpu_nms` "+1 pixel" convention (SSD, RFBNet). When
   * set, IoU NMS runs on original pixels. Default 0 (plain IoU on image-relative coordinates).
   */
  pixelOffset?: number;
  /**
   * torchvision-style batched NMS (YOLOv5, Scaled-YOLOv4): per class through coordinate
   * offsets, boxes of class c shifted by c * classOffset, IoU in float32 on network-input
   * pixels before the boxes are mapped back, score threshold compared in float32. Only with
   * `kind: 'iou'`.
   */
  classOffset?: number;
}

/** A complete model description consumed by preprocess, decode and NMS. */
export interface ModelSpec {
  /** Architecture name, e.g. `yolov3-tiny`. */
  name: string;
  input: InputSpec;
  /** Class names; its length is the class count. */
  classNames: string[];
  /** One entry per decoded head, in output order. */
  heads: HeadSpec[];
  /**
   * `true`: one detection per (box, class) whose score passes the threshold (Darknet).
   * `false`: one detection per box, the best class (YOLOv5, YOLO-FastestV2, EfficientDet).
   */
  multiLabel: boolean;
  /** Score = objectness * class probability; default threshold. */
  scoreThreshold: number;
  nms: NmsSpec;
  /** Maximum detections per image after NMS (0 = unlimited). */
  maxDetections: number;
  /**
   * Model family (a name of the families table, `src/models/families.ts`) whose loss and layer
   * roles training uses. Optional: without it, the first family whose head kinds match.
   */
  family?: string;
}

/** The 80 COCO class names used by Darknet and most YOLO releases. */
export const COCO_CLASSES: string[] = [
  'person', 'bicycle', 'car', 'motorbike', 'aeroplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'sofa', 'pottedplant', 'bed',
  'diningtable', 'toilet', 'tvmonitor', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

/**
 * Largest network input side (height or width, pixels) any loader or builder accepts: cfg
 * `width`/`height`, `inputSize` options, the CLI's `--size`. Published detectors use at most
 * 1536 (YOLOv4-P7); a bound is needed because the input size multiplies every activation
 * (8192 already needs more memory than WebAssembly has).
 */
export const MAX_INPUT_SIDE = 4096;

/**
 * Most classes a model may have (Open Images has 601, YOLO9000 9418). Checked before anything
 * is allocated per class, e.g. default class names.
 */
export const MAX_CLASSES = 100000;

/**
 * Throws unless `side` is an integer in 1..{@link MAX_INPUT_SIDE}; `what` names the option in
 * the message.
 */
export function checkInputSide(side: unknown, what: string): number {
  if (typeof side !== 'number' || !Number.isInteger(side) || side < 1 || side > MAX_INPUT_SIDE) {
    throw new Error(`${what} must be an integer from 1 to ${MAX_INPUT_SIDE} pixels, got ${JSON.stringify(side)}`);
  }
  return side;
}

/** Names `class0 .. class{n-1}` (or COCO names when n is 80). `n` is at most {@link MAX_CLASSES}. */
export function defaultClassNames(n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CLASSES) {
    throw new Error(`a model needs 1 to ${MAX_CLASSES} classes, got ${n}`);
  }
  if (n === COCO_CLASSES.length) return COCO_CLASSES.slice();
  return Array.from({ length: n }, (_, i) => `class${i}`);
}
