/**
 * NODE-ONLY: training checkpoints. A checkpoint folder holds the detector (`saveDetector`:
 * model.json, weights.bin, spec.json), the optimizer's slots (`optimizer.json` + `.bin`), the
 * EMA weights when used (`ema.json` + `.bin`) and the loop state (`state.json`: next epoch,
 * global step, history).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { nodeRequire } from '../util/nodeRequire';

/** A named tensor (as `Optimizer.getWeights` returns). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** The loop state saved with a checkpoint. */
export interface TrainState {
  /** Epochs completed (training resumes at this epoch). */
  epoch: number;
  /** Optimisation steps done. */
  step: number;
  seed: number;
  optimizer: 'sgd' | 'adam';
  emaUpdates?: number;
  /** Per-epoch summaries so far. */
  history: unknown[];
}

function fsPath(): { fs: typeof import('fs'); path: typeof import('path') } {
  return { fs: nodeRequire('fs') as typeof import('fs'), path: nodeRequire('path') as typeof import('path') };
}

async function writeTensors(dir: string, name: string, tensors: NamedTensor[]): Promise<void> {
  const { fs, path } = fsPath();
  const { data, specs } = await tf.io.encodeWeights(tensors);
  fs.writeFileSync(path.join(dir, `${name}.bin`), Buffer.from(data));
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ order: tensors.map((t) => t.name), specs }));
}

function readTensors(dir: string, name: string): NamedTensor[] {
  const { fs, path } = fsPath();
  const jf = path.join(dir, `${name}.json`);
  const bf = path.join(dir, `${name}.bin`);
  if (!fs.existsSync(jf) || !fs.existsSync(bf)) throw new Error(`checkpoint ${dir} has no ${name}.json/.bin`);
  const { order, specs } = JSON.parse(fs.readFileSync(jf, 'utf8')) as { order: string[]; specs: tf.io.WeightsManifestEntry[] };
  const buf = fs.readFileSync(bf);
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
  return order.map((n) => ({ name: n, tensor: map[n] }));
}

/** Save a checkpoint to `dir` (created; files overwritten). */
export async function saveCheckpoint(
  dir: string,
  detector: Detector,
  optimizer: tf.Optimizer,
  state: TrainState,
  ema?: tf.Tensor[],
): Promise<void> {
  const { fs, path } = fsPath();
  const { saveDetector } = require('../io/saveDetector') as typeof import('../io/saveDetector');
  fs.mkdirSync(dir, { recursive: true });
  await saveDetector(detector, dir);
  const slots = await optimizer.getWeights();
  await writeTensors(dir, 'optimizer', slots);
  // getWeights clones nothing for the slots, but the iteration counter is a new scalar
  const iter = slots.find((s) => s.name === 'iter');
  if (iter) iter.tensor.dispose();
  if (ema) await writeTensors(dir, 'ema', ema.map((t, i) => ({ name: `ema_${i}`, tensor: t })));
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 1));
}

/** A checkpoint read back (the caller disposes `detector` and the tensors). */
export interface LoadedCheckpoint {
  detector: Detector;
  optimizerSlots: NamedTensor[];
  ema?: tf.Tensor[];
  state: TrainState;
}

/** Read a checkpoint folder written by {@link saveCheckpoint}. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const { fs, path } = fsPath();
  const sf = path.join(dir, 'state.json');
  if (!fs.existsSync(sf)) throw new Error(`${dir} is not a training checkpoint: state.json is missing`);
  const state = JSON.parse(fs.readFileSync(sf, 'utf8')) as TrainState;
  const { loadDetectorFromDir } = require('../io/loadDetectorFromDir') as typeof import('../io/loadDetectorFromDir');
  const detector = await loadDetectorFromDir(dir);
  const optimizerSlots = readTensors(dir, 'optimizer');
  const ema = fs.existsSync(path.join(dir, 'ema.json')) ? readTensors(dir, 'ema').map((t) => t.tensor) : undefined;
  return { detector, optimizerSlots, ema, state };
}
