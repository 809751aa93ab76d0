/**
 * Encoded images in Node: EXIF orientation applied (every orientation, pixel-exact against our
 * own transform of the stored pixels; a rotated JPEG gives the same boxes as its upright
 * pixels), the pixel limit refused from the header, SVG rasterised at a bounded size, and
 * images far larger than the network shrunk inside sharp (same objects as the original size).
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { loadImage, EXACT_RESIZE_FACTOR } from '../../src/image/loadImage';
import { DEFAULT_MAX_IMAGE_PIXELS, SVG_MAX_SIDE } from '../../src/image/decodeImageNode';
import { preprocessImage } from '../../src/preprocess/preprocess';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';
import { boxIou } from '../../src/nms/nms';
import { InputSpec } from '../../src/spec';
import { Detector } from '../../src/detector';
import { describeFixtures, fixturePath } from '../helpers/fixtures';
import { pngClaiming, whitePng } from '../helpers/hostilePng';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as (input?: Uint8Array | import('sharp').SharpOptions, o?: import('sharp').SharpOptions) => import('sharp').Sharp;

const stretch = (size: number): InputSpec => ({ size: [size, size], resize: 'stretch', channelOrder: 'RGB', scale: 1 / 255 });

interface Raw {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The upright image of stored pixels with EXIF `orientation` (1-8), as the EXIF spec defines it. */
function orientUpright(s: Raw, orientation: number): Raw {
  const swap = orientation >= 5;
  const W = swap ? s.height : s.width;
  const H = swap ? s.width : s.height;
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Stored pixel (sx, sy) shown at upright (x, y).
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 1: [sx, sy] = [x, y]; break;
        case 2: [sx, sy] = [s.width - 1 - x, y]; break;
        case 3: [sx, sy] = [s.width - 1 - x, s.height - 1 - y]; break;
        case 4: [sx, sy] = [x, s.height - 1 - y]; break;
        case 5: [sx, sy] = [y, x]; break;
        case 6: [sx, sy] = [y, s.height - 1 - x]; break;
        case 7: [sx, sy] = [s.width - 1 - y, s.height - 1 - x]; break;
        default: [sx, sy] = [s.width - 1 - y, x]; break;
      }
      out.set(s.data.subarray((sy * s.width + sx) * 3, (sy * s.width + sx) * 3 + 3), (y * W + x) * 3);
    }
  }
  return { data: out, width: W, height: H };
}

/** Stored pixels of a file, as written (no orientation applied). */
async function storedPixels(bytes: Uint8Array): Promise<Raw> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

describe('EXIF orientation is applied', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i: loadImage gives the upright pixels, size swapped for 5-8', async (o) => {
    const w = 7;
    const h = 4;
    const px = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 251);
    const png = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation: o }).png().toBuffer();
    const img = await loadImage(png);
    const want = orientUpright(await storedPixels(png), o);
    expect(img.tensor.shape).toEqual([want.height, want.width, 3]);
    expect(img.originalSize).toEqual([want.height, want.width]);
    expect(Array.from(img.tensor.dataSync())).toEqual(Array.from(want.data));
    img.tensor.dispose();
  });
});

describe('pixel limit and SVG', () => {
  test('a 16000x16000 PNG is refused from its header, quickly, with its size and the limit', async () => {
    const png = await pngClaiming(16000, 16000);
    expect(png.length).toBeLessThan(200);
    await expect(loadImage(png)).rejects.toThrow(
      /image buffer is 16000x16000 \(256\.0 megapixels\), over the limit of 101\.8 megapixels; raise the maxPixels option/,
    );
    expect(DEFAULT_MAX_IMAGE_PIXELS).toBe(11648 * 8736);
  });

  test('maxPixels is configurable per call (and checked)', async () => {
    const jpg = fixturePath('images/dog.jpg');
    if (!fs.existsSync(jpg)) return;
    await expect(loadImage(jpg, { maxPixels: 1000 })).rejects.toThrow(/is 768x576 \(0\.4 megapixels\), over the limit of 0\.0 megapixels/);
    await expect(loadImage(jpg, { maxPixels: -1 })).rejects.toThrow(/maxPixels must be a positive integer, got -1/);
  });

  const svg16000 = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><rect x="4000" y="4000" width="8000" height="8000" fill="#fff"/></svg>',
  );

  test('a 16000x16000 SVG is rasterised with its longest side at most SVG_MAX_SIDE', async () => {
    const img = await loadImage(svg16000);
    expect(img.tensor.shape).toEqual([SVG_MAX_SIDE, SVG_MAX_SIDE, 3]);
    img.tensor.dispose();
  });

  test('with fitTo, a 16000x16000 SVG is rendered straight at the content size and boxes stay in its 16000 frame', async () => {
    const img = await loadImage(svg16000, { fitTo: stretch(64) });
    expect(img.tensor.shape).toEqual([64, 64, 3]);
    expect(img.originalSize).toEqual([16000, 16000]);
    // The white square covers the middle half.
    const v = img.tensor.arraySync() as number[][][];
    expect(v[32][32]).toEqual([255, 255, 255]);
    expect(v[2][2]).toEqual([0, 0, 0]);
    const pre = preprocessImage(img.tensor, stretch(64), img.originalSize);
    expect(pre.imageSize).toEqual([16000, 16000]);
    expect(pre.geometry.inverseScale).toEqual([250, 250]);
    tf.dispose([img.tensor, pre.tensor]);
  });
});

