/**
 * ONNX export of a Scaled-YOLOv4 checkpoint (the reduced P5 of the fixtures): onnxruntime-node
 * on the exported graph reproduces `predict` (Mish, SPPCSP max pools, CSP concat + BN) within
 * 3e-3: this random-weight network's float32 noise floor (an input change of one part in 10^7
 * moves its heads by ~2e-3, see scaledYolov4.parity.test.ts), measured 1.4e-3 here.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '../../../src/export/onnx/exportOnnx';
import { onnxOutputName, ONNX_INPUT_NAME } from '../../../src/export/onnx/irToOnnx';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';
import { loadOrtInJest } from './loadOrtInJest';

const { ort, toOrtF32 } = loadOrtInJest();

describeFixtures('scaled-yolov4', 'exportOnnx: Scaled-YOLOv4 P5 checkpoint', () => {
  it('onnxruntime-node reproduces predict within 3e-3', async () => {
    const det = loadPytorch('scaled-yolov4', fs.readFileSync(fixturePath('scaled-yolov4', 'yolov4-p5-small.pt')), { inputSize: 128 });
    const x = tf.randomUniform([1, 128, 128, 3], 0, 1, 'float32', 3);
    try {
      const session = await ort.InferenceSession.create(exportOnnx(det));
      const result = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', toOrtF32(x.dataSync()), x.shape) });
      const ref = det.predict(x);
      expect(ref).toHaveLength(3);
      ref.forEach((r, i) => {
        const o = result[onnxOutputName(i)];
        expect(Array.from(o.dims as number[])).toEqual(r.shape);
        const a = r.dataSync();
        const b = o.data as Float32Array;
        let err = 0;
        for (let k = 0; k < a.length; k++) err = Math.max(err, Math.abs(a[k] - b[k]));
        expect(err).toBeLessThan(3e-3);
      });
      tf.dispose(ref);
      await session.release?.();
    } finally {
      x.dispose();
      det.dispose();
    }
  });
});
