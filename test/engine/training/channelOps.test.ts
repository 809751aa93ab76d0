// EfficientDet's ops on the training engine (src/engine/training/channelOps.ts, the scaleChannels
// and channelDot kernels, swish / sigmoid backward) against tfjs autodiff on the cpu backend
// (forward outputs, every weight gradient, running statistics: 1e-4 relative to the largest
// reference magnitude), a central finite-difference spot check of the engine's own forward, and
// drop-connect's seeded per-image masks.
import * as tf from '@tensorflow/tfjs';
import { buildTrainingGraph } from '../../../src/engine/training/trainingGraph';
import { TrainingEngine } from '../../../src/engine/training/trainingEngine';
import { Swish } from '../../../src/layers/mish';
import { spatialMean } from '../../../src/layers/spatialMean';
import { WeightedFusion } from '../../../src/layers/weightedFusion';
import { staticSameMaxPool } from '../../../src/layers/staticSameMaxPool';
import { DropConnect } from '../../../src/layers/dropConnect';
import { separableConvLayer } from '../../../src/layers/separableConvBlock';
import { registerTrainingKernelsForBackend } from '../../../src/train/wasmGradients';
import { checkModel, seeded, Sym } from './opParity';

const L = tf.layers;
const conv = (filters: number, k: number, o: Record<string, unknown> = {}) => L.conv2d({ filters, kernelSize: k, useBias: false, padding: 'same', ...o } as never);
const bn = () => L.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
const swish = (x: Sym) => new Swish({}).apply(x) as Sym;

/** Squeeze-excitation as mbConvBlock builds it: spatial mean -> 1x1 (bias) -> swish -> 1x1 sigmoid -> x * se. */
function squeezeExcite(y: Sym, name: string): Sym {
  let s = spatialMean(y, `${name}.pool`);
  s = swish(L.conv2d({ filters: 2, kernelSize: 1, useBias: true }).apply(s) as Sym);
  s = L.conv2d({ filters: y.shape[3] as number, kernelSize: 1, useBias: true, activation: 'sigmoid' }).apply(s) as Sym;
  return L.multiply().apply([s, y]) as Sym;
}

const CASES: [string, (x: Sym) => Sym | Sym[], [number, number, number]][] = [
  ['BN + swish (fused: the backward recomputes the BN output), conv with a sigmoid', (x) => [swish(bn().apply(conv(6, 3).apply(x)) as Sym), conv(3, 1, { activation: 'sigmoid', useBias: true }).apply(x) as Sym], [7, 7, 3]],
  ['squeeze-excitation (two-stage spatial mean, channel product) in an MBConv', (x) => {
    const y = swish(bn().apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(conv(8, 1).apply(x))) as Sym);
    return bn().apply(conv(4, 1).apply(squeezeExcite(y, 'se'))) as Sym;
  }, [6, 5, 3]],
  // (Not after an upsample: tfjs' cpu backend gets the gradient of a strided conv -> UpSampling2D
  // wrong at batch 2 (its own finite differences and the wasm backend agree with the engine).)
  ['fast normalised fusion of 3 inputs (one also read elsewhere)', (x) => {
    const a = conv(4, 3).apply(x) as Sym;
    const b = swish(conv(4, 3).apply(x) as Sym);
    const c = conv(4, 1).apply(x) as Sym;
    const f = new WeightedFusion({ epsilon: 1e-4 }).apply([a, b, c]) as Sym;
    return [swish(f), conv(2, 1).apply(a) as Sym];
  }, [8, 8, 3]],
  ['static-same max pool (zero padding read by the pool) whose input has a second reader', (x) => {
    const a = conv(4, 3).apply(x) as Sym;
    const p = staticSameMaxPool(a, { name: 'pool' });
    return [conv(3, 1).apply(p) as Sym, conv(2, 1).apply(a) as Sym];
  }, [7, 6, 3]],
  ['separable conv shared by two levels (BN on one), swish', (x) => {
    const sep = separableConvLayer('sep', 5);
    const p3 = conv(4, 1).apply(x) as Sym;
    const p4 = conv(4, 3, { strides: 2 }).apply(x) as Sym;
    // Level 4 without BN: the pointwise bias has a gradient there (before a training BN it has none).
    return [swish(bn().apply(sep.apply(p3)) as Sym), swish(sep.apply(p4) as Sym)];
  }, [8, 8, 3]],
];

