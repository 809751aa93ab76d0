import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';
import { efficientDetGraph } from '../../../src/models/efficientDet/efficientDet';
import { efficientDetKeyTable } from '../../../src/models/efficientDet/keyMap';
import {
  efficientDetFromStateDict,
  efficientDetNumClasses,
  assignEfficientDetStateDict,
} from '../../../src/models/efficientDet/fromStateDict';
import { exportStateDict } from '../../../src/weights/assignStateDict';
import { TensorMap } from '../../../src/weights/tensorMap';

/** A state dict with upstream's D0 key list and shapes (zeros), from state_dict_keys_d0.txt. */
function d0KeysAsStateDict(): { keys: string[]; sd: TensorMap } {
  const lines = fs.readFileSync(fixturePath('efficientdet', 'state_dict_keys_d0.txt'), 'utf8').split('\n');
  const keys: string[] = [];
  const sd: TensorMap = new Map();
  for (const line of lines) {
    if (!line || line.startsWith('#')) continue;
    const [key, shape, dtype] = line.split('\t');
    keys.push(key);
    const dims = JSON.parse(shape) as number[];
    const n = dims.reduce((a, b) => a * b, 1);
    sd.set(key, dtype === 'int64' ? { shape: dims, dtype: 'int64', data: new BigInt64Array(n) } : { shape: dims, dtype: 'float32', data: new Float32Array(n) });
  }
  return { keys, sd };
}

describeFixtures('efficientdet', 'EfficientDet key table vs upstream D0 state dict keys', () => {
  it('covers exactly the 784 upstream keys minus the 108 num_batches_tracked, in state-dict order', () => {
    const { keys } = d0KeysAsStateDict();
    expect(keys.length).toBe(784);
    const expected = keys.filter((k) => !k.endsWith('num_batches_tracked'));
    expect(expected.length).toBe(676);
    expect(efficientDetKeyTable(0).map((e) => e.key)).toEqual(expected);
  });

  it('every shape of the upstream D0 state dict fits the model (a zero state dict loads)', () => {
    const { sd } = d0KeysAsStateDict();
    const det = efficientDetFromStateDict(sd, { phi: 0, inputSize: 128 });
    expect(det.spec.classNames.length).toBe(90);
    expect(det.model.getLayer('bifpn.0.p6_w1').getWeights()[0].dataSync()).toEqual(new Float32Array(2));
    det.dispose();
  });

  it('errors name missing, unexpected and mis-shaped keys', () => {
    const { sd } = d0KeysAsStateDict();
    const missing = new Map(sd);
    missing.delete('regressor.bn_list.3.1.running_var');
    expect(() => efficientDetFromStateDict(missing, { phi: 0, inputSize: 128 })).toThrow(/efficientdet-d0: .*missing key in the state dict: 'regressor.bn_list.3.1.running_var'/);
    const extra = new Map(sd);
    extra.set('bifpn.0.p8_w1', { shape: [2], dtype: 'float32', data: new Float32Array(2) });
    expect(() => efficientDetFromStateDict(extra, { phi: 0, inputSize: 128 })).toThrow(/unexpected key in the state dict: 'bifpn.0.p8_w1'/);
    const bad = new Map(sd);
    bad.set('backbone_net.model._blocks.3._depthwise_conv.conv.weight', { shape: [144, 1, 3, 3], dtype: 'float32', data: new Float32Array(144 * 9) });
    expect(() => efficientDetFromStateDict(bad, { phi: 0, inputSize: 128 })).toThrow(
      /shape mismatch for 'backbone_net.model._blocks.3._depthwise_conv.conv.weight': the state dict has \[144, 1, 3, 3\]/,
    );
    // D0 weights are not D1 weights
    expect(() => efficientDetFromStateDict(sd, { phi: 1, inputSize: 128 })).toThrow(/efficientdet-d1: .*(missing|shape mismatch)/);
  });
});

describe('EfficientDet state dict round trip', () => {
  it('export -> load (class count inferred from the header) reproduces the outputs, for D0 and the non-attention D6 table', () => {
    const src = efficientDetGraph({ phi: 0, numClasses: 3, inputSize: 128 });
    // make the fusion weights non-trivial so they are checked too
    const fuse = src.model.getLayer('bifpn.1.p4_w2');
    fuse.setWeights([tf.tensor1d([0.2, 1.3, -0.5])]);
    const sd = exportStateDict(src.model, efficientDetKeyTable(0));
    expect(efficientDetNumClasses(sd)).toBe(3);
    const det = efficientDetFromStateDict(sd, { phi: 0, inputSize: 128 });
    expect(det.spec.classNames).toEqual(['class0', 'class1', 'class2']);
    const x = tf.randomNormal([1, 128, 128, 3]);
    // identical weights -> bit-identical LayersModel outputs (det.predict would use the fused graph)
    const a = src.model.predict(x) as tf.Tensor[];
    const b = det.model.predict(x) as tf.Tensor[];
    for (let i = 0; i < 2; i++) expect(tf.max(tf.abs(tf.sub(a[i], b[i]))).dataSync()[0]).toBe(0);
    tf.dispose([x, ...a, ...b]);
    det.dispose();
    disposeLayersModel(src.model);

    const d6 = efficientDetGraph({ phi: 6, inputSize: 128, init: 'zeros' });
    const table = efficientDetKeyTable(6);
    expect(table.length).toBe(d6.model.weights.length);
    expect(() => assignEfficientDetStateDict(d6.model, exportStateDict(d6.model, table), 6)).not.toThrow();
    disposeLayersModel(d6.model);
  });

  it('rejects a state dict without a classifier header', () => {
    expect(() => efficientDetNumClasses(new Map())).toThrow(/not an EfficientDet state dict: missing key 'classifier.header.pointwise_conv.conv.bias'/);
  });
});
