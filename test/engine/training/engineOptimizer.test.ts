// The engine's SGD (Nesterov or plain momentum, with train()'s decoupled weight decay) on the
// `sgdMomentum` kernel against tf.train.momentum applied to the same gradients.
import * as tf from '@tensorflow/tfjs';
import { buildTrainingGraph } from '../../../src/engine/training/trainingGraph';
import { TrainingEngine } from '../../../src/engine/training/trainingEngine';
import { EngineOptimizer } from '../../../src/engine/training/engineOptimizer';
import { modelVariables } from '../../../src/train/ema';
import { registerTrainingKernelsForBackend } from '../../../src/train/wasmGradients';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerTrainingKernelsForBackend();
});

describe('EngineOptimizer sgd vs tf.train.momentum', () => {
  test.each([true, false])('nesterov %s, 3 steps with decoupled weight decay on the kernels', (nesterov) => {
    const input = tf.input({ shape: [5, 5, 2] });
    const out = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const vars = modelVariables(model, true);
    const start = vars.map((v) => v.dataSync().slice());
    const x = tf.randomUniform([2, 5, 5, 2], -1, 1, 'float32', 4) as tf.Tensor4D;
    const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: 2, threads: 1 });
    const lr = 0.01, wd = 5e-4, mom = 0.937;
    const decays = (v: tf.Variable) => /kernel/.test(v.name);
    const opt = new EngineOptimizer(engine, vars, { kind: 'sgd', momentum: mom, nesterov });
    const ref = tf.train.momentum(lr, mom, nesterov);
    try {
      for (let step = 0; step < 3; step++) {
        const [h] = engine.forward(x);
        const R = tf.randomUniform(h.shape, -1, 1, 'float32', 9 + step);
        engine.backward([R]);
        // the reference: tfjs' optimizer on the engine's own gradients, then w *= 1 - lr * wd
        const grads = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(engine.gradient(v).slice(), v.shape)]));
        ref.applyGradients(grads as never);
        for (const v of vars) if (decays(v)) v.assign(tf.tidy(() => tf.mul(v, Math.fround(1 - lr * wd))));
        opt.update({ lr, weightDecay: wd, decays, sparsity: 0, isGamma: () => false });
        tf.dispose([h, R, ...Object.values(grads)]);
      }
      for (const v of vars) {
        const a = engine.weights(v), b = v.dataSync();
        let d = 0;
        for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        expect(d).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      vars.forEach((v, i) => v.assign(tf.tensor(start[i], v.shape)));
      engine.dispose();
      ref.dispose();
      x.dispose();
    }
  });
});
