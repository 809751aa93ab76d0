// The engine's EMA (shadow in engine memory, `ema` kernel) equals WeightEma (tfjs ops) update
// for update, and swapIn / applyTo / values behave as WeightEma's.
import * as tf from '@tensorflow/tfjs';
import { buildTrainingGraph } from '../../src/engine/training/trainingGraph';
import { TrainingEngine } from '../../src/engine/training/trainingEngine';
import { WeightEma, modelVariables } from '../../src/train/ema';
import { EngineEma } from '../../src/train/engineEma';

test('EngineEma matches WeightEma bit for bit over several updates', () => {
  const input = tf.input({ shape: [4, 4, 3] });
  const y = tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }).apply(input)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y });
  const engine = new TrainingEngine(buildTrainingGraph(model), { batchSize: 1, threads: 1 });
  const ref = new WeightEma(model, { tau: 3 });
  ref.update(); // the run's EMA may have updates before the engine takes over (resume)
  const ema = new EngineEma(engine, model, ref, () => engine.writeWeights());
  const vars = modelVariables(model);
  try {
    for (let step = 1; step <= 4; step++) {
      // a "step": change the engine's weights, publish them, update both
      for (const ev of engine.variables) {
        const w = engine.weights(ev.variable);
        for (let i = 0; i < w.length; i++) w[i] += Math.sin(step * 7 + i) * 0.1;
      }
      engine.writeWeights();
      ref.update();
      ema.update();
    }
    expect(ema.updates).toBe(ref.updates);
    const a = ema.values;
    ref.values.forEach((t, i) => expect(Array.from(a[i].dataSync())).toEqual(Array.from(t.dataSync())));
    // swapIn puts the shadow in the model, restore the engine's weights
    const live = vars.map((v) => v.dataSync().slice());
    const restore = ema.swapIn();
    vars.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(ref.values[i].dataSync())));
    restore();
    vars.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(live[i])));
  } finally {
    ema.dispose();
    ref.dispose();
    engine.dispose();
  }
});
