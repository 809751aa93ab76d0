/**
 * In-process checks of the memory bounds and of trap isolation (the per-process hostile cases
 * are in hostileProcesses.test.ts): a plan too large for wasm memory is refused before
 * allocating, naming the model and the layer; a kernel trap names the model and the layer,
 * discards that engine instance (memory and worker threads) and the next call works again;
 * other models are not affected; `dispose()` twice is a no-op.
 */
import * as tf from '@tensorflow/tfjs';
import { loadDarknet } from '../../src/models/darknet/loadDarknet';
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { darknetLayerShapes } from '../../src/weights/darknetLayerShapes';
import { Detector } from '../../src/detector';
import { compileWasmInference, PlanTooLargeError, WasmCompiledInference } from '../../src/engine/wasmInference';
import { buildDarknetModel } from '../../src/models/darknet/darknetCfg';
import { expectFlatTensors } from '../helpers/expectFlatTensors';
import { darknetWeightsFor, tinyCfg, tooLargeCfg } from './syntheticDarknet';

/** The plan of a detector's compiled wasm engine (the tests break it on purpose). */
function compiledPlan(det: Detector) {
  return (det.compiledInference() as WasmCompiledInference).plan;
}

describe('memory bounds before allocating', () => {
  test('one activation over 1 GiB is refused while computing the cfg shapes, naming the layer', () => {
    const cfg = parseDarknetCfg('[net]\nwidth=4096\nheight=4096\n[convolutional]\nfilters=64\nsize=3\npad=1\n');
    expect(() => darknetLayerShapes(cfg)).toThrow(
      /layer 0 \[convolutional\] \(cfg line 4\) outputs 4096x4096x64 = 4\.0 GiB of float32 per image, over yolo-tfjs's bound of 1 GiB/,
    );
  });

  test('a plan over the kernel memory limit is refused at compile time (PlanTooLargeError), naming the largest layer', () => {
    const model = buildDarknetModel(parseDarknetCfg(tooLargeCfg()), { kernelInitializer: 'zeros' });
    try {
      expect(() => compileWasmInference(model, { threads: 1 })).toThrow(PlanTooLargeError);
      expect(() => compileWasmInference(model, { threads: 1 })).toThrow(/needs 2\.\d\d GiB of wasm memory .* over the 2 GiB limit; the largest activation is layer 'conv_\d_conv'/);
    } finally {
      model.dispose();
    }
  });

  test('a Detector whose plan is too large throws naming the model instead of falling back to the LayersModel', () => {
    const det = loadDarknet(tooLargeCfg(), darknetWeightsFor(tooLargeCfg()), { name: 'too-large' });
    try {
      expect(() => det.inferenceInfo()).toThrow(/^model 'too-large': the network needs .* GiB of wasm memory/);
    } finally {
      det.dispose();
    }
  });

  test('class count is checked against the weights before any class name is made', () => {
    const huge = tinyCfg().replace('classes=2', 'classes=99999');
    const t0 = Date.now();
    expect(() => loadDarknet(huge, darknetWeightsFor(tinyCfg()))).toThrow(/layer before has 21 channels but .*classes=99999/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('a kernel trap is isolated to its engine instance', () => {
  const cfg = tinyCfg();
  const weights = darknetWeightsFor(cfg);

  test.each([
    ['on the calling thread (1 thread)', 1],
    ['in the worker threads (2 threads)', 2],
  ])('a trap %s names the model and the layer; the next call rebuilds the engine and gives the same outputs; other models are unaffected', (_, threads) => {
    const a = loadDarknet(cfg, weights, { name: 'model-a' });
    const b = loadDarknet(cfg, weights, { name: 'model-b' });
    a.engine = 'wasm-kernels';
    b.engine = 'wasm-kernels';
    a.engineThreads = threads;
    b.engineThreads = threads;
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    try {
      const ref = a.predict(x);
      const refData = ref.map((t) => Array.from(t.dataSync()));
      tf.dispose(ref);
      const steps = compiledPlan(a).steps;
      // A conv big enough to be split across the threads when there are several.
      const k = steps.findIndex((s) => s.kernel === 'conv2d' && s.cost >= 150000);
      expect(k).toBeGreaterThanOrEqual(0);
      // Run far past the end of its buffers: the kernel reads/writes outside the wasm memory.
      steps[k].total = 1e9;
      expect(() => a.predict(x)).toThrow(
        new RegExp(`^model 'model-a': layer '${steps[k].layer}' \\(step ${k}, kernel '${steps[k].kernel}'\\) trapped: .*memory access out of bounds.*the engine instance was discarded`),
      );
      expectFlatTensors(() => {
        for (const det of [a, b]) {
          const out = det.predict(x);
          expect(out.map((t) => Array.from(t.dataSync()))).toEqual(refData);
          expect(det.inferenceInfo().engine).toBe('wasm-kernels');
          tf.dispose(out);
        }
      });
    } finally {
      x.dispose();
      a.dispose();
      b.dispose();
    }
  });
});

describe('dispose()', () => {
  test('twice is a no-op; predict after dispose says so', () => {
    const det = loadDarknet(tinyCfg(), darknetWeightsFor(tinyCfg()), { name: 'tiny' });
    det.inferenceInfo();
    det.dispose();
    expect(() => det.dispose()).not.toThrow();
    const x = tf.zeros([1, 64, 64, 3]);
    expect(() => det.predict(x)).toThrow(/Detector 'tiny' has been disposed/);
    x.dispose();
  });
});

describe('a spec (e.g. from a model folder) claiming a huge input', () => {
  test('is refused when the Detector is made, before any image is resized to it', () => {
    const det = loadDarknet(tinyCfg(), darknetWeightsFor(tinyCfg()), { name: 'tiny' });
    try {
      const spec = { ...det.spec, input: { ...det.spec.input, size: [100000, 64] as [number, number] } };
      expect(() => new Detector(det.model, spec)).toThrow(/spec 'tiny': input\.size\[0\] must be an integer from 1 to 4096 pixels, got 100000/);
    } finally {
      det.dispose();
    }
  });
});
