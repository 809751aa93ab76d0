import * as tf from '@tensorflow/tfjs';
import { darknetMaxPool, DarknetMaxPool2D } from '../../src/layers/darknetMaxPool';

/** Naive Darknet maxpool (maxpool_layer.c): out = (n+pad-size)/stride+1, offset -pad/2, -FLT_MAX outside. */
function refPool(x: Float32Array, h: number, w: number, c: number, size: number, stride: number, padding: number) {
  const oh = Math.floor((h + padding - size) / stride) + 1;
  const ow = Math.floor((w + padding - size) / stride) + 1;
  const off = -Math.floor(padding / 2);
  const out = new Float32Array(oh * ow * c);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let k = 0; k < c; k++) {
        let m = -3.4028234663852886e38;
        for (let n = 0; n < size; n++)
          for (let mm = 0; mm < size; mm++) {
            const y = off + i * stride + n;
            const xx = off + j * stride + mm;
            if (y >= 0 && y < h && xx >= 0 && xx < w) m = Math.max(m, x[(y * w + xx) * c + k]);
          }
        out[(i * ow + j) * c + k] = m;
      }
  return { out, oh, ow };
}

describe('darknetMaxPool', () => {
  // [h, w, size, stride, padding | undefined, expected layer class]
  const cases: [number, number, number, number, number | undefined, string][] = [
    [13, 13, 2, 1, undefined, 'MaxPooling2D'], // tiny YOLOv3 layer 11: stays 13x13
    [26, 26, 2, 2, undefined, 'MaxPooling2D'], // the size-2 stride-2 pools
    [13, 13, 2, 2, undefined, 'MaxPooling2D'], // odd map: ceil(13/2) = 7
    [10, 10, 5, 1, undefined, 'MaxPooling2D'], // SPP
    [10, 10, 9, 1, undefined, 'MaxPooling2D'],
    [10, 10, 13, 1, undefined, 'MaxPooling2D'], // window wider than the map
    [13, 13, 3, 1, undefined, 'MaxPooling2D'],
    [12, 12, 3, 2, undefined, 'YoloTfjsDarknetMaxPool2D'], // Darknet pads 1 before, TF 'same' 0
    [9, 8, 3, 2, 0, 'MaxPooling2D'], // padding 0 = 'valid'
    [9, 8, 3, 2, 1, 'YoloTfjsDarknetMaxPool2D'], // 'valid' on H but 'same' on W
    [8, 8, 2, 2, 0, 'MaxPooling2D'], // explicit padding 0 = 'valid'
    [7, 9, 4, 3, 5, 'YoloTfjsDarknetMaxPool2D'],
  ];

  it.each(cases)('%ix%i size %i stride %i padding %s matches the naive reference (%s)', (h, w, size, stride, padding, cls) => {
    const c = 3;
    const inp = tf.input({ shape: [h, w, c] });
    const m = tf.model({ inputs: inp, outputs: darknetMaxPool(inp, { size, stride, padding, name: 'mp' }) });
    expect(m.getLayer('mp').getClassName()).toBe(cls);
    // negative values everywhere so that a zero-padded pool would be caught
    const xData = Float32Array.from({ length: h * w * c }, (_, i) => -1 - Math.abs(Math.sin(i * 12.9898) * 437.5453) % 1 * 10);
    const ref = refPool(xData, h, w, c, size, stride, padding ?? size - 1);
    expect(m.outputs[0].shape).toEqual([null, ref.oh, ref.ow, c]);
    const y = m.predict(tf.tensor4d(xData, [1, h, w, c])) as tf.Tensor;
    expect(y.shape).toEqual([1, ref.oh, ref.ow, c]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(ref.out));
    tf.dispose(y);
    m.dispose();
  });

  it('tiny YOLOv3 2x2/1 keeps 13x13 and the custom layer round-trips through JSON', async () => {
    const inp = tf.input({ shape: [12, 12, 2] });
    const m = tf.model({ inputs: inp, outputs: new DarknetMaxPool2D({ size: 3, stride: 2, padding: 2, name: 'p' }).apply(inp) as tf.SymbolicTensor });
    const m2 = await tf.models.modelFromJSON({ modelTopology: m.toJSON(null, false) } as tf.io.ModelJSON);
    expect(m2.getLayer('p').getConfig()).toMatchObject({ size: 3, stride: 2, padding: 2 });
    expect(m2.outputs[0].shape).toEqual([null, 6, 6, 2]);
    m.dispose();
    m2.dispose();
  });

  it('rejects bad options', () => {
    const inp = tf.input({ shape: [4, 4, 1] });
    expect(() => darknetMaxPool(inp, { size: 0 })).toThrow(/size must be an integer >= 1/);
    expect(() => darknetMaxPool(inp, { size: 2, stride: 1.5 })).toThrow(/stride must be an integer >= 1/);
    expect(() => darknetMaxPool(inp, { size: 9, stride: 1, padding: 0 })).toThrow(/does not fit an input of 4/);
  });
});
