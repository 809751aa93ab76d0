import { gridAnchors as efficientDetAnchors, anchorCount as efficientDetAnchorCount } from '../../../src/decode/anchors';

describe('efficientDetAnchors', () => {
  const base = { levels: [3, 4], anchorScale: 4, scales: [1, 2], ratios: [[1, 1], [1.4, 0.7]] as [number, number][] };

  it('order level -> y -> x -> anchor (scale-major, ratio-minor), boxes (y1, x1, y2, x2)', () => {
    const a = efficientDetAnchors({ ...base, inputSize: [16, 32] });
    // level 3: 2 x 4 cells x 4 anchors; level 4: 1 x 2 cells x 4 anchors
    expect(efficientDetAnchorCount({ ...base, inputSize: [16, 32] })).toBe(32 + 8);
    expect(a.length).toBe(40 * 4);
    const row = (i: number) => Array.from(a.subarray(i * 4, i * 4 + 4));
    // level 3, cell (y=1, x=2): centre (12, 20); anchor index 3 = scale 2, ratio (1.4, 0.7):
    // base 4*8*2 = 64, half w = 64*1.4/2 = 44.8, half h = 64*0.7/2 = 22.4
    const i = (1 * 4 + 2) * 4 + 3;
    const f = Math.fround;
    expect(row(i)).toEqual([f(12 - 22.4), f(20 - 44.8), f(12 + 22.4), f(20 + 44.8)]);
    // first anchor of level 4, cell (0, 1): centre (8, 24), scale 1 ratio 1: half 32
    expect(row(32 + 4)).toEqual([-24, -8, 40, 56]);
  });

  it('names the problem on bad options', () => {
    expect(() => efficientDetAnchors({ ...base, inputSize: 20 })).toThrow(/input 20x20 must be divisible by the stride 8 of level 3/);
    expect(() => efficientDetAnchors({ ...base, inputSize: 0 })).toThrow(/inputSize must be positive integers/);
    expect(() => efficientDetAnchors({ ...base, ratios: [[1, 0]], inputSize: 32 })).toThrow(/ratios must be \[rx, ry\] pairs > 0/);
    expect(() => efficientDetAnchors({ ...base, levels: [], inputSize: 32 })).toThrow(/levels must be/);
    expect(() => efficientDetAnchors({ ...base, anchorScale: 0, inputSize: 32 })).toThrow(/anchorScale must be > 0/);
  });
});
