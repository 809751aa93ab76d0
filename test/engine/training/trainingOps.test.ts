// Each op of the training engine, forward and backward, against tfjs autodiff of the same small
// model (training mode): outputs, every weight gradient (through the op: a conv before it),
// BN running statistics. Loss = sum(output * R) for a fixed random R.
import * as tf from '@tensorflow/tfjs';
import { buildTrainingGraph } from '../../../src/engine/training/trainingGraph';
import { TrainingEngine, TrainingPlanTooLargeError } from '../../../src/engine/training/trainingEngine';
import { modelVariables } from '../../../src/train/ema';
import { registerTrainingKernelsForBackend } from '../../../src/train/wasmGradients';
import { channelShuffleSplit } from '../../../src/layers/channelShuffle';
import { ChannelSlice } from '../../../src/layers/channelSlice';
import { DarknetMaxPool2D } from '../../../src/layers/darknetMaxPool';
import { Mish, Swish } from '../../../src/layers/mish';
import { checkModel, rel, seeded, Sym, TOL } from './opParity';

const L = tf.layers;

const conv = (filters: number, k: number, o: Partial<tf.layers.Layer['getConfig']> & Record<string, unknown> = {}) => L.conv2d({ filters, kernelSize: k, useBias: false, ...o } as never);
const bn = () => L.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });

