import * as tf from '@tensorflow/tfjs';
import { preprocessImage } from '../../src/preprocess/preprocess';
import { loadImage } from '../../src/image/loadImage';
import { InputSpec } from '../../src/spec';
import { describeFixtures, readF32, readU8, readJson, fixturePath, maxAbsDiff } from '../helpers/fixtures';

const darknetInput = (size: number, letterbox: boolean): InputSpec => ({
  size: [size, size],
  resize: letterbox ? 'letterbox' : 'stretch',
  letterbox: { align: 'darknet', padValue: 0.5 },
  channelOrder: 'RGB',
  scale: 1 / 255,
});

describe('preprocessImage (synthetic)', () => {
  test('BGR swaps channels, mean/std normalise, top-left letterbox pads after normalising', () => {
    const img = tf.tensor3d([10, 20, 30, 40, 50, 60], [1, 2, 3], 'int32'); // 1x2 image
    const spec: InputSpec = {
      size: [4, 4],
      resize: 'letterbox',
      letterbox: { align: 'top-left', padValue: 0 },
      channelOrder: 'BGR',
      scale: 1,
      mean: [1, 2, 3],
      std: [2, 2, 2],
    };
    const r = preprocessImage(img, spec);
    expect(r.tensor.shape).toEqual([1, 4, 4, 3]);
    expect(r.geometry.contentSize).toEqual([2, 4]);
    const v = r.tensor.arraySync()[0];
    // top-left pixel after resize 1x2 -> 2x4 is the first source pixel (10,20,30) -> BGR (30,20,10)
    expect(v[0][0]).toEqual([(30 - 1) / 2, (20 - 2) / 2, (10 - 3) / 2]);
    expect(v[3][3]).toEqual([0, 0, 0]); // padding
    r.tensor.dispose();
    img.dispose();
  });

  test('rejects a non-RGB tensor with a clear message', () => {
    const gray = tf.zeros([4, 4, 1]) as tf.Tensor3D;
    expect(() => preprocessImage(gray, darknetInput(8, false))).toThrow(/RGB image tensor \[height, width, 3\], got shape \[4, 4, 1\]/);
    gray.dispose();
  });
});

describeFixtures('darknet', 'preprocessImage reproduces the Darknet harness inputs', () => {
  test('stretch 416 (yolov3-tiny, dog): half-pixel bilinear, /255', () => {
    const u8 = readU8('darknet/yolov3-tiny/orig_dog_hwc.u8');
    const img = tf.tensor3d(Int32Array.from(u8), [576, 768, 3], 'int32');
    const r = preprocessImage(img, darknetInput(416, false));
    const err = maxAbsDiff(r.tensor.dataSync(), readF32('darknet/yolov3-tiny/input_dog_hwc.f32'));
    expect(err).toBeLessThan(5e-5); // bit-exact on tfjs cpu; wasm's bilinear rounds differently (< 0.01 grey level)
    tf.dispose([img, r.tensor]);
  });

  test('Darknet letterbox 320 (yolov4-csp-s-mish, dog): 320x240 at (0, 40), pad 0.5', () => {
    const u8 = readU8('darknet/yolov3-tiny/orig_dog_hwc.u8');
    const img = tf.tensor3d(Int32Array.from(u8), [576, 768, 3], 'int32');
    const r = preprocessImage(img, darknetInput(320, true));
    const run = readJson('darknet/yolov4-csp-s-mish/detections_yolov4-csp-s-mish_dog.json').letterbox;
    expect(r.geometry.contentSize).toEqual([run.new_h, run.new_w]);
    expect(r.geometry.offset).toEqual([run.dy, run.dx]);
    const err = maxAbsDiff(r.tensor.dataSync(), readF32('darknet/yolov4-csp-s-mish/input_dog_hwc.f32'));
    expect(err).toBeLessThan(5e-5); // bit-exact on tfjs cpu; wasm's bilinear rounds differently (< 0.01 grey level)
    tf.dispose([img, r.tensor]);
  });

  test('loadImage decodes a JPEG from a path and a Buffer (within JPEG decoder differences of stb_image)', async () => {
    const a = await loadImage(fixturePath('images/dog.jpg'));
    expect(a.tensor.shape).toEqual([576, 768, 3]);
    const ref = readU8('darknet/yolov3-tiny/orig_dog_hwc.u8');
    const ours = a.tensor.dataSync();
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(ours[i] - ref[i]);
    expect(sum / ref.length).toBeLessThan(1.5); // libjpeg-turbo vs stb_image: +-1 level typically
    a.tensor.dispose();
    const fs = await import('fs');
    const b = await loadImage(fs.readFileSync(fixturePath('images/dog.jpg')));
    expect(b.tensor.shape).toEqual([576, 768, 3]);
    b.tensor.dispose();
  });
});

describe('loadImage errors', () => {
  test('missing file, not an image, wrong ImageData size', async () => {
    await expect(loadImage('/nonexistent/x.jpg')).rejects.toThrow(/image file not found: \/nonexistent\/x.jpg/);
    await expect(loadImage(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/not a readable image/);
    await expect(loadImage({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(/does not fit 2x2/);
  });

  test('ImageData-like RGBA input drops alpha', async () => {
    const r = await loadImage({ data: new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 255]), width: 2, height: 1 });
    expect(Array.from(r.tensor.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    r.tensor.dispose();
  });
});