describeFixtures('darknet/weights/yolo-fastest-1.1.weights', 'detect on oriented and oversized JPEGs (Yolo-Fastest 1.1, real weights)', () => {
  let det: Detector;
  let dogPixels: Raw;
  beforeAll(async () => {
    det = loadDarknet(
      fs.readFileSync(fixturePath('darknet/weights/yolo-fastest-1.1.cfg'), 'utf8'),
      fs.readFileSync(fixturePath('darknet/weights/yolo-fastest-1.1.weights')),
    );
    dogPixels = await storedPixels(fs.readFileSync(fixturePath('images/dog.jpg')));
  });
  afterAll(() => det?.dispose());

  test('a JPEG stored rotated with EXIF orientation 6 gives exactly the boxes of its upright pixels', async () => {
    // Stored sideways (rotated 90 degrees counter-clockwise); orientation 6 says "turn it back".
    const jpeg = await sharp(dogPixels.data, { raw: { width: dogPixels.width, height: dogPixels.height, channels: 3 } })
      .rotate(270)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).width).toBe(576);
    const upright = orientUpright(await storedPixels(jpeg), 6);
    expect([upright.width, upright.height]).toEqual([768, 576]);
    const fromJpeg = await det.detect(jpeg);
    const fromPixels = await det.detect(upright);
    expect(fromJpeg.length).toBeGreaterThan(3);
    expect(fromJpeg).toEqual(fromPixels);
    // And the objects are those of the original upright dog.jpg (after a JPEG re-encode).
    const ref = await det.detect(fixturePath('images/dog.jpg'));
    for (const r of ref.filter((d) => d.score > 0.5)) {
      const best = Math.max(...fromJpeg.filter((d) => d.classId === r.classId).map((d) => boxIou([...d.box, ...r.box], 0, 1)));
      expect(best).toBeGreaterThan(0.9);
    }
  });

  test(`an image over ${EXACT_RESIZE_FACTOR}x the network size is shrunk in sharp (no full-size tensor) and finds the same objects`, async () => {
    const k = 2;
    const big = await sharp(dogPixels.data, { raw: { width: dogPixels.width, height: dogPixels.height, channels: 3 } })
      .resize(768 * k, 576 * k, { kernel: 'cubic' })
      .jpeg({ quality: 95 })
      .toBuffer();
    const loaded = await loadImage(big, { fitTo: det.spec.input });
    expect(loaded.tensor.shape).toEqual([...det.spec.input.size, 3]);
    expect(loaded.originalSize).toEqual([576 * k, 768 * k]);
    loaded.tensor.dispose();
    const ours = await det.detect(big);
    const ref = await det.detect(fixturePath('images/dog.jpg'));
    for (const r of ref.filter((d) => d.score > 0.5)) {
      const scaled = r.box.map((v) => v * k);
      const best = Math.max(...ours.filter((d) => d.classId === r.classId).map((d) => boxIou([...d.box, ...scaled], 0, 1)));
      expect(best).toBeGreaterThan(0.85);
    }
  });
});

describe('SVG embedding raster images (the SVG renderer decodes them at full size)', () => {
  const svgWith = (href: string) =>
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="320" height="320"><image width="320" height="320" xlink:href="${href}"/></svg>`,
    );

  test('an embedded 16000x16000 PNG is refused from its header (it used to cost 2.3 GB and 20 s)', async () => {
    const svg = svgWith(`data:image/png;base64,${whitePng(16000, 16000).toString('base64')}`);
    await expect(loadImage(svg)).rejects.toThrow(/SVG embeds a 16000x16000 image \(256\.0 megapixels\), over the limit of 101\.8 megapixels/);
  });

  test('a small embedded PNG renders; nested SVG and non-base64 embedded images are refused', async () => {
    const ok = await loadImage(svgWith(`data:image/png;base64,${whitePng(64, 64).toString('base64')}`));
    expect(ok.tensor.shape).toEqual([320, 320, 3]);
    expect(Array.from(ok.tensor.dataSync().slice(0, 3))).toEqual([255, 255, 255]);
    ok.tensor.dispose();
    const inner = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>').toString('base64');
    await expect(loadImage(svgWith(`data:image/svg+xml;base64,${inner}`))).rejects.toThrow(/SVG embeds another SVG; not supported/);
    await expect(loadImage(svgWith('data:image/png;utf8,abc'))).rejects.toThrow(/SVG embeds a non-base64 'image\/png;utf8' data URI/);
  });
});
