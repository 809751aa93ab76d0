import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { parseImageSize, readImageSize, TruncatedImageHeaderError } from '../../../src/train/data/imageSize';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';

describeFixtures('images', 'readImageSize on the fixture images (vs sharp metadata)', () => {
  for (const f of ['dog.jpg', 'person.jpg', '000004.jpg', '000139.jpg', 'img.png']) {
    it(f, async () => {
      const meta = await sharp(fixturePath('images', f)).metadata();
      const size = await readImageSize(fixturePath('images', f));
      expect([size.width, size.height]).toEqual([meta.width, meta.height]);
      expect(size.format).toBe(f.endsWith('.png') ? 'png' : 'jpeg');
    });
  }
});

describe('parseImageSize on hand-made headers', () => {
  it('PNG IHDR', () => {
    const b = new Uint8Array(24);
    b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    b.set([0, 0, 0x01, 0x2c, 0, 0, 0x00, 0xc8], 16); // 300 x 200
    expect(parseImageSize(b)).toEqual({ width: 300, height: 200, format: 'png' });
    expect(() => parseImageSize(b.slice(0, 20))).toThrow(TruncatedImageHeaderError);
  });

  it('JPEG: skips APPn segments and fill bytes, reads SOF2 (progressive)', () => {
    const app = [0xff, 0xe0, 0x00, 0x06, 1, 2, 3, 4];
    const sof2 = [0xff, 0xff, 0xc2, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03]; // 640 x 480
    const b = new Uint8Array([0xff, 0xd8, ...app, ...sof2, ...new Array(14).fill(0)]);
    expect(parseImageSize(b)).toEqual({ width: 640, height: 480, format: 'jpeg' });
    // DHT (0xC4) is not a frame header
    const dht = [0xff, 0xc4, 0x00, 0x04, 0, 0];
    expect(parseImageSize(new Uint8Array([0xff, 0xd8, ...dht, ...sof2, 0, 0]))).toEqual({ width: 640, height: 480, format: 'jpeg' });
    expect(() => parseImageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 1]))).toThrow(TruncatedImageHeaderError);
    expect(() => parseImageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x04, 0, 0]))).toThrow(/without a frame header/);
  });

  it('GIF and BMP', () => {
    expect(parseImageSize(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x03, 0x58, 0x02]))).toEqual({ width: 800, height: 600, format: 'gif' });
    const bmp = new Uint8Array(26);
    const dv = new DataView(bmp.buffer);
    bmp.set([0x42, 0x4d]);
    dv.setInt32(14, 40, true);
    dv.setInt32(18, 123, true);
    dv.setInt32(22, -45, true); // top-down
    expect(parseImageSize(bmp)).toEqual({ width: 123, height: 45, format: 'bmp' });
  });

  it('rejects unknown formats with a clear message', () => {
    expect(() => parseImageSize(new TextEncoder().encode('hello world, not an image'))).toThrow(/not a JPEG, PNG, GIF or BMP/);
  });
});

describe('readImageSize on files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgsize-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads past a 64 KiB header (large EXIF) to the frame header', async () => {
    const seg = (n: number): number[] => [0xff, 0xe1, (n + 2) >> 8, (n + 2) & 0xff, ...new Array(n).fill(7)];
    const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x20, 0x03, ...new Array(9).fill(0)]; // 32 x 16
    const bytes = Buffer.from([0xff, 0xd8, ...seg(40000), ...seg(40000), ...sof0, 0xff, 0xd9]);
    const f = path.join(dir, 'big.jpg');
    fs.writeFileSync(f, bytes);
    expect(await readImageSize(f)).toEqual({ width: 32, height: 16, format: 'jpeg' });
  });

  it('names the file when it is missing or not an image', async () => {
    await expect(readImageSize(path.join(dir, 'nope.jpg'))).rejects.toThrow(/nope\.jpg: cannot read the image size/);
    const f = path.join(dir, 'text.png');
    fs.writeFileSync(f, 'not really a png');
    await expect(readImageSize(f)).rejects.toThrow(/text\.png: cannot read the image size: not a JPEG/);
  });
});

describe('parseImageSize applies the JPEG EXIF orientation (the upright size loadImage decodes)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i (EXIF written by sharp)', async (o) => {
    const jpeg = await sharp({ create: { width: 40, height: 24, channels: 3, background: '#345' } })
      .withMetadata({ orientation: o })
      .jpeg()
      .toBuffer();
    const swap = o >= 5;
    expect(parseImageSize(jpeg)).toEqual({ width: swap ? 24 : 40, height: swap ? 40 : 24, format: 'jpeg' });
    const meta = await sharp(jpeg).metadata();
    expect(meta.orientation).toBe(o);
  });

  it('a corrupt EXIF segment (IFD offset past the end) is read as no orientation', () => {
    const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 0x2a, 0x00, 0xff, 0xff, 0xff, 0x00];
    const app1 = [0xff, 0xe1, 0x00, exif.length + 2, ...exif];
    const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x20, 0x03];
    expect(parseImageSize(new Uint8Array([0xff, 0xd8, ...app1, ...sof0]))).toEqual({ width: 32, height: 16, format: 'jpeg' });
  });
});
