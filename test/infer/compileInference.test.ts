/**
 * The compiled inference path equals `model.predict` for every model (max abs error <= 1e-4),
 * holds no tensors across calls, and reports unsupported layers clearly.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { compileInference, CompiledInference, CompileOptions } from '../../src/infer/compileInference';
import { enableFastInference } from '../../src/infer/enableFastInference';
import { registerInferenceOp, unregisterInferenceOp } from '../../src/infer/registerInferenceOp';
import { Detector } from '../../src/detector';
import { tinyYoloV3 } from '../../src/models/darknet/tinyYoloV3';
import { yoloV4Tiny } from '../../src/models/darknet/yoloV4Tiny';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { efficientDet } from '../../src/models/efficientDet/efficientDet';
import { loadPytorch } from '../../src/models/loadPytorch';
import { fixturePath, hasFixtures } from '../helpers/fixtures';
import { hasDarknetFixture, loadDarknetFixture, maxOutputDiff, randomInput, randomizeWeights } from './inferHelpers';

const TOL = 1e-4;
const report: string[] = [];
afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`compiled vs model.predict (max abs error):\n  ${report.join('\n  ')}`);
});

/** Compare compiled and layers outputs on a batch of 2, then check tensors stay flat. */
function checkParity(name: string, det: Detector, opts: CompileOptions = {}): CompiledInference {
  const [h, w] = det.spec.input.size;
  const x = randomInput([2, h, w, 3]);
  const compiled = compileInference(det.model, opts);
  try {
    const ref = tf.tidy(() => {
      const y = det.model.predict(x);
      return Array.isArray(y) ? y : [y];
    });
    const got = compiled.run(x);
    const err = maxOutputDiff(got, ref);
    const scale = Math.max(...ref.map((t) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0])));
    report.push(`${name}${opts.leaky ? ` (leaky: ${opts.leaky})` : ''}: ${err.toExponential(2)} (outputs up to ${scale.toFixed(2)}, ${compiled.graph.nodes.length} ops)`);
    tf.dispose([...ref, ...got]);
    expect(err).toBeLessThanOrEqual(TOL);
    expect(scale).toBeGreaterThan(0.1); // a degenerate network would make the check vacuous
    tf.dispose(compiled.run(x)); // warm
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(compiled.run(x));
    expect(tf.memory().numTensors).toBe(before);
  } finally {
    x.dispose();
  }
  return compiled;
}

describe('compileInference parity', () => {
  it('tiny YOLOv3 (random weights and BN statistics, 128x128), leaky as prelu / leakyrelu / separate', () => {
    const det = tinyYoloV3({ inputSize: 128, numClasses: 4 });
    randomizeWeights(det.model, 1);
    const c = checkParity('tinyYoloV3', det);
    // Every conv fused: 13 convs, 6 pools, upsample, concat; no BN / activation nodes left.
    expect(c.graph.nodes.filter((n) => n.op === 'affine' || n.op === 'activation' || n.op === 'pad')).toHaveLength(0);
    c.dispose();
    checkParity('tinyYoloV3', det, { leaky: 'leakyrelu' }).dispose();
    checkParity('tinyYoloV3', det, { leaky: 'separate' }).dispose();
    det.dispose();
  });

  it('YOLOv4-tiny (random weights, 128x128)', () => {
    const det = yoloV4Tiny({ inputSize: 128, numClasses: 4 });
    randomizeWeights(det.model, 2);
    checkParity('yoloV4Tiny', det).dispose();
    det.dispose();
  });

  it('YOLO-FastestV2 (random weights, 160x160): shared output convs, channel split folded', () => {
    const det = yoloFastestV2({ inputSize: 160 });
    randomizeWeights(det.model, 3);
    const c = checkParity('yoloFastestV2', det);
    const splits = c.graph.nodes.filter((n) => n.op === 'channelSplit');
    expect(splits.length).toBe(13); // stride-1 blocks: 3 + 7 + 3
    for (const s of splits) expect(s.op === 'channelSplit' && s.folded[1]).toBe(true);
    c.dispose();
    det.dispose();
  });

  it('EfficientDet-D0 (random weights, 128x128): separable convs, per-level BNs on shared head convs, SE, fusion', () => {
    const det = efficientDet({ phi: 0, inputSize: 128 });
    randomizeWeights(det.model, 4);
    const c = checkParity('efficientDet-d0', det);
    expect(c.graph.nodes.filter((n) => n.op === 'affine')).toHaveLength(0);
    c.dispose();
    det.dispose();
  });
});

const dn = (name: string) => (hasDarknetFixture(name) ? it : it.skip);
describe('compileInference parity on the fixture Darknet weights (loadDarknet)', () => {
  for (const [name, size] of [['yolov3-tiny', 160], ['yolov4-tiny', 160], ['yolo-fastest-1.1', 320], ['yolov4-csp-s-mish', 160]] as const) {
    dn(name)(`${name} at ${size}`, () => {
      const det = loadDarknetFixture(name, size);
      checkParity(name, det).dispose();
      det.dispose();
    });
  }
});

