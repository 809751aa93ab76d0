/**
 * The wasm-kernel engine equals `model.predict` for every model (max abs error <= 1e-4, batch of
 * 2, one and two threads), moves no data for concatenations and slices, holds no tensors across
 * calls, and hands layers it cannot run back to the tfjs path.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { compileWasmInference, WasmCompiledInference } from '../../src/engine/wasmInference';
import { UnsupportedGraphError } from '../../src/engine/planInference';
import { Detector } from '../../src/detector';
import { tinyYoloV3 } from '../../src/models/darknet/tinyYoloV3';
import { yoloV4Tiny } from '../../src/models/darknet/yoloV4Tiny';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { efficientDet } from '../../src/models/efficientDet/efficientDet';
import { loadPytorch } from '../../src/models/loadPytorch';
import { ChannelSlice } from '../../src/layers/channelSlice';
import { fixturePath, hasFixtures } from '../helpers/fixtures';
import { hasDarknetFixture, loadDarknetFixture, maxOutputDiff, randomInput, randomizeWeights } from '../infer/inferHelpers';

const TOL = 1e-4;
const report: string[] = [];
afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`wasm kernels vs model.predict (max abs error):\n  ${report.join('\n  ')}`);
});

/** Compare the engine (1 and 2 threads) with model.predict on a batch of 2; tensors stay flat. */
async function checkParity(name: string, model: tf.LayersModel, size: [number, number], variants: { threads: number; relaxedSimd?: boolean }[] = [{ threads: 1 }, { threads: 2 }]): Promise<WasmCompiledInference[]> {
  const x = randomInput([2, size[0], size[1], 3]);
  const ref = tf.tidy(() => {
    const y = model.predict(x);
    return Array.isArray(y) ? y : [y];
  });
  const scale = Math.max(...ref.map((t) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0])));
  expect(scale).toBeGreaterThan(0.1); // a degenerate network would make the check vacuous
  const out: WasmCompiledInference[] = [];
  try {
    for (const v of variants) {
      const c = compileWasmInference(model, { ...v, minParallelCost: 0 });
      out.push(c);
      await c.ready();
      const got = c.run(x);
      expect(got.map((t) => t.shape)).toEqual(ref.map((t) => t.shape));
      const err = maxOutputDiff(got, ref);
      report.push(`${name} (${c.threads} thread${c.threads > 1 ? 's' : ''}${c.relaxedSimd ? ', fused multiply-add' : ', plain SIMD'}): ${err.toExponential(2)} (outputs up to ${scale.toFixed(2)}, ${c.plan.steps.length} kernel calls)`);
      tf.dispose(got);
      expect(err).toBeLessThanOrEqual(TOL);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(c.run(x));
      expect(tf.memory().numTensors).toBe(before);
    }
  } finally {
    tf.dispose([x, ...ref]);
  }
  return out;
}

const disposeAll = (cs: WasmCompiledInference[]) => cs.forEach((c) => c.dispose());

describe('wasm kernels: parity with model.predict (random weights)', () => {
  it('tiny YOLOv3 160: convs, pools, upsample; the route concat costs no copy', async () => {
    const det = tinyYoloV3({ inputSize: 160, numClasses: 4 });
    randomizeWeights(det.model, 1);
    const cs = await checkParity('tinyYoloV3', det.model, [160, 160]);
    expect(cs[1].threads).toBe(2);
    // Every kernel call is a conv, a pool or the upsample: no copies.
    expect(cs[0].plan.steps.map((s) => s.kernel).filter((k) => !['conv2d', 'maxpool2d', 'upsampleNearest'].includes(k))).toEqual([]);
    disposeAll(cs);
    det.dispose();
  });

  it('the plain-SIMD build (engines without relaxed SIMD) matches too', async () => {
    const det = yoloFastestV2({ inputSize: 128 });
    randomizeWeights(det.model, 6);
    const cs = await checkParity('yoloFastestV2, plain SIMD', det.model, [128, 128], [{ threads: 1, relaxedSimd: false }, { threads: 2, relaxedSimd: false }]);
    expect(cs.map((c) => c.relaxedSimd)).toEqual([false, false]);
    disposeAll(cs);
    det.dispose();
  });

  it('YOLOv4-tiny 128: CSP channel slices are views', async () => {
    const det = yoloV4Tiny({ inputSize: 128, numClasses: 4 });
    randomizeWeights(det.model, 2);
    const cs = await checkParity('yoloV4Tiny', det.model, [128, 128]);
    // 3 route slices and 7 concats, one copy: the last route puts a slice (a view of another
    // concat's buffer) next to a conv output.
    expect(cs[0].plan.steps.filter((s) => s.kernel === 'unary').length).toBe(1);
    disposeAll(cs);
    det.dispose();
  });

  it('YOLO-FastestV2 160: ShuffleNet splits, depthwise convs', async () => {
    const det = yoloFastestV2({ inputSize: 160 });
    randomizeWeights(det.model, 3);
    disposeAll(await checkParity('yoloFastestV2', det.model, [160, 160]));
    det.dispose();
  });

  it('EfficientDet-D0 128: swish, squeeze-excite, BiFPN fusion, anchors concat', async () => {
    const det = efficientDet({ phi: 0, inputSize: 128 });
    randomizeWeights(det.model, 4);
    const cs = await checkParity('efficientDet-d0', det.model, [128, 128]);
    // BiFPN's swish after each weighted fusion runs inside the fusion kernel.
    expect(cs[0].plan.steps.some((s) => s.kernel === 'unary' && /swish|act/i.test(s.layer) && !/sigmoid/.test(s.layer))).toBe(false);
    disposeAll(cs);
    det.dispose();
  });
});

