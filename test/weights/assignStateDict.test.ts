import * as tf from '@tensorflow/tfjs';
import { KeyTableEntry, assignStateDict, exportStateDict } from '../../src/weights/assignStateDict';
import { NamedTensor, TensorMap } from '../../src/weights/tensorMap';

/** conv 3x3 (2->3, no bias) -> BN -> depthwise 3x3 -> flatten (3) -> dense 4 (with bias). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 2] });
  let y = tf.layers.conv2d({ filters: 3, kernelSize: 3, useBias: false, name: 'conv' }).apply(input) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'bn' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.depthwiseConv2d({ kernelSize: 3, useBias: false, name: 'dw' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 4, name: 'fc' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

const TABLE: KeyTableEntry[] = [
  { key: 'conv.weight', layer: 'conv', weight: 'kernel', transform: 'conv2d' },
  { key: 'bn.weight', layer: 'bn', weight: 'gamma', transform: 'identity' },
  { key: 'bn.bias', layer: 'bn', weight: 'beta', transform: 'identity' },
  { key: 'bn.running_mean', layer: 'bn', weight: 'moving_mean', transform: 'identity' },
  { key: 'bn.running_var', layer: 'bn', weight: 'moving_variance', transform: 'identity' },
  { key: 'dw.weight', layer: 'dw', weight: 'depthwise_kernel', transform: 'depthwise' },
  { key: 'fc.weight', layer: 'fc', weight: 'kernel', transform: 'linear' },
  { key: 'fc.bias', layer: 'fc', weight: 'bias', transform: 'identity' },
];

function seq(shape: number[], offset: number): NamedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype: 'float32', data: Float32Array.from({ length: n }, (_, i) => offset + i * 0.5) };
}

/** A PyTorch-layout state dict whose values are their own flat index (+ offset). */
function stateDict(): TensorMap {
  return new Map<string, NamedTensor>([
    ['conv.weight', seq([3, 2, 3, 3], 0)],
    ['bn.weight', seq([3], 100)],
    ['bn.bias', seq([3], 200)],
    ['bn.running_mean', seq([3], 300)],
    ['bn.running_var', seq([3], 400)],
    ['bn.num_batches_tracked', { shape: [], dtype: 'int64', data: BigInt64Array.of(7n) }],
    ['dw.weight', seq([3, 1, 3, 3], 500)],
    ['fc.weight', seq([4, 3], 600)],
    ['fc.bias', seq([4], 700)],
  ]);
}

describe('assignStateDict / exportStateDict', () => {
  let model: tf.LayersModel;
  beforeEach(() => {
    model = smallModel();
  });
  afterEach(() => model.dispose());

  it('transposes OIHW -> HWIO, [C,1,k,k] -> [k,k,C,1], [O,I] -> [I,O]', () => {
    assignStateDict(model, stateDict(), TABLE);
    const k = model.getLayer('conv').getWeights()[0];
    expect(k.shape).toEqual([3, 3, 2, 3]);
    // HWIO[h=1, w=2, i=1, o=2] = OIHW[o=2, i=1, h=1, w=2] -> flat ((2*2 + 1)*3 + 1)*3 + 2 = 50 -> 25.
    expect(k.bufferSync().get(1, 2, 1, 2)).toBe(25);
    const dw = model.getLayer('dw').getWeights()[0];
    expect(dw.shape).toEqual([3, 3, 3, 1]);
    // [h=2, w=0, c=1, 0] = src[c=1, 0, h=2, w=0] -> flat 9 + 6 = 15 -> 500 + 7.5.
    expect(dw.bufferSync().get(2, 0, 1, 0)).toBe(507.5);
    const fc = model.getLayer('fc').getWeights()[0];
    expect(fc.shape).toEqual([3, 4]);
    expect(fc.bufferSync().get(2, 3)).toBe(600 + (3 * 3 + 2) * 0.5);
    const bn = model.getLayer('bn').getWeights();
    expect(Array.from(bn[3].dataSync())).toEqual([400, 400.5, 401]);
  });

  it('round trip: export gives back exactly the loaded state dict', () => {
    const sd = stateDict();
    assignStateDict(model, sd, TABLE);
    const back = exportStateDict(model, TABLE);
    expect([...back.keys()]).toEqual(TABLE.map((e) => e.key));
    for (const [k, v] of back) {
      expect(v.shape).toEqual(sd.get(k)!.shape);
      expect(Array.from(v.data as Float32Array)).toEqual(Array.from(sd.get(k)!.data as Float32Array));
    }
    const extra = exportStateDict(model, TABLE, { extra: new Map([['bn.num_batches_tracked', sd.get('bn.num_batches_tracked')!]]) });
    expect(extra.size).toBe(TABLE.length + 1);
  });

  it('names a missing key', () => {
    const sd = stateDict();
    sd.delete('bn.running_var');
    expect(() => assignStateDict(model, sd, TABLE)).toThrow(/missing key in the state dict: 'bn.running_var'/);
  });

  it('names an extra key (num_batches_tracked is ignored by default)', () => {
    const sd = stateDict();
    sd.set('head.extra.weight', seq([2], 0));
    expect(() => assignStateDict(model, sd, TABLE)).toThrow(/unexpected key in the state dict: 'head.extra.weight'/);
    sd.delete('head.extra.weight');
    expect(() => assignStateDict(model, sd, TABLE, { ignore: () => false })).toThrow(/unexpected key.*'bn.num_batches_tracked'/);
  });

  it('names a mis-shaped key with both shapes and leaves the weights untouched', () => {
    const before = model.getLayer('conv').getWeights()[0].dataSync().slice();
    const sd = stateDict();
    sd.set('fc.weight', seq([5, 3], 0));
    expect(() => assignStateDict(model, sd, TABLE)).toThrow(
      /shape mismatch for 'fc.weight': the state dict has \[5, 3\], the model's fc\/kernel \[3, 4\] needs \[4, 3\]/,
    );
    expect(Array.from(model.getLayer('conv').getWeights()[0].dataSync())).toEqual(Array.from(before));
  });

  it('names a table row without a model weight and a model weight without a row', () => {
    const bad = [...TABLE.filter((e) => e.key !== 'fc.bias'), { key: 'fc.bias', layer: 'fc2', weight: 'bias', transform: 'identity' as const }];
    expect(() => assignStateDict(model, stateDict(), bad)).toThrow(/do not exist: 'fc.bias -> fc2\/bias'.*not covered by the key table: 'fc\/bias'/);
    const dup = [...TABLE, { ...TABLE[0], layer: 'x' }];
    expect(() => assignStateDict(model, stateDict(), dup)).toThrow(/key 'conv.weight' appears twice/);
  });

  it('rejects integer tensors for float weights', () => {
    const sd = stateDict();
    sd.set('fc.bias', { shape: [4], dtype: 'int64', data: BigInt64Array.of(1n, 2n, 3n, 4n) });
    expect(() => assignStateDict(model, sd, TABLE)).toThrow(/'fc.bias' has dtype int64/);
  });

  it('does not leak tensors', () => {
    const sd = stateDict();
    assignStateDict(model, sd, TABLE);
    const n0 = tf.memory().numTensors;
    assignStateDict(model, sd, TABLE);
    exportStateDict(model, TABLE);
    expect(tf.memory().numTensors).toBe(n0);
  });
});
