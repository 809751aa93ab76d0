import { resizeGeometry, unmapBoxes } from '../../src/preprocess/geometry';
import { InputSpec } from '../../src/spec';

const spec = (resize: 'stretch' | 'letterbox', align: 'darknet' | 'center' | 'top-left' = 'darknet'): InputSpec => ({
  size: [320, 320],
  resize,
  letterbox: { align, padValue: 0.5 },
  channelOrder: 'RGB',
  scale: 1 / 255,
});

describe('resizeGeometry / unmapBoxes', () => {
  test('stretch maps each axis by its own ratio', () => {
    const g = resizeGeometry(spec('stretch'), [334, 500]);
    const b = [32, 64, 160, 320];
    unmapBoxes(b, g);
    expect(b).toEqual([50, (64 * 334) / 320, 250, 334]);
  });

  test('Darknet letterbox: 500x334 -> 320x213 pasted 53 rows down, boxes corrected by 53.5 (pitfall 14)', () => {
    const g = resizeGeometry(spec('letterbox', 'darknet'), [334, 500]);
    expect(g.contentSize).toEqual([213, 320]);
    expect(g.offset).toEqual([53, 0]);
    expect(g.inverseOffset).toEqual([53.5, 0]);
    const b = [0, 53.5, 320, 266.5];
    unmapBoxes(b, g);
    expect(b[0]).toBeCloseTo(0, 10);
    expect(b[1]).toBeCloseTo(0, 10);
    expect(b[2]).toBeCloseTo(500, 10);
    expect(b[3]).toBeCloseTo(334, 10);
  });

  test('centred letterbox uses the integer offset both ways', () => {
    const g = resizeGeometry(spec('letterbox', 'center'), [334, 500]);
    expect(g.inverseOffset).toEqual([53, 0]);
  });

  test('top-left (EfficientDet): int(512/768*576) = 384 rows, inverse divides by new/old per axis', () => {
    const s = { ...spec('letterbox', 'top-left'), size: [512, 512] as [number, number] };
    const g = resizeGeometry(s, [576, 768]);
    expect(g.contentSize).toEqual([384, 512]);
    expect(g.offset).toEqual([0, 0]);
    const b = [512, 384, 512, 384];
    unmapBoxes(b, g);
    expect(b).toEqual([768, 576, 768, 576]);
  });

  test('portrait image letterboxes by height', () => {
    const g = resizeGeometry(spec('letterbox', 'darknet'), [640, 480]);
    expect(g.contentSize).toEqual([320, 240]);
    expect(g.offset).toEqual([0, 40]);
  });

  test('bad image size is an error', () => {
    expect(() => resizeGeometry(spec('stretch'), [0, 10])).toThrow(/image size must be positive/);
  });
});