const dn = (name: string) => (hasDarknetFixture(name) ? it : it.skip);
describe('wasm kernels: parity on the fixture Darknet weights', () => {
  for (const [name, size] of [['yolov3-tiny', 160], ['yolov4-tiny', 160], ['yolo-fastest-1.1', 320], ['yolov4-csp-s-mish', 160]] as const) {
    dn(name)(`${name} at ${size}`, async () => {
      const det = loadDarknetFixture(name, size);
      disposeAll(await checkParity(name, det.model, [size, size]));
      det.dispose();
    });
  }
});

const fv2 = hasFixtures('yolo-fastestv2', 'coco2017-0.241078ap-model.pth') ? it : it.skip;
describe('wasm kernels: the real YOLO-FastestV2 weights', () => {
  fv2('yolo-fastestv2 352 (COCO weights)', async () => {
    const det = loadPytorch('yolo-fastestv2', fs.readFileSync(fixturePath('yolo-fastestv2', 'coco2017-0.241078ap-model.pth')));
    disposeAll(await checkParity('yolo-fastestv2 (COCO)', det.model, [352, 352]));
    det.dispose();
  });
});

describe('wasm kernels: small graphs', () => {
  it('concat of two convs is written in place; a conv reading a channel slice of it', async () => {
    const input = tf.input({ shape: [17, 15, 3] });
    const a = tf.layers.conv2d({ filters: 5, kernelSize: 1, biasInitializer: 'randomNormal' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 11, kernelSize: 3, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }).apply(input) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const pooled = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(cat) as tf.SymbolicTensor;
    const c = tf.layers.conv2d({ filters: 9, kernelSize: 3, strides: 2, padding: 'valid', dilationRate: 1 }).apply(cat) as tf.SymbolicTensor;
    const d = tf.layers.depthwiseConv2d({ kernelSize: 5, padding: 'same', biasInitializer: 'randomNormal', useBias: true }).apply(pooled) as tf.SymbolicTensor;
    const s = tf.layers.add().apply([d, pooled]) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: [c, s, cat] });
    const cs = await checkParity('small graph', m, [17, 15]);
    expect(cs[0].plan.steps.filter((st) => st.kernel === 'unary')).toEqual([]);
    disposeAll(cs);
    m.dispose();
  });

  it('a channel slice as a model output, the raw input inside a concat, an upsampled branch', async () => {
    const input = tf.input({ shape: [12, 10, 3] });
    const a = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }).apply(input) as tf.SymbolicTensor;
    // The input is not produced by a kernel: the concat copies it next to the conv output.
    const cat = tf.layers.concatenate().apply([input, a]) as tf.SymbolicTensor;
    const half = new ChannelSlice({ groups: 3, groupId: 1 }).apply(cat) as tf.SymbolicTensor; // channels 3..5: a strided view
    const down = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(cat) as tf.SymbolicTensor;
    const up = tf.layers.upSampling2d({ size: [2, 2] }).apply(down) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: [half, up] });
    const cs = await checkParity('slice output / input concat', m, [12, 10]);
    const kernels = cs[0].plan.steps.map((st) => st.kernel);
    expect(kernels.filter((k) => k === 'unary')).toHaveLength(1); // the input copy only
    disposeAll(cs);
    m.dispose();
  });

  it('wrong input shape is an error naming both shapes; a disposed function throws', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const m = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 4, kernelSize: 3 }).apply(input) as tf.SymbolicTensor });
    const c = compileWasmInference(m, { threads: 1 });
    const x = tf.zeros([1, 9, 8, 3]) as tf.Tensor4D;
    expect(() => c.run(x)).toThrow(/expected input \[N, 8, 8, 3\], got \[1, 9, 8, 3\]/);
    c.dispose();
    expect(() => c.run(x)).toThrow(/disposed/);
    x.dispose();
    m.dispose();
  });
});

describe('Detector engine selection', () => {
  class Doubler extends tf.layers.Layer {
    static className = 'TestEngineDoubler';
    call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
    }
  }

  it('runs the wasm kernels by default on the wasm backend, tfjs ops on request, same outputs', () => {
    const det = yoloFastestV2({ inputSize: 96 });
    randomizeWeights(det.model, 5);
    const x = randomInput([1, 96, 96, 3]);
    expect(det.inferenceInfo().engine).toBe('wasm-kernels');
    const a = det.predict(x);
    det.engine = 'tfjs';
    expect(det.inferenceInfo().engine).toBe('tfjs-graph');
    const b = det.predict(x);
    expect(maxOutputDiff(a, b)).toBeLessThanOrEqual(TOL);
    det.engine = 'auto';
    tf.dispose(det.predict(x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(det.predict(x));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...a, ...b, x]);
    det.dispose();
  });

  it('a layer without a kernel falls back to tfjs ops and says why', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const y = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const z = new Doubler({ name: 'double_me' }).apply(y) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: z });
    expect(() => compileWasmInference(m, { fallbackToLayerCall: true })).toThrow(UnsupportedGraphError);
    expect(() => compileWasmInference(m, { fallbackToLayerCall: true })).toThrow(/double_me/);
    m.dispose();
  });

  it('inferenceInfo reports the fallback reason for a custom-layer model', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const y = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const z = new Doubler({ name: 'double_me' }).apply(y) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: z });
    const det = new Detector(m, { ...yoloFastestV2({ inputSize: 96 }).spec, heads: [{ kind: 'yolov5', output: 0, anchors: [[1, 1]], stride: 8 }] } as never);
    det.fastInference = true;
    const info = det.inferenceInfo();
    // tfjs compile needs fallbackToLayerCall for custom layers: without it the LayersModel runs.
    expect(['tfjs-graph', 'layers']).toContain(info.engine);
    expect(info.fallbackReason).toMatch(/double_me/);
    m.dispose();
  });
});
