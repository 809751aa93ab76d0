/**
 * OpenCV-exact INTER_LINEAR uint8 resize: identity at the same size, hand-computed 2x
 * upsampling, and bit-exact against cv2.resize outputs (the rfsong fixtures: OpenCV 4.6).
 */
import { resizeLinearU8OpenCV } from '../../src/preprocess/opencvResize';
import { decodeImageNode } from '../../src/image/decodeImageNode';
import { describeFixtures, fixturePath, readU8 } from '../helpers/fixtures';

describe('resizeLinearU8OpenCV', () => {
  it('is the identity at the same size and interpolates with half-pixel centres', () => {
    const src = Uint8Array.from([0, 10, 20, 255, 7, 100]);
    expect(Array.from(resizeLinearU8OpenCV(src, 2, 3, 1, 2, 3))).toEqual(Array.from(src));
    // 1x2 -> 1x4: x = (d + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> 0, 25, 75, 100 of [0, 100]
    expect(Array.from(resizeLinearU8OpenCV(Uint8Array.from([0, 100]), 1, 2, 1, 1, 4))).toEqual([0, 25, 75, 100]);
    expect(() => resizeLinearU8OpenCV(src, 2, 2, 1, 1, 1)).toThrow(/6 values for 2x2x1/);
  });
});

describeFixtures('rfsong', 'resizeLinearU8OpenCV against cv2.resize (OpenCV 4.6)', () => {
  it.each(['1', '2'])('image %s.jpg -> 300x300 is bit exact', async (img) => {
    const d = await decodeImageNode(fixturePath('rfsong', `${img}.jpg`));
    const out = resizeLinearU8OpenCV(d.data, d.height, d.width, 3, 300, 300);
    const ref = readU8('rfsong', `resized_${img}_hwc_bgr.u8`); // BGR
    let diff = 0;
    for (let i = 0; i < out.length; i += 3) for (let c = 0; c < 3; c++) if (out[i + c] !== ref[i + 2 - c]) diff++;
    expect(diff).toBe(0);
  });
});
