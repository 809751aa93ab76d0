import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { TensorMap } from '../../../src/weights/tensorMap';
import { yoloFastestV2BatchCounters, yoloFastestV2KeyTable } from '../../../src/models/yoloFastestV2/keyMap';
import { exportYoloFastestV2StateDict, yoloFastestV2FromStateDict } from '../../../src/models/yoloFastestV2/fromStateDict';
import { yoloFastestV2 } from '../../../src/models/yoloFastestV2/yoloFastestV2';
import { disposeLayersModel } from '../../../src/layers/disposeLayersModel';

describe('yoloFastestV2 key table', () => {
  it('has 371 rows (+73 BN counters = 444 keys), one per model weight', () => {
    const table = yoloFastestV2KeyTable();
    expect(table.length).toBe(371);
    expect(yoloFastestV2BatchCounters().size).toBe(73);
    const det = yoloFastestV2();
    expect(det.model.weights.length).toBe(371);
    disposeLayersModel(det.model);
  });

  it('round trip on random weights: export -> load into a fresh model -> same outputs', () => {
    const a = yoloFastestV2({ inputSize: 64 });
    const sd = exportYoloFastestV2StateDict(a);
    expect(sd.size).toBe(444);
    expect(sd.get('backbone.stage3.0.branch_proj.0.weight')!.shape).toEqual([48, 1, 3, 3]);
    expect(sd.get('fpn.conv1x1_2.0.weight')!.shape).toEqual([72, 288, 1, 1]);
    const b = yoloFastestV2FromStateDict(sd, { inputSize: 64 });
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 5);
    const ya = a.predict(x);
    const yb = b.predict(x);
    for (let i = 0; i < 2; i++) expect(Array.from(yb[i].dataSync())).toEqual(Array.from(ya[i].dataSync()));
    tf.dispose([x, ...ya, ...yb]);
    disposeLayersModel(a.model);
    disposeLayersModel(b.model);
  });
});

describeFixtures('yolo-fastestv2', 'yoloFastestV2 key table with the REAL upstream state dict', () => {
  let sd: TensorMap;
  beforeAll(() => {
    sd = readPytorchStateDict(fs.readFileSync(fixturePath('yolo-fastestv2', 'coco2017-0.241078ap-model.pth')));
  });

  it('covers exactly the upstream keys (state_dict_keys.txt minus num_batches_tracked), in file order', () => {
    const listed = fs
      .readFileSync(fixturePath('yolo-fastestv2', 'state_dict_keys.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t')[0]);
    expect(listed.length).toBe(444);
    const params = listed.filter((k) => !k.endsWith('num_batches_tracked'));
    expect(yoloFastestV2KeyTable().map((e) => e.key)).toEqual(params);
    expect(new Set(yoloFastestV2BatchCounters().keys())).toEqual(new Set(listed.filter((k) => k.endsWith('num_batches_tracked'))));
  });

  it('round trip: real state dict -> model -> exported state dict is bit-identical (444 keys)', () => {
    const det = yoloFastestV2FromStateDict(sd);
    const back = exportYoloFastestV2StateDict(det);
    expect(back.size).toBe(444);
    let compared = 0;
    for (const [k, v] of sd) {
      const w = back.get(k);
      expect(w).toBeDefined();
      expect(w!.shape).toEqual(v.shape);
      const a = v.data as Float32Array;
      const b = w!.data as Float32Array;
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${k}[${i}]: ${b[i]} != ${a[i]}`);
      compared++;
    }
    expect(compared).toBe(371);
    disposeLayersModel(det.model);
  });

  it('class count mismatch names the key and both shapes', () => {
    const n0 = tf.memory().numTensors;
    expect(() => yoloFastestV2FromStateDict(sd, { numClasses: 20 })).toThrow(
      /shape mismatch for 'output_cls_layers.weight': the state dict has \[80, 72, 1, 1\], the model's output_cls_layers\/kernel \[1, 1, 72, 20\] needs \[20, 72, 1, 1\]/,
    );
    expect(() => yoloFastestV2FromStateDict(sd, { numClasses: 20 })).toThrow(/'output_cls_layers.bias': the state dict has \[80\]/);
    expect(tf.memory().numTensors).toBe(n0); // the half-built model is disposed
  });

  it('a missing or renamed key is named', () => {
    const broken: TensorMap = new Map(sd);
    broken.delete('fpn.reg_head_3.block.6.running_var');
    expect(() => yoloFastestV2FromStateDict(broken)).toThrow(/missing key in the state dict: 'fpn.reg_head_3.block.6.running_var'/);
    const renamed: TensorMap = new Map([...sd].map(([k, v]) => [k.replace('output_obj_layers.bias', 'module.output_obj_layers.bias'), v]));
    expect(() => yoloFastestV2FromStateDict(renamed)).toThrow(
      /missing key in the state dict: 'output_obj_layers.bias'; unexpected key in the state dict: 'module.output_obj_layers.bias'/,
    );
  });
});