describe('training engine ops vs tfjs autodiff (1e-4 relative)', () => {
  beforeAll(() => {
    registerTrainingKernelsForBackend(); // the reference: train()'s tfjs gradients on this backend
  });
  const cases: [string, (x: Sym) => Sym | Sym[], [number, number, number]][] = [
    ['conv 3x3 same + BN + relu', (x) => L.reLU().apply(bn().apply(conv(8, 3, { padding: 'same' }).apply(x))) as Sym, [8, 8, 3]],
    ['zero padding + conv 3x3 stride 2 valid + BN + leaky', (x) => L.leakyReLU({ alpha: 0.1 }).apply(bn().apply(conv(8, 3, { strides: 2 }).apply(L.zeroPadding2d({ padding: 1 }).apply(x)))) as Sym, [9, 9, 3]],
    ['conv with bias and relu6 activation', (x) => L.reLU({ maxValue: 6 }).apply(L.conv2d({ filters: 5, kernelSize: 1, useBias: true }).apply(x)) as Sym, [6, 6, 4]],
    ['conv with a fused relu', (x) => L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', useBias: true, activation: 'relu' }).apply(x) as Sym, [6, 6, 4]],
    ['depthwise 5x5 same + BN, depthwise 3x3 stride 2 padded + BN', (x) => {
      const a = bn().apply(L.depthwiseConv2d({ kernelSize: 5, padding: 'same', useBias: false }).apply(conv(8, 1).apply(x))) as Sym;
      return bn().apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, useBias: false }).apply(L.zeroPadding2d({ padding: 1 }).apply(a))) as Sym;
    }, [10, 10, 3]],
    ['max pooling: tf same 2/2, 2/1, Darknet 3/2', (x) => {
      const a = conv(4, 3, { padding: 'same' }).apply(x) as Sym;
      const p = L.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(a) as Sym;
      const q = L.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(p) as Sym;
      return new DarknetMaxPool2D({ size: 3, stride: 2, padding: 2 }).apply(q) as Sym;
    }, [9, 9, 3]],
    ['upsample + concat + add', (x) => {
      const a = conv(4, 3, { padding: 'same', strides: 2 }).apply(x) as Sym;
      const u = L.upSampling2d({ size: [2, 2] }).apply(a) as Sym;
      const b = conv(4, 1).apply(x) as Sym;
      const c = L.concatenate().apply([u, b, b]) as Sym;
      return L.add().apply([conv(12, 1).apply(c) as Sym, c]) as Sym;
    }, [8, 8, 3]],
    ['channel shuffle split + channel slice, two outputs', (x) => {
      const a = conv(8, 1).apply(x) as Sym;
      const [p, q] = channelShuffleSplit(a, 'shuffle');
      const s = new ChannelSlice({ groups: 2, groupId: 1 }).apply(conv(6, 1).apply(q)) as Sym;
      return [L.concatenate().apply([p, s]) as Sym, conv(2, 1).apply(q) as Sym];
    }, [5, 5, 3]],
    ['large weights on few pixels (conv split by output channels) + BN + leaky', (x) => {
      const a = conv(128, 1).apply(x) as Sym;
      return L.leakyReLU({ alpha: 0.1 }).apply(bn().apply(conv(128, 5, { padding: 'same' }).apply(a))) as Sym;
    }, [4, 4, 3]],
    ['conv + BN + mish (fused: the backward recomputes the BN output for the slope), conv with a fused mish', (x) => {
      const a = new Mish().apply(bn().apply(conv(6, 3, { padding: 'same' }).apply(x))) as Sym;
      return L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: true, activation: 'mish' as never }).apply(a) as Sym;
    }, [6, 6, 3]],
    ['sigmoid, tanh, elu (fused into convs), swish after BN', (x) => {
      const a = L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', useBias: true, activation: 'sigmoid' }).apply(x) as Sym;
      const b = L.conv2d({ filters: 5, kernelSize: 1, useBias: true, activation: 'tanh' }).apply(a) as Sym;
      const c = L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', useBias: false, activation: 'elu' }).apply(b) as Sym;
      return new Swish().apply(bn().apply(conv(4, 1).apply(c))) as Sym;
    }, [6, 6, 3]],
    ['a conv layer applied twice (shared weights) + concat heads', (x) => {
      const shared = L.conv2d({ filters: 3, kernelSize: 1, useBias: true });
      const a = L.reLU().apply(bn().apply(conv(4, 3, { padding: 'same' }).apply(x))) as Sym;
      const b = L.maxPooling2d({ poolSize: 2 }).apply(a) as Sym;
      return [L.concatenate().apply([shared.apply(a) as Sym, conv(2, 1).apply(a) as Sym]) as Sym, shared.apply(b) as Sym];
    }, [6, 6, 3]],
  ];
  for (const [name, build, shape] of cases) it(name, () => void checkModel(build, shape));

  it('a weight the user assigns between steps is read again; writeWeights publishes the engine weights', () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const c = L.conv2d({ filters: 3, kernelSize: 1, useBias: false });
    const model = tf.model({ inputs: input, outputs: c.apply(input) as Sym });
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: 1, threads: 1 });
    try {
      const kernel = c.weights[0].read() as tf.Variable;
      kernel.assign(tf.fill([1, 1, 2, 3], 0.5));
      const [y] = engine.forward(x);
      expect(Array.from(y.dataSync())).toEqual(new Array(48).fill(1));
      engine.weights(kernel).fill(2);
      engine.writeWeights();
      expect(Array.from(kernel.dataSync())).toEqual(new Array(6).fill(2));
      tf.dispose(y);
    } finally {
      engine.dispose();
      x.dispose();
    }
  });

  it('finite differences agree with the engine gradients (conv, BN gamma/beta, through maxpool and leaky)', () => {
    // float32 central differences (eps 1e-3, small enough not to cross a max-pool or leaky
    // kink here): measured 4e-4
    expect(finiteDifferences(() => L.leakyReLU({ alpha: 0.1 }), 'leaky')).toBeLessThan(2e-3);
  });

  it('finite differences agree with the engine gradients through BN + mish (no kinks)', () => {
    expect(finiteDifferences(() => new Mish(), 'mish')).toBeLessThan(2e-3);
  });

  it('a step that does not fit is a TrainingPlanTooLargeError before anything is allocated', () => {
    const input = tf.input({ shape: [64, 64, 3] });
    const model = tf.model({ inputs: input, outputs: L.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }).apply(input) as Sym });
    expect(() => new TrainingEngine(buildTrainingGraph(model), { batchSize: 16, threads: 1, maxBytes: 16 * 2 ** 20 })).toThrow(TrainingPlanTooLargeError);
    expect(() => new TrainingEngine(buildTrainingGraph(model), { batchSize: 16, threads: 1, maxBytes: 16 * 2 ** 20 })).toThrow(/batch 16 needs 0\.\d+ GiB .* use a smaller batch or input size/);
  });

  it('frozen conv and frozen BN: no gradients for them, running statistics unchanged', () => {
    checkFrozen();
  });
});

