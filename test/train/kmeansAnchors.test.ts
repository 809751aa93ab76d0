import { cornerIoU, kmeansAnchors } from '../../src/train/kmeansAnchors';

describe('kmeansAnchors', () => {
  const small: [number, number][] = [[10, 10], [10, 12], [12, 10]];
  const large: [number, number][] = [[100, 100], [100, 110], [110, 100]];

  it('finds two obvious clusters: centres are the member means, avgIoU by hand', () => {
    for (const seed of [0, 1, 2, 3, 42]) {
      const r = kmeansAnchors([...large, ...small], 2, { seed });
      expect(r.anchors[0][0]).toBeCloseTo(32 / 3, 12);
      expect(r.anchors[0][1]).toBeCloseTo(32 / 3, 12);
      expect(r.anchors[1][0]).toBeCloseTo(310 / 3, 12);
      expect(r.anchors[1][1]).toBeCloseTo(310 / 3, 12);
      // small: (10,10) vs (32/3)^2: 100 / (1024/9) = 900/1024; (10,12): (320/3) / (120 + 1024/9 - 320/3) = 960/1144
      // large: (100,100): 10000 / (310/3)^2 = 90000/96100; (100,110): (31000/3) / (11000 + 96100/9 - 31000/3) = 93000/102100
      const want = (900 / 1024 + 2 * (960 / 1144) + 90000 / 96100 + 2 * (93000 / 102100)) / 6;
      expect(r.avgIoU).toBeCloseTo(want, 12);
    }
  });

  it('k = 1 gives the mean box; anchors are sorted by area', () => {
    const r = kmeansAnchors([[1, 9], [3, 3], [5, 6]], 1);
    expect(r.anchors).toEqual([[3, 6]]);
    const r3 = kmeansAnchors([[50, 50], [5, 5], [20, 20]], 3, { seed: 7 });
    expect(r3.anchors).toEqual([[5, 5], [20, 20], [50, 50]]);
    expect(r3.avgIoU).toBe(1);
  });

  it('is deterministic under a seed and depends on it for ambiguous data', () => {
    let s = 12345;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const boxes: [number, number][] = Array.from({ length: 400 }, () => [5 + rnd() * 300, 5 + rnd() * 300]);
    const a = kmeansAnchors(boxes, 6, { seed: 11 });
    const b = kmeansAnchors(boxes, 6, { seed: 11 });
    expect(b).toEqual(a);
    const results = [1, 2, 3, 4, 5].map((seed) => JSON.stringify(kmeansAnchors(boxes, 6, { seed }).anchors));
    expect(new Set(results).size).toBeGreaterThan(1);
    // the mean IoU is the mean of each box's best IoU with the returned anchors
    const mean = boxes.reduce((acc, [w, h]) => acc + Math.max(...a.anchors.map(([aw, ah]) => cornerIoU(w, h, aw, ah))), 0) / boxes.length;
    expect(a.avgIoU).toBeCloseTo(mean, 12);
    expect(a.avgIoU).toBeGreaterThan(0.5);
  });

  it('rejects bad input with clear messages', () => {
    expect(() => kmeansAnchors(small, 0)).toThrow(/k must be a positive integer/);
    expect(() => kmeansAnchors(small, 4)).toThrow(/at least k = 4 boxes, got 3/);
    expect(() => kmeansAnchors([[1, 1], [0, 2]], 1)).toThrow(/box 1 \[0,2\] needs a positive/);
    expect(() => kmeansAnchors(small, 1, { iterations: 0 })).toThrow(/iterations must be a positive integer/);
  });
});
