import * as tf from '@tensorflow/tfjs';
import { TORCH_BN_EPSILON, torchBatchNorm, torchConv2D, torchMaxPool2D } from '../../src/layers/torchConv2D';

describe('torchConv2D / torchBatchNorm / torchMaxPool2D', () => {
  it('stride-2 conv pads symmetrically (PyTorch), unlike TF same', () => {
    const input = tf.input({ shape: [4, 4, 1] });
    const y = torchConv2D({ filters: 1, kernelSize: 3, stride: 2, padding: 1, name: 'c' })(input);
    const model = tf.model({ inputs: input, outputs: y });
    expect(y.shape).toEqual([null, 2, 2, 1]);
    expect(model.getLayer('c.pad')).toBeDefined();
    model.getLayer('c').setWeights([tf.ones([3, 3, 1, 1])]);
    // Input = 1..16 row-major. Output (0,0) sums rows -1..1, cols -1..1 (zeros outside): 1+2+5+6 = 14.
    const x = tf.reshape(tf.range(1, 17), [1, 4, 4, 1]);
    const out = model.predict(x) as tf.Tensor;
    // (0,1): rows -1..1, cols 1..3 -> 2+3+4+6+7+8 = 30; (1,0): rows 1..3, cols -1..1 -> 5+6+9+10+13+14 = 57;
    // (1,1): rows 1..3, cols 1..3 -> 6+7+8+10+11+12+14+15+16 = 99.
    expect(Array.from(out.dataSync())).toEqual([14, 30, 57, 99]);
    tf.dispose([x, out]);
    model.dispose();
  });

  it('stride-1 odd kernels use symmetric same padding; depthwise keeps channels', () => {
    const input = tf.input({ shape: [11, 11, 72] });
    const y = torchConv2D({ filters: 72, kernelSize: 5, padding: 2, depthwise: true, name: 'dw' })(input);
    expect(y.shape).toEqual([null, 11, 11, 72]);
    const model = tf.model({ inputs: input, outputs: y });
    expect(model.getLayer('dw').weights.map((w) => w.shape)).toEqual([[5, 5, 72, 1]]);
    expect(model.layers.some((l) => l.name === 'dw.pad')).toBe(false);
    model.dispose();
  });

  it('BN uses PyTorch epsilon 1e-5 (matters for channels with running var ~0)', () => {
    expect(TORCH_BN_EPSILON).toBe(1e-5);
    const input = tf.input({ shape: [1, 1, 1] });
    const model = tf.model({ inputs: input, outputs: torchBatchNorm('bn')(input) });
    model.getLayer('bn').setWeights([tf.tensor1d([1]), tf.tensor1d([0]), tf.tensor1d([0]), tf.tensor1d([0])]);
    const x = tf.fill([1, 1, 1, 1], 0.01);
    const out = model.predict(x) as tf.Tensor;
    expect(out.dataSync()[0]).toBeCloseTo(0.01 / Math.sqrt(1e-5), 2); // ~3.162, 1e-3 would give 0.316
    tf.dispose([x, out]);
    model.dispose();
  });

  it('maxpool 3x3/2 pad 1: 176 -> 88 with -inf padding', () => {
    const input = tf.input({ shape: [176, 176, 2] });
    expect(torchMaxPool2D({ kernelSize: 3, stride: 2, padding: 1, name: 'mp' })(input).shape).toEqual([null, 88, 88, 2]);
    const small = tf.input({ shape: [4, 4, 1] });
    const model = tf.model({ inputs: small, outputs: torchMaxPool2D({ kernelSize: 3, stride: 2, padding: 1, name: 'mp2' })(small) });
    const x = tf.mul(tf.reshape(tf.range(1, 17), [1, 4, 4, 1]), -1); // all negative: zero padding would win
    const out = model.predict(x) as tf.Tensor;
    // windows rows/cols {-1..1}, {1..3}: max of negatives = the smallest magnitude in the window.
    expect(Array.from(out.dataSync())).toEqual([-1, -2, -5, -6]);
    tf.dispose([x, out]);
    model.dispose();
    expect(() => torchMaxPool2D({ kernelSize: 3, stride: 2, padding: 2, name: 'bad' })).toThrow(/at most half the kernel/);
  });

  it('dilated stride-1 conv with padding = dilation keeps the size and samples every d-th pixel', () => {
    const input = tf.input({ shape: [7, 7, 1] });
    const model = tf.model({ inputs: input, outputs: torchConv2D({ filters: 1, kernelSize: 3, padding: 2, dilation: 2, name: 'dil' })(input) });
    expect(model.outputs[0].shape).toEqual([null, 7, 7, 1]);
    expect(model.layers.some((l) => l.name === 'dil.pad')).toBe(false);
    model.getLayer('dil').setWeights([tf.ones([3, 3, 1, 1])]);
    const x = tf.reshape(tf.range(0, 49), [1, 7, 7, 1]);
    const out = (model.predict(x) as tf.Tensor).dataSync();
    // centre (3,3): rows 1,3,5 x cols 1,3,5 -> sum of 7r + c = 3*(7+21+35) + 3*(1+3+5) = 189 + 27 = 216
    expect(out[3 * 7 + 3]).toBe(216);
    // corner (0,0): rows 0,2 x cols 0,2 (-2 is padding) -> 0 + 2 + 14 + 16 = 32
    expect(out[0]).toBe(32);
    tf.dispose([x]);
    model.dispose();
    expect(() => torchConv2D({ filters: 1, kernelSize: 3, stride: 2, dilation: 2, name: 'sd' })).toThrow(/dilation 2 with stride 2/);
  });

  it('rejects invalid options', () => {
    expect(() => torchConv2D({ filters: 0, kernelSize: 1, name: 'z' })).toThrow(/'z'.*>= 1, got 0/);
    expect(() => torchConv2D({ filters: 4, kernelSize: 3, stride: 1.5, name: 's' })).toThrow(/stride 's'/);
  });
});
