/**
 * RFSong exported to ONNX (dilated convs, ceil-mode pool, stride-2 symmetric padding, 12 head
 * outputs): onnxruntime-node runs it and gives our predict's outputs and upstream's loc and
 * class logits (../shared/fixtures/rfsong).
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '../../../src/export/onnx/exportOnnx';
import { onnxOutputName, ONNX_INPUT_NAME } from '../../../src/export/onnx/irToOnnx';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { describeFixtures, fixturePath, readF32 } from '../../helpers/fixtures';
import { loadOrtInJest } from '../../export/onnx/loadOrtInJest';

const { ort, toOrtF32 } = loadOrtInJest();

describeFixtures('rfsong', 'RFSong ONNX export', () => {
  it('onnxruntime-node reproduces predict and upstream (1e-4 of the outputs\' scale)', async () => {
    const det = loadPytorch('rfsong', fs.readFileSync(fixturePath('rfsong', 'rfsong_random_seed1234.pth')));
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(readF32('rfsong', 'input_1_nchw.f32'), [1, 3, 300, 300]), [0, 2, 3, 1]));
    const session = await ort.InferenceSession.create(exportOnnx(det));
    try {
      const result = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', toOrtF32(x.dataSync()), x.shape) });
      const ours = det.predict(x);
      let errPredict = 0;
      const flat: number[][] = [[], []];
      ours.forEach((r, i) => {
        const o = result[onnxOutputName(i)];
        expect(Array.from(o.dims as number[])).toEqual(r.shape);
        const a = r.dataSync();
        const b = o.data as Float32Array;
        for (let k = 0; k < a.length; k++) errPredict = Math.max(errPredict, Math.abs(a[k] - b[k]));
        for (const v of b) flat[i < 6 ? 0 : 1].push(v);
      });
      const rel = (a: number[], ref: Float32Array) => {
        let d = 0;
        let m = 0;
        ref.forEach((v, k) => {
          d = Math.max(d, Math.abs(a[k] - v));
          m = Math.max(m, Math.abs(v));
        });
        return d / m;
      };
      const eLoc = rel(flat[0], readF32('rfsong', 'loc_1.f32'));
      const eConf = rel(flat[1], readF32('rfsong', 'conf_logits_1.f32'));
      // eslint-disable-next-line no-console
      console.log(`RFSong ONNX: max |onnx - predict| ${errPredict.toExponential(2)}; vs upstream: loc rel ${eLoc.toExponential(2)}, logits rel ${eConf.toExponential(2)}`);
      expect(errPredict).toBeLessThan(1e-4);
      expect(eLoc).toBeLessThan(1e-4);
      expect(eConf).toBeLessThan(1e-4);
      tf.dispose([x, ...ours]);
    } finally {
      await session.release?.();
      det.dispose();
    }
  });
});
