/**
 * The `ModelSpec` of a Scaled-YOLOv4 (yolov4-large) model, as its detect.py / test.py run it:
 * letterbox (auto=False, border 114, OpenCV's uint8 INTER_LINEAR resize), RGB / 255; one anchor-major `yolov5` head per Detect level
 * (sigmoid on every channel, xy = (2s - 0.5 + grid) * stride, wh = (2s)^2 * anchor); scores
 * obj * cls, multi-label; torchvision batched NMS (class offsets 4096), at most 300 boxes.
 */
import { ModelSpec, defaultClassNames } from '../../spec';

/** `max_wh` of upstream's non_max_suppression: the per-class box offset. */
export const NMS_CLASS_OFFSET = 4096;
/** `max_det` of upstream's non_max_suppression. */
export const MAX_DETECTIONS = 300;

/** What the spec needs to know of a model. */
export interface ScaledYoloSpecOptions {
  name: string;
  inputSize: [number, number];
  strides: number[];
  /** Anchors per level `[w, h]` in input pixels. */
  anchors: [number, number][][];
  numClasses: number;
  classNames?: string[];
}

/** Build the spec (detect.py's defaults: conf 0.4, IoU 0.5). */
export function scaledYoloSpec(o: ScaledYoloSpecOptions): ModelSpec {
  const classNames = o.classNames ? o.classNames.slice() : defaultClassNames(o.numClasses);
  if (classNames.length !== o.numClasses) {
    throw new Error(`classNames has ${classNames.length} names but the model has ${o.numClasses} classes`);
  }
  return {
    name: o.name,
    family: 'scaled-yolov4',
    input: {
      size: [o.inputSize[0], o.inputSize[1]],
      resize: 'letterbox',
      letterbox: { align: 'yolov5', padValue: 114 / 255 },
      channelOrder: 'RGB',
      scale: 1 / 255,
      // cv2.resize(INTER_LINEAR) on the uint8 image, as upstream's letterbox
      interpolation: 'opencv-linear-u8',
    },
    classNames,
    heads: o.anchors.map((anchors, l) => ({
      kind: 'yolov5' as const,
      output: l,
      anchors: anchors.map(([w, h]) => [w, h] as [number, number]),
      stride: [o.strides[l], o.strides[l]] as [number, number],
      classActivation: 'sigmoid' as const,
      layout: 'anchor-major' as const,
    })),
    multiLabel: true,
    scoreThreshold: 0.4,
    nms: { kind: 'iou', perClass: true, iouThreshold: 0.5, classOffset: NMS_CLASS_OFFSET },
    maxDetections: MAX_DETECTIONS,
  };
}