describe('EfficientDet ops on the training engine vs tfjs autodiff (cpu backend)', () => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    await tf.setBackend(process.env.OPS_BACKEND ?? 'cpu');
    if (tf.getBackend() === 'wasm') registerTrainingKernelsForBackend();
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  for (const [name, build, shape] of CASES) it(name, () => void checkModel(build, shape));

  it('finite differences of the engine forward match its gradients (fusion weights, SE and separable kernels)', () => {
    const input = tf.input({ shape: [6, 6, 3] });
    const a = conv(4, 3).apply(input) as Sym;
    const b = swish(bn().apply(conv(4, 3).apply(input)) as Sym);
    const f = new WeightedFusion({ epsilon: 1e-4, name: 'fuse' }).apply([a, b]) as Sym;
    const y = squeezeExcite(f, 'se');
    const out = bn().apply(separableConvLayer('sep', 3).apply(y)) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    seeded(model, 5);
    model.getLayer('fuse').setWeights([tf.tensor([0.7, 1.3])]);
    const x = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 9) as tf.Tensor4D;
    const R = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 10);
    const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: 2, threads: 1 });
    const loss = () => {
      const [h] = engine.forward(x);
      const v = tf.tidy(() => tf.sum(tf.mul(h, R)).dataSync()[0]);
      h.dispose();
      return v;
    };
    try {
      loss();
      engine.backward([R]);
      const probes: [tf.LayerVariable, number][] = [
        [model.getLayer('fuse').weights[0], 0],
        [model.getLayer('fuse').weights[0], 1],
        ...model.layers.filter((l) => l.getClassName() === 'Conv2D' && l.getConfig().activation === 'sigmoid').map((l) => [l.weights[0], 1] as [tf.LayerVariable, number]),
        [model.getLayer('sep').weights[0], 4],
        [model.getLayer('sep').weights[1], 2],
      ];
      const grads = probes.map(([w, i]) => engine.gradient(w.read() as tf.Variable)[i]);
      let worst = 0;
      probes.forEach(([w, i], k) => {
        const v = w.read() as tf.Variable;
        const base = v.dataSync().slice();
        const h = 1e-2;
        const at = (d: number) => {
          const t = base.slice();
          t[i] += d;
          v.assign(tf.tensor(t, v.shape));
          return loss();
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.tensor(base, v.shape));
        worst = Math.max(worst, Math.abs(fd - grads[k]) / Math.max(Math.abs(grads[k]), 1e-1));
      });
      // Measured 1.5e-4 (float32 forward, h = 1e-2, curvature of swish / sigmoid / BN).
      console.log(`channel ops, finite differences: worst ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-2);
    } finally {
      engine.dispose();
      tf.dispose([x, R]);
    }
  });

  it('drop-connect: per-image masks seeded by the engine, x / keep or 0, and the same factor on the gradient', () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const a = conv(3, 3).apply(input) as Sym;
    const out = L.add().apply([new DropConnect({ rate: 0.5, name: 'drop' }).apply(a) as Sym, input]) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    seeded(model, 2);
    const n = 8;
    const x = tf.randomUniform([n, 4, 4, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    const masksOf = (seed: number) => {
      const e = new TrainingEngine(buildTrainingGraph(model), { batchSize: n, threads: 1, seed });
      try {
        tf.dispose(e.forward(x));
        return Array.from(e.dropConnectFactors('drop')!);
      } finally {
        e.dispose();
      }
    };
    expect(masksOf(7)).toEqual(masksOf(7));
    expect(masksOf(7)).not.toEqual(masksOf(8));
    const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: n, threads: 1, seed: 7 });
    try {
      const [h] = engine.forward(x);
      const f = engine.dropConnectFactors('drop')!;
      expect(new Set(f)).toEqual(new Set([0, 2])); // some images kept (x / 0.5), some dropped
      // Reference: the layer's formula x / keep * mask with the engine's masks.
      const ref = tf.tidy(() => {
        const ya = model.getLayer(a.sourceLayer.name).apply(x) as tf.Tensor;
        return tf.add(tf.mul(tf.div(ya, 0.5), tf.tensor(Array.from(f, (v) => (v > 0 ? 1 : 0)), [n, 1, 1, 1])), x);
      });
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(h, ref))).dataSync()[0]);
      expect(d).toBeLessThan(1e-5);
      const R = tf.randomUniform([n, 4, 4, 3], -1, 1, 'float32', 6);
      engine.backward([R]);
      const kernel = a.sourceLayer.weights[0].read() as tf.Variable;
      const g = tf.tidy(() =>
        tf.grad((k: tf.Tensor) => {
          const ya = tf.conv2d(x, k as tf.Tensor4D, 1, 'same');
          return tf.sum(tf.mul(tf.mul(tf.div(ya, 0.5), tf.tensor(Array.from(f, (v) => (v > 0 ? 1 : 0)), [n, 1, 1, 1])), R));
        })(kernel).dataSync(),
      );
      const e = engine.gradient(kernel);
      let err = 0;
      let mx = 0;
      for (let i = 0; i < g.length; i++) {
        err = Math.max(err, Math.abs(e[i] - g[i]));
        mx = Math.max(mx, Math.abs(g[i]));
      }
      expect(err / mx).toBeLessThan(1e-5);
      tf.dispose([h, ref, R]);
    } finally {
      engine.dispose();
      tf.dispose(x);
    }
  });
});
