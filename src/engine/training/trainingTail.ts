/**
 * The tail of a training graph (./trainingGraph.ts `TrainingTail`) in tfjs: the weightless ops
 * after the engine's last feature maps (EfficientDet's per-level reshape to anchors, their
 * concatenation, the classifier's sigmoid). It runs inside the loss's `tf.valueAndGrads`, so
 * the gradients w.r.t. the engine's outputs include the tail's. Without a tail it returns the
 * engine outputs in the model's output order (a value the model outputs twice appears twice).
 */
import * as tf from '@tensorflow/tfjs';
import { TrainingGraph } from './trainingGraph';

/** The model's outputs from the engine's (`engineOutputs[i]` is the value `graph.outputs[i]`). */
export function runTrainingTail(graph: TrainingGraph, engineOutputs: tf.Tensor[]): tf.Tensor[] {
  const { tail } = graph;
  const values = new Map<number, tf.Tensor>();
  graph.outputs.forEach((v, i) => values.set(v, engineOutputs[i]));
  const get = (v: number): tf.Tensor => {
    const t = values.get(v);
    if (!t) throw new Error(`runTrainingTail: internal error, value ${v} is not computed`);
    return t;
  };
  for (const n of tail.nodes) {
    const xs = n.inputs.map(get);
    const batch = xs[0].shape[0];
    let y: tf.Tensor;
    switch (n.op) {
      case 'reshape':
        y = tf.reshape(xs[0], [batch, ...n.shape]);
        break;
      case 'concat':
        y = tf.concat(xs, n.axis);
        break;
      case 'add':
        y = tf.addN(xs);
        break;
      case 'activation':
        y = n.fn === 'sigmoid' ? tf.sigmoid(xs[0]) : n.fn === 'relu' ? tf.relu(xs[0]) : n.fn === 'linear' ? xs[0] : unsupported(n.fn);
        break;
      default:
        throw new Error(`runTrainingTail: op '${n.op}' of layer '${n.layer}' is not a tail op`);
    }
    values.set(n.outputs[0], y);
  }
  return tail.outputs.map(get);
}

function unsupported(fn: string): never {
  throw new Error(`runTrainingTail: activation '${fn}'`);
}
