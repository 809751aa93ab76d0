/**
 * ONNX export: onnxruntime-node runs our own protobuf output and reproduces `model.predict`'s
 * raw outputs (max abs error <= 1e-4) for every model; unsupported nodes are named.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '../../../src/export/onnx/exportOnnx';
import { onnxOutputName, ONNX_INPUT_NAME } from '../../../src/export/onnx/irToOnnx';
import { staticSameMaxPool } from '../../../src/layers/staticSameMaxPool';
import { ProtoWriter } from '../../../src/export/onnx/protobufWriter';
import { Detector } from '../../../src/detector';
import { yoloFastestV2 } from '../../../src/models/yoloFastestV2/yoloFastestV2';
import { efficientDet } from '../../../src/models/efficientDet/efficientDet';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { fixturePath, hasFixtures } from '../../helpers/fixtures';
import { hasDarknetFixture, loadDarknetFixture, randomInput, randomizeWeights } from '../../infer/inferHelpers';

import { loadOrtInJest } from './loadOrtInJest';

const { ort, toOrtF32 } = loadOrtInJest();

const TOL = 1e-4;
const report: string[] = [];
afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`onnxruntime-node on exportOnnx vs model.predict (max abs error):\n  ${report.join('\n  ')}`);
});

async function checkOnnx(name: string, det: Detector | tf.LayersModel): Promise<void> {
  const model = det instanceof Detector ? det.model : det;
  const [, h, w, c] = model.inputs[0].shape as number[];
  const x = randomInput([2, h, w, c], 11);
  const bytes = exportOnnx(det);
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual([ONNX_INPUT_NAME]);
    const result = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', toOrtF32(x.dataSync()), x.shape) });
    const ref = tf.tidy(() => {
      const y = model.predict(x);
      return Array.isArray(y) ? y : [y];
    });
    let err = 0;
    ref.forEach((r, i) => {
      const o = result[onnxOutputName(i)];
      expect(Array.from(o.dims as number[])).toEqual(r.shape);
      const a = r.dataSync();
      const b = o.data as Float32Array;
      for (let k = 0; k < a.length; k++) err = Math.max(err, Math.abs(a[k] - b[k]));
    });
    report.push(`${name}: ${err.toExponential(2)} (${(bytes.length / 1e6).toFixed(2)} MB)`);
    tf.dispose(ref);
    expect(err).toBeLessThanOrEqual(TOL);
  } finally {
    x.dispose();
    await session.release?.();
  }
}

describe('exportOnnx: onnxruntime-node reproduces predict', () => {
  it('YOLO-FastestV2 (random weights, 160): channel split, shared convs', async () => {
    const det = yoloFastestV2({ inputSize: 160 });
    randomizeWeights(det.model, 3);
    await checkOnnx('yoloFastestV2', det);
    det.dispose();
  });

  it('EfficientDet-D0 (random weights, 128): separable convs, SE, weighted fusion, reshape heads', async () => {
    const det = efficientDet({ phi: 0, inputSize: 128, numClasses: 5 });
    randomizeWeights(det.model, 4);
    await checkOnnx('efficientDet-d0', det);
    det.dispose();
  });

  for (const [name, size] of [['yolov3-tiny', 128], ['yolov4-tiny', 128], ['yolo-fastest-1.1', 320], ['yolov4-csp-s-mish', 160]] as const) {
    (hasDarknetFixture(name) ? it : it.skip)(`${name} (fixture weights, ${size})`, async () => {
      const det = loadDarknetFixture(name, size);
      await checkOnnx(name, det);
      det.dispose();
    });
  }

  (hasFixtures('yolo-fastestv2', 'coco2017-0.241078ap-model.pth') ? it : it.skip)('YOLO-FastestV2 352 (real COCO weights)', async () => {
    const det = loadPytorch('yolo-fastestv2', fs.readFileSync(fixturePath('yolo-fastestv2', 'coco2017-0.241078ap-model.pth')));
    await checkOnnx('yolo-fastestv2 (COCO)', det);
    det.dispose();
  });

  it('explicit zero padding, asymmetric pads, relu6, sigmoid conv, global pool + reshape, a 3-input add', async () => {
    const input = tf.input({ shape: [9, 7, 3] });
    let y = tf.layers.zeroPadding2d({ padding: [[1, 2], [0, 1]] }).apply(input) as tf.SymbolicTensor;
    y = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu6' }).apply(y) as tf.SymbolicTensor;
    const s = tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'sigmoid' }).apply(y) as tf.SymbolicTensor;
    const p = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor;
    const r = tf.layers.reshape({ targetShape: [1, 1, 6] }).apply(p) as tf.SymbolicTensor;
    const m = tf.layers.multiply({}).apply([r, s]) as tf.SymbolicTensor;
    const z = tf.layers.add({}).apply([m, s, y]) as tf.SymbolicTensor;
    // Zero-padded max-pool on all-negative maps: the zero padding must win at the borders
    // (onnxruntime's Pad+MaxPool fusion would drop it).
    const neg = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' }).apply(y) as tf.SymbolicTensor;
    const negated = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: true, name: 'negate' }).apply(neg) as tf.SymbolicTensor;
    const pooled = staticSameMaxPool(negated, { name: 'zero_pool' });
    const model = tf.model({ inputs: input, outputs: [z, p, pooled] });
    randomizeWeights(model, 9);
    const k = tf.tensor4d([-1, -0.5, -0.5, -1], [1, 1, 2, 2]);
    const bias = tf.tensor1d([-0.1, -0.2]);
    model.getLayer('negate').setWeights([k, bias]);
    tf.dispose([k, bias]);
    await checkOnnx('small graph', model);
    model.dispose();
  });
});

describe('exportOnnx errors and encoding', () => {
  it('a layer with a custom function is an error naming it', () => {
    class Odd extends tf.layers.Layer {
      static className = 'TestOddLayer';
      call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.neg(Array.isArray(inputs) ? inputs[0] : inputs);
      }
    }
    const input = tf.input({ shape: [4, 4, 3] });
    const model = tf.model({ inputs: input, outputs: new Odd({ name: 'odd_one' }).apply(input) as tf.SymbolicTensor });
    expect(() => exportOnnx(model)).toThrow(/layer 'odd_one' has class 'TestOddLayer'/);
    model.dispose();
  });

  it('protobuf varints: 1, 300, -1 (10 bytes) and a float field', () => {
    const w = new ProtoWriter().int(1, 1).int(2, 300).int(3, -1).float(4, 1.5);
    expect(Array.from(w.finish())).toEqual([
      0x08, 0x01, 0x10, 0xac, 0x02, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x25, 0x00, 0x00, 0xc0, 0x3f,
    ]);
  });
});
