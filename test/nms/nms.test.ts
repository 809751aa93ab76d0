import { suppress, boxIou, boxDiou } from '../../src/nms/nms';
import { NmsSpec } from '../../src/spec';

const iou: NmsSpec = { kind: 'iou', perClass: true, iouThreshold: 0.45 };

describe('box overlap', () => {
  test('IoU of hand-computed boxes', () => {
    // [0,0,2,2] and [1,1,3,3]: inter 1, union 7
    expect(boxIou([0, 0, 2, 2, 1, 1, 3, 3], 0, 1)).toBeCloseTo(1 / 7, 12);
    expect(boxIou([0, 0, 1, 1, 2, 2, 3, 3], 0, 1)).toBe(0);
  });

  test('IoU with the +1 pixel convention (py_cpu_nms)', () => {
    // [0,0,2,2] and [1,1,3,3] with +1: areas 3*3 = 9, overlap (2-1+1)^2 = 4, union 14
    expect(boxIou([0, 0, 2, 2, 1, 1, 3, 3], 0, 1, 1)).toBeCloseTo(4 / 14, 12);
    // touching edges overlap by one pixel column under the convention
    expect(boxIou([0, 0, 1, 1, 1, 0, 2, 1], 0, 1, 1)).toBeCloseTo(2 / 6, 12);
    expect(boxIou([0, 0, 1, 1, 1, 0, 2, 1], 0, 1)).toBe(0);
    // [0,0,4,4] vs [2,0,6,4]: plain 8/24 = 0.333 keeps both at 0.4; +1: 15/35 = 0.429 suppresses
    const b = [0, 0, 4, 4, 2, 0, 6, 4];
    const nms: NmsSpec = { kind: 'iou', perClass: false, iouThreshold: 0.4 };
    expect(suppress(b, Float64Array.from([0.9, 0.8]), null, nms).sort()).toEqual([0, 1]);
    expect(suppress(b, Float64Array.from([0.9, 0.8]), null, { ...nms, pixelOffset: 1 })).toEqual([0]);
  });

  test('DIoU = IoU - (d^2/c^2)^beta', () => {
    // centres (1,1) and (2,2): d^2 = 2; enclosing [0,0,3,3]: c^2 = 18
    const b = [0, 0, 2, 2, 1, 1, 3, 3];
    expect(boxDiou(b, 0, 1, 0.6)).toBeCloseTo(1 / 7 - Math.pow(2 / 18, 0.6), 12);
    expect(boxDiou(b, 0, 1, 1)).toBeCloseTo(1 / 7 - 2 / 18, 12);
  });
});

describe('suppress', () => {
  // Three boxes: 0 and 1 overlap with IoU 0.6 (above 0.45), 2 is far away.
  const boxes = [0, 0, 10, 10, 0, 0, 10, 6, 50, 50, 60, 60];
  test('greedy IoU keeps the higher score and the distant box', () => {
    const keep = suppress(boxes, Float64Array.from([0.9, 0.8, 0.7]), null, iou);
    expect(keep.sort()).toEqual([0, 2]);
  });

  test('threshold is strict (IoU exactly 0.6 with threshold 0.6 keeps both)', () => {
    const keep = suppress(boxes, Float64Array.from([0.9, 0.8, 0.7]), null, { ...iou, iouThreshold: 0.6 });
    expect(keep.sort()).toEqual([0, 1, 2]);
  });

  test('per-class: boxes of different classes never suppress each other; agnostic does', () => {
    const scores = Float64Array.from([0.9, 0.8, 0.7]);
    expect(suppress(boxes, scores, [0, 1, 0], iou).sort()).toEqual([0, 1, 2]);
    expect(suppress(boxes, scores, null, { ...iou, perClass: false }).sort()).toEqual([0, 2]);
  });

  test('a suppressed box does not suppress others (chain A>B>C, A-C disjoint)', () => {
    const chain = [0, 0, 10, 10, 4, 0, 14, 10, 9, 0, 19, 10]; // IoU(A,B)=6/14, IoU(B,C)=5/15, A-C 1/19
    const keep = suppress(chain, Float64Array.from([0.9, 0.8, 0.7]), null, { ...iou, iouThreshold: 0.4 });
    expect(keep.sort()).toEqual([0, 2]);
  });

  test('DIoU NMS is more permissive than IoU NMS for offset boxes', () => {
    const b = [0, 0, 10, 10, 3, 0, 13, 10]; // IoU = 70/130 = 0.538
    const s = Float64Array.from([0.9, 0.8]);
    expect(suppress(b, s, null, { ...iou, iouThreshold: 0.5 }).length).toBe(1);
    // d^2 = 9, c^2 = 13^2 + 10^2 = 269 -> (9/269)^0.6 = 0.130 -> DIoU 0.408 < 0.5 keeps both
    expect(suppress(b, s, null, { kind: 'diou', beta: 0.6, perClass: true, iouThreshold: 0.5 }).length).toBe(2);
  });

  test('soft-NMS decays overlapping scores by exp(-iou^2/sigma) and drops those under the threshold', () => {
    const s = Float64Array.from([0.9, 0.8, 0.7]);
    const keep = suppress(boxes, s, null, { kind: 'soft', perClass: true, iouThreshold: 0.45, sigma: 0.5 }, 0.1);
    expect(keep).toEqual([0, 2, 1]);
    expect(s[1]).toBeCloseTo(0.8 * Math.exp(-(0.6 * 0.6) / 0.5), 12);
    const s2 = Float64Array.from([0.9, 0.8, 0.7]);
    const keep2 = suppress(boxes, s2, null, { kind: 'soft', perClass: true, iouThreshold: 0.45, sigma: 0.5 }, 0.5);
    expect(keep2).toEqual([0, 2]);
  });
});
