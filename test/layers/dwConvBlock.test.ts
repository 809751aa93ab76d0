import * as tf from '@tensorflow/tfjs';
import { dwConvBlock } from '../../src/layers/dwConvBlock';

describe('dwConvBlock', () => {
  it('72 ch 22x22 -> 72 ch 22x22 with upstream layer indices and parameter count', () => {
    const input = tf.input({ shape: [22, 22, 72] });
    const y = dwConvBlock({ channels: 72, ksize: 5, name: 'fpn.cls_head_2' })(input);
    expect(y.shape).toEqual([null, 22, 22, 72]);
    const model = tf.model({ inputs: input, outputs: y });
    const n = model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
    expect(n).toBe(2 * (1800 + 5184) + 4 * 144);
    expect(model.getLayer('fpn.cls_head_2.block.5').weights[0].shape).toEqual([5, 5, 72, 1]);
    expect(model.getLayer('fpn.cls_head_2.block.8').weights[0].shape).toEqual([1, 1, 72, 72]);
    // No ReLU after the 1x1 convs: the last layer is the BN.
    expect(model.layers[model.layers.length - 1].name).toBe('fpn.cls_head_2.block.9');
    model.dispose();
  });

  it('rejects a wrong channel count', () => {
    const input = tf.input({ shape: [11, 11, 64] });
    expect(() => dwConvBlock({ channels: 72, ksize: 5, name: 'h' })(input)).toThrow(/'h': expects 72 input channels, got 64/);
    expect(() => dwConvBlock({ channels: 72, ksize: 4, name: 'h' })).toThrow(/ksize must be an odd integer/);
  });
});
