import * as tf from '@tensorflow/tfjs';
import { spatialMean } from '../../src/layers/spatialMean';

describe('spatialMean (two-stage SE squeeze)', () => {
  it('equals the float64 mean over H, W to float32 rounding on a 256x256 map (where one-pass float32 sums drift)', () => {
    const [H, W, C] = [256, 256, 8];
    const inp = tf.input({ shape: [H, W, C] });
    const out = spatialMean(inp, 'sq');
    expect(out.shape).toEqual([null, 1, 1, C]);
    const m = tf.model({ inputs: inp, outputs: out });
    const x = tf.add(tf.mul(tf.randomNormal([2, H, W, C]), 3), 0.5);
    const v = x.dataSync();
    const ref = new Float64Array(2 * C);
    for (let n = 0; n < 2; n++) for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) ref[n * C + c] += v[(n * H * W + i) * C + c] / (H * W);
    const y = m.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 1, 1, C]);
    const got = y.dataSync();
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]));
    expect(err).toBeLessThan(2e-6);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('needs a rank-4 input with known dims', () => {
    expect(() => spatialMean(tf.input({ shape: [null, 4, 3] }), 's')).toThrow(/known H, W, C/);
  });
});