/**
 * Worst relative difference between the engine's gradients of conv, BN gamma and beta (4 entries
 * each) and float32 central differences of the engine's own forward, on conv -> BN -> `act` ->
 * maxpool -> conv.
 */
function finiteDifferences(act: () => tf.layers.Layer, name: string): number {
  const input = tf.input({ shape: [6, 6, 2] });
  const c0 = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false });
  const b0 = L.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  const h = L.conv2d({ filters: 3, kernelSize: 1 });
  const y = h.apply(L.maxPooling2d({ poolSize: 2 }).apply(act().apply(b0.apply(c0.apply(input))))) as Sym;
  const model = tf.model({ inputs: input, outputs: y });
  seeded(model, 9);
  const x = tf.randomUniform([2, 6, 6, 2], -1, 1, 'float32', 4) as tf.Tensor4D;
  const R = tf.randomUniform([2, 3, 3, 3], -1, 1, 'float32', 5);
  const r = R.dataSync();
  const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: 2, threads: 1 });
  const lossNow = (): number => {
    const [o] = engine.forward(x);
    const d = o.dataSync();
    o.dispose();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i] * r[i];
    return s;
  };
  try {
    lossNow();
    const [o] = engine.forward(x);
    engine.backward([R]);
    o.dispose();
    let worst = 0;
    for (const w of [c0.weights[0], b0.weights[0], b0.weights[1]]) {
      const v = w.read() as tf.Variable;
      const g = engine.gradient(v).slice();
      for (const i of [0, 3, Math.floor(v.size / 2), v.size - 1]) {
        const master = engine.weights(v);
        const w0 = master[i];
        const eps = 1e-3;
        master[i] = w0 + eps;
        engine.repack();
        const up = lossNow();
        engine.weights(v)[i] = w0 - eps;
        engine.repack();
        const down = lossNow();
        engine.weights(v)[i] = w0;
        engine.repack();
        const fd = (up - down) / (2 * eps);
        worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(1, Math.abs(g[i])));
      }
    }
    console.log(`finite differences (${name}): worst ${worst.toExponential(2)}`);
    return worst;
  } finally {
    engine.dispose();
    tf.dispose([x, R]);
  }
}

function checkFrozen(): void {
  const input = tf.input({ shape: [6, 6, 3] });
  const c0 = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'frozen_conv' });
  const b0 = L.batchNormalization({ name: 'frozen_bn' });
  const c1 = L.conv2d({ filters: 3, kernelSize: 1, name: 'head' });
  const out = c1.apply(L.reLU().apply(b0.apply(c0.apply(input)))) as Sym;
  const model = tf.model({ inputs: input, outputs: out });
  seeded(model, 5);
  c0.trainable = false;
  b0.trainable = false;
  const mean = b0.getWeights()[2].dataSync().slice();
  const x = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
  const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: 2, threads: 1 });
  try {
    const [h] = engine.forward(x);
    // Frozen BN normalises with its running statistics: inference-mode output.
    const ref = model.predict(x) as tf.Tensor;
    expect(rel(h.dataSync(), ref.dataSync())).toBeLessThan(TOL);
    const R = tf.onesLike(h);
    engine.backward([R]);
    expect(() => engine.gradient(c0.getWeights()[0] as never)).toThrow();
    expect(engine.variables.filter((v) => v.trainable).map((v) => v.variable.name).sort()).toEqual(modelVariables(model, true).map((v) => v.name).sort());
    expect(Array.from(engine.weights((b0.weights[2].read() as tf.Variable)))).toEqual(Array.from(mean));
    tf.dispose([h, ref, R]);
  } finally {
    engine.dispose();
    x.dispose();
  }
}
