/**
 * OpenCV-exact INTER_LINEAR uint8 resize: identity at the same size, hand-computed 2x
 * upsampling, and bit-exact against cv2.resize outputs (the rfsong fixtures: OpenCV 4.6; and
 * the installed python3-opencv, including the exact-2x shrink OpenCV does as INTER_AREA).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resizeLinearU8OpenCV } from '../../src/preprocess/opencvResize';
import { mulberry32 } from '../../src/util/random';
import { PYTHON, pythonHas } from '../helpers/pythonTorch';
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

describe('resizeLinearU8OpenCV: exact 2x shrink', () => {
  it('equals OpenCV INTER_AREA (rounded 2x2 mean), which cv::resize switches to for scale 2', () => {
    // 2x4 -> 1x2, one channel: (1+2+5+6+2)>>2 = 4, (3+4+7+9+2)>>2 = 6 (the mean 5.75 rounded)
    expect(Array.from(resizeLinearU8OpenCV(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 9]), 2, 4, 1, 1, 2))).toEqual([4, 6]);
    // only both axes exactly 2x: 2x4 -> 1x3 is linear
    expect(Array.from(resizeLinearU8OpenCV(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]), 2, 4, 1, 1, 3))).toEqual([0, 0, 0]);
  });
});

describe('resizeLinearU8OpenCV against the installed OpenCV (python3-opencv)', () => {
  if (!pythonHas('cv2')) {
    it.skip('SKIPPED: /usr/bin/python3 with cv2 is not available (apt-get install python3-opencv)', () => undefined);
    return;
  }
  // [h, w, dstH, dstW]: exact 2x (area path), near-2x (linear), shrinks and enlargements with
  // every 3-channel row length mod 8 (OpenCV's vector loop covers the row tails as well)
  const CASES: [number, number, number, number][] = [
    [576, 768, 288, 384],
    [40, 62, 20, 31],
    [41, 62, 20, 31],
    [406, 500, 312, 384],
    [33, 29, 71, 45],
    ...Array.from({ length: 8 }, (_, k) => [37, 53, 23, k + 1] as [number, number, number, number]),
  ];
  const inputs = CASES.map(([h, w], j) => {
    const rng = mulberry32(j + 7);
    return Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng() * 256));
  });
  let dir: string;
  beforeAll(() => {
    // one python process resizes every case
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvresize-'));
    let py = 'import sys, numpy as np, cv2\nd = sys.argv[1]\n';
    CASES.forEach(([h, w, dh, dw], j) => {
      fs.writeFileSync(path.join(dir, `in${j}.u8`), inputs[j]);
      py += `cv2.resize(np.fromfile(d + "/in${j}.u8", np.uint8).reshape(${h}, ${w}, 3), (${dw}, ${dh}), interpolation=cv2.INTER_LINEAR).tofile(d + "/out${j}.u8")\n`;
    });
    const r = spawnSync(PYTHON, ['-c', py, dir], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`cv2.resize failed: ${r.stderr}`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(CASES.map((c, j) => [...c, j]))('%ix%i -> %ix%i (3 channels) bit exact', (h, w, dh, dw, j) => {
    const ref = new Uint8Array(fs.readFileSync(path.join(dir, `out${j}.u8`)));
    const out = resizeLinearU8OpenCV(inputs[j], h, w, 3, dh, dw);
    let diff = 0;
    for (let i = 0; i < out.length; i++) if (out[i] !== ref[i]) diff++;
    expect([out.length, diff]).toEqual([dh * dw * 3, 0]);
  });
});
