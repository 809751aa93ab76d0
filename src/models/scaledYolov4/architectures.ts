/**
 * The model dicts of the published yolov4-large models (`models/yolov4-p5.yaml`, `-p6`, `-p7`
 * of WongKinYiu/ScaledYOLOv4, branch yolov4-large), generated from their common shape: a CSP
 * backbone with one stride-2 stage per level, SPPCSP on top, a top-down path of
 * BottleneckCSP2 blocks and a bottom-up path back to every level. The rows are exactly the
 * files' rows (checked against upstream's layer tables and parameter counts).
 */
import { ModelDict } from './planModel';

/** The published sizes. */
export type LargeModelName = 'yolov4-p5' | 'yolov4-p6' | 'yolov4-p7';

/** Anchors per level (flat w,h lists) of each published model. */
const ANCHORS: Record<LargeModelName, number[][]> = {
  'yolov4-p5': [
    [13, 17, 31, 25, 24, 51, 61, 45],
    [48, 102, 119, 96, 97, 189, 217, 184],
    [171, 384, 324, 451, 616, 618, 800, 800],
  ],
  'yolov4-p6': [
    [13, 17, 31, 25, 24, 51, 61, 45],
    [61, 45, 48, 102, 119, 96, 97, 189],
    [97, 189, 217, 184, 171, 384, 324, 451],
    [324, 451, 545, 357, 616, 618, 1024, 1024],
  ],
  'yolov4-p7': [
    [13, 17, 22, 25, 27, 66, 55, 41],
    [57, 88, 112, 69, 69, 177, 136, 138],
    [136, 138, 287, 114, 134, 275, 268, 248],
    [268, 248, 232, 504, 445, 416, 640, 640],
    [812, 393, 477, 808, 1070, 908, 1408, 1408],
  ],
};

const MULTIPLES: Record<LargeModelName, [number, number]> = {
  'yolov4-p5': [1.0, 1.0],
  'yolov4-p6': [1.0, 1.0],
  'yolov4-p7': [1.0, 1.25],
};

type Row = [number | number[], number, string, unknown[]];

/**
 * The model dict of a yolov4-large model with detection levels P3..P`top` (5, 6 or 7).
 * `depth` / `width` multiples default to the published ones.
 */
export function largeModelDict(name: LargeModelName, opts: { nc?: number; depth?: number; width?: number } = {}): ModelDict {
  const top = { 'yolov4-p5': 5, 'yolov4-p6': 6, 'yolov4-p7': 7 }[name];
  const [gd, gw] = MULTIPLES[name];
  // Backbone: stem, then one stride-2 Conv + BottleneckCSP per level P1..P`top`.
  const stageChannels = [64, 128, 256, 512, 1024, 1024, 1024];
  const stageDepth = [1, 3, 15, 15, 7, 7, 7];
  const backbone: Row[] = [[-1, 1, 'Conv', [32, 3, 1]]];
  const levelOut: number[] = []; // backbone output index of level P1.. (index = level - 1)
  for (let p = 1; p <= top; p++) {
    backbone.push([-1, 1, 'Conv', [stageChannels[p - 1], 3, 2]]);
    backbone.push([-1, stageDepth[p - 1], 'BottleneckCSP', [stageChannels[p - 1]]]);
    levelOut.push(backbone.length - 1);
  }
  // Head channels of level p on the top-down path.
  const width = (p: number): number => Math.min(128 << (p - 3), 512);
  const head: Row[] = [];
  const at = (): number => backbone.length + head.length; // index of the next row
  head.push([-1, 1, 'SPPCSP', [512]]);
  const topDown: number[] = []; // index of the top-down output of level p (index p - 3)
  topDown[top - 3] = at() - 1;
  for (let p = top - 1; p >= 3; p--) {
    const c = width(p);
    head.push([-1, 1, 'Conv', [c, 1, 1]]);
    head.push([-1, 1, 'nn.Upsample', ['None', 2, 'nearest']]);
    head.push([levelOut[p - 1] - at(), 1, 'Conv', [c, 1, 1]]);
    head.push([[-1, -2], 1, 'Concat', [1]]);
    head.push([-1, 3, 'BottleneckCSP2', [c]]);
    topDown[p - 3] = at() - 1;
  }
  const outputs: number[] = [];
  head.push([-1, 1, 'Conv', [2 * width(3), 3, 1]]);
  outputs.push(at() - 1);
  for (let p = 4; p <= top; p++) {
    const c = width(p);
    head.push([-2, 1, 'Conv', [c, 3, 2]]);
    head.push([[-1, topDown[p - 3]], 1, 'Concat', [1]]);
    head.push([-1, 3, 'BottleneckCSP2', [c]]);
    head.push([-1, 1, 'Conv', [2 * c, 3, 1]]);
    outputs.push(at() - 1);
  }
  head.push([outputs, 1, 'Detect', ['nc', 'anchors']]);
  return {
    nc: opts.nc ?? 80,
    depth_multiple: opts.depth ?? gd,
    width_multiple: opts.width ?? gw,
    anchors: ANCHORS[name].map((a) => a.slice()),
    backbone,
    head,
  };
}
