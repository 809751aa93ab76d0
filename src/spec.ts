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

export type HeadSpec = DarknetHeadSpec | Yolov5HeadSpec | AnchorDeltasHeadSpec;

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

/** Names `class0 .. class{n-1}` (or COCO names when n is 80). */
export function defaultClassNames(n: number): string[] {
  if (n === COCO_CLASSES.length) return COCO_CLASSES.slice();
  return Array.from({ length: n }, (_, i) => `class${i}`);
}
