import * as tf from '@tensorflow/tfjs';
import { shuffleV2Block } from '../../src/layers/shuffleV2Block';

function params(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

describe('shuffleV2Block', () => {
  it('stride 2: 24 ch 88x88 -> 48 ch 44x44, proj + main branches, upstream parameter count', () => {
    const input = tf.input({ shape: [88, 88, 24] });
    const y = shuffleV2Block({ inp: 24, oup: 48, mid: 24, ksize: 3, stride: 2, name: 'backbone.stage2.0' })(input);
    expect(y.shape).toEqual([null, 44, 44, 48]);
    const model = tf.model({ inputs: input, outputs: y });
    // main: 1x1 24*24 + BN 48 + dw 9*24 + BN 48 + 1x1 24*24 + BN 48; proj: dw 216 + BN 48 + 1x1 576 + BN 48.
    expect(params(model)).toBe(576 + 48 + 216 + 48 + 576 + 48 + 216 + 48 + 576 + 48);
    expect(model.getLayer('backbone.stage2.0.branch_proj.0').weights[0].shape).toEqual([3, 3, 24, 1]);
    expect(model.getLayer('backbone.stage2.0.branch_main.3.pad')).toBeDefined(); // explicit symmetric padding
    model.dispose();
  });

  it('stride 1: keeps shape; even channels pass through unchanged to the first half', () => {
    const input = tf.input({ shape: [6, 6, 16] });
    const y = shuffleV2Block({ inp: 8, oup: 16, mid: 8, ksize: 3, stride: 1, name: 'b' })(input);
    expect(y.shape).toEqual([null, 6, 6, 16]);
    const model = tf.model({ inputs: input, outputs: y });
    expect(params(model)).toBe(64 + 16 + 72 + 16 + 64 + 16);
    const x = tf.randomNormal([1, 6, 6, 16], 0, 1, 'float32', 3);
    const out = model.predict(x) as tf.Tensor;
    const even = tf.tidy(() => tf.gather(x, tf.tensor1d([0, 2, 4, 6, 8, 10, 12, 14], 'int32'), 3));
    const firstHalf = tf.slice(out, [0, 0, 0, 0], [1, 6, 6, 8]);
    expect(Array.from(firstHalf.dataSync())).toEqual(Array.from(even.dataSync()));
    // The main branch only sees odd channels: changing an even channel changes only the pass-through half.
    const bumped = tf.tidy(() => tf.add(x, tf.oneHot(tf.tensor1d([4], 'int32'), 16).reshape([1, 1, 1, 16])));
    const out2 = model.predict(bumped) as tf.Tensor;
    const secondA = tf.slice(out, [0, 0, 0, 8], [1, 6, 6, 8]);
    const secondB = tf.slice(out2, [0, 0, 0, 8], [1, 6, 6, 8]);
    expect(Array.from(secondB.dataSync())).toEqual(Array.from(secondA.dataSync()));
    tf.dispose([x, out, even, firstHalf, bumped, out2, secondA, secondB]);
    model.dispose();
  });

  it('rejects wrong input channels and bad options, naming the block', () => {
    const input = tf.input({ shape: [8, 8, 12] });
    expect(() => shuffleV2Block({ inp: 8, oup: 16, mid: 8, ksize: 3, stride: 1, name: 'blk' })(input)).toThrow(
      /'blk': stride-1 block expects 16 input channels/,
    );
    expect(() => shuffleV2Block({ inp: 24, oup: 48, mid: 24, ksize: 3, stride: 2, name: 'b2' })(input)).toThrow(/'b2': stride-2 block expects 24/);
    expect(() => shuffleV2Block({ inp: 8, oup: 16, mid: 8, ksize: 4, stride: 1, name: 'k' })).toThrow(/ksize must be odd/);
    expect(() => shuffleV2Block({ inp: 8, oup: 16, mid: 8, ksize: 3, stride: 3 as 1, name: 's' })).toThrow(/stride must be 1 or 2/);
    expect(() => shuffleV2Block({ inp: 16, oup: 16, mid: 8, ksize: 3, stride: 2, name: 'o' })).toThrow(/oup \(16\) must exceed inp/);
  });
});