const fv2 = hasFixtures('yolo-fastestv2', 'coco2017-0.241078ap-model.pth') ? it : it.skip;
describe('compileInference parity on the real YOLO-FastestV2 weights', () => {
  fv2('yolo-fastestv2 352 (COCO weights)', () => {
    const det = loadPytorch('yolo-fastestv2', fs.readFileSync(fixturePath('yolo-fastestv2', 'coco2017-0.241078ap-model.pth')));
    checkParity('yolo-fastestv2 (COCO)', det).dispose();
    det.dispose();
  });
});

describe('enableFastInference (deprecated alias of engine / compileOptions)', () => {
  it('makes Detector.predict use the compiled tfjs graph, and its dispose undoes it', () => {
    const det = yoloFastestV2({ inputSize: 96 });
    randomizeWeights(det.model, 5);
    const x = randomInput([1, 96, 96, 3]);
    const ref = det.predict(x);
    const engineBefore = det.inferenceInfo().engine;
    const before = tf.memory().numTensors;
    const handle = enableFastInference(det, { leaky: 'separate' });
    expect(det.inferenceInfo().engine).toBe('tfjs-graph');
    expect(det.compileOptions).toEqual({ leaky: 'separate' });
    expect(handle.graph.nodes.length).toBeGreaterThan(0);
    const got = det.predict(x);
    expect(maxOutputDiff(got, ref)).toBeLessThanOrEqual(TOL);
    tf.dispose(got);
    const viaHandle = handle.run(x);
    expect(maxOutputDiff(viaHandle, ref)).toBeLessThanOrEqual(TOL);
    tf.dispose(viaHandle);
    handle.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(det.engine).toBe('auto');
    expect(det.compileOptions).toBeUndefined();
    expect(det.inferenceInfo().engine).toBe(engineBefore);
    expect(() => handle.run(x)).toThrow(/disposed/);
    tf.dispose([...ref, x]);
    det.dispose();
  });

  it('the deprecated custom `inference` function still runs predict (reported as custom)', () => {
    const det = yoloFastestV2({ inputSize: 96 });
    const x = randomInput([1, 96, 96, 3]);
    let calls = 0;
    let freed = 0;
    det.inference = (input) => {
      calls++;
      return det.model.predict(input) as tf.Tensor[];
    };
    det.disposeInference = () => freed++;
    tf.dispose(det.predict(x));
    expect(calls).toBe(1);
    expect(det.inferenceInfo().engine).toBe('custom');
    expect(det.compiledInference()).toBeNull();
    det.dispose();
    expect(freed).toBe(1);
    x.dispose();
  });
});

describe('unsupported layers', () => {
  class Doubler extends tf.layers.Layer {
    static className = 'TestDoubler';
    call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(x, 2);
    }
  }
  const build = () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const y = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }).apply(input) as tf.SymbolicTensor;
    const z = new Doubler({ name: 'double_me' }).apply(y) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: z });
  };

  it('an unknown layer class is an error naming the layer and the class', () => {
    const m = build();
    expect(() => compileInference(m)).toThrow(/layer 'double_me' has class 'TestDoubler'.*registerInferenceOp/);
    m.dispose();
  });

  it('registerInferenceOp and fallbackToLayerCall both run it, matching predict', () => {
    const m = build();
    const x = randomInput([1, 8, 8, 3]);
    const ref = m.predict(x) as tf.Tensor;
    const viaCall = compileInference(m, { fallbackToLayerCall: true });
    expect(maxOutputDiff(viaCall.run(x), [ref])).toBeLessThanOrEqual(1e-6);
    viaCall.dispose();
    registerInferenceOp('TestDoubler', (_layer, [t]) => tf.add(t, t));
    try {
      const viaOp = compileInference(m);
      expect(viaOp.graph.nodes.some((n) => n.op === 'custom')).toBe(true);
      expect(maxOutputDiff(viaOp.run(x), [ref])).toBeLessThanOrEqual(1e-6);
      viaOp.dispose();
    } finally {
      unregisterInferenceOp('TestDoubler');
    }
    tf.dispose([x, ref]);
    m.dispose();
  });

  it('wrong input shape is an error naming both shapes', () => {
    const m = build();
    const c = compileInference(m, { fallbackToLayerCall: true });
    const x = tf.zeros([1, 9, 8, 3]) as tf.Tensor4D;
    expect(() => c.run(x)).toThrow(/expected input \[N, 8, 8, 3\], got \[1, 9, 8, 3\]/);
    x.dispose();
    c.dispose();
    m.dispose();
  });
});
