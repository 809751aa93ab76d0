import * as tf from '@tensorflow/tfjs';
import { ChannelShuffleSplit, channelShuffleSplit } from '../../src/layers/channelShuffle';

/**
 * Upstream's split on an NCHW array, written out literally:
 * reshape(N*C/2, 2, HW) -> permute(1, 0, 2) -> reshape(2, N, C/2, H, W) -> part j.
 */
function upstreamSplitNchw(x: Float32Array, n: number, c: number, hw: number, j: number): Float32Array {
  // a[r][g][p] with r in N*C/2, g in 2, p in HW: flat index (r*2 + g)*hw + p.
  const rows = (n * c) / 2;
  const out = new Float32Array(rows * hw);
  // permute(1,0,2): b[g][r][p] = a[r][g][p]; part j = b[j], reshaped to (N, C/2, HW) row-major.
  for (let r = 0; r < rows; r++) for (let p = 0; p < hw; p++) out[r * hw + p] = x[(r * 2 + j) * hw + p];
  return out;
}

describe('ChannelShuffleSplit', () => {
  it('reproduces upstream reshape/permute/reshape: part 0 = even channels, part 1 = odd channels', () => {
    const [n, h, w, c] = [2, 3, 2, 8];
    const nhwc = tf.tidy(() => tf.randomNormal([n, h, w, c], 0, 1, 'float32', 7));
    const nchw = tf.tidy(() => tf.transpose(nhwc, [0, 3, 1, 2]));
    const flat = nchw.dataSync() as Float32Array;
    const parts = new ChannelShuffleSplit().apply(nhwc) as tf.Tensor[];
    expect(parts.length).toBe(2);
    for (const j of [0, 1]) {
      const got = tf.tidy(() => tf.transpose(parts[j], [0, 3, 1, 2]));
      expect(got.shape).toEqual([n, c / 2, h, w]);
      expect(Array.from(got.dataSync())).toEqual(Array.from(upstreamSplitNchw(flat, n, c, h * w, j)));
      got.dispose();
    }
    // Spelled out: channel values are the channel indices.
    const idx = tf.tidy(() => tf.tile(tf.reshape(tf.range(0, c), [1, 1, 1, c]), [1, 2, 2, 1]));
    const [even, odd] = new ChannelShuffleSplit({ groups: 2 }).apply(idx) as tf.Tensor[];
    expect(Array.from(even.dataSync().slice(0, 4))).toEqual([0, 2, 4, 6]);
    expect(Array.from(odd.dataSync().slice(8, 12))).toEqual([1, 3, 5, 7]);
    tf.dispose([nhwc, nchw, idx, even, odd, ...parts]);
  });

  it('supports more groups (output j = channels j, j+g, ...)', () => {
    const x = tf.reshape(tf.range(0, 9), [1, 1, 1, 9]);
    const y = new ChannelShuffleSplit({ groups: 3 }).apply(x) as tf.Tensor[];
    expect(y.map((t) => Array.from(t.dataSync()))).toEqual([[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
    tf.dispose([x, ...y]);
  });

  it('computes symbolic shapes and serialises through a saved model', async () => {
    const input = tf.input({ shape: [4, 4, 12] });
    const [a, b] = channelShuffleSplit(input, 'blk');
    expect(a.shape).toEqual([null, 4, 4, 6]);
    expect(b.shape).toEqual([null, 4, 4, 6]);
    const model = tf.model({ inputs: input, outputs: [a, b] });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (art) => {
      artifacts = art;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.getLayer('blk.shuffle').getClassName()).toBe('YoloTfjsChannelShuffleSplit');
    const x = tf.randomUniform([1, 4, 4, 12]);
    const y1 = model.predict(x) as tf.Tensor[];
    const y2 = loaded.predict(x) as tf.Tensor[];
    expect(Array.from(y2[1].dataSync())).toEqual(Array.from(y1[1].dataSync()));
    tf.dispose([x, ...y1, ...y2]);
  });

  it('rejects bad configs and channel counts that do not split', () => {
    expect(() => new ChannelShuffleSplit({ groups: 0 })).toThrow(/groups must be a positive integer/);
    const input = tf.input({ shape: [4, 4, 5] });
    expect(() => new ChannelShuffleSplit({ name: 'odd5' }).apply(input)).toThrow(/'odd5': 5 channels do not split into 2/);
  });
});
