/**
 * Backend selection. In Node: tfjs-node-gpu > tfjs-node > wasm (multi-threaded) > cpu, picked
 * automatically on first use; in a browser: whatever tfjs picks (webgl/wasm/cpu).
 * `setBackend(name)` overrides; `backendInfo()` reports what was chosen.
 */
import * as tf from '@tensorflow/tfjs';

let readyPromise: Promise<string> | null = null;

/** Initialise the best available backend once; resolves to its name. */
export function ready(): Promise<string> {
  if (!readyPromise) readyPromise = chooseBackend();
  return readyPromise;
}

async function chooseBackend(): Promise<string> {
  try {
    require('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) return tf.getBackend();
  } catch {
    /* fall through */
  }
  await tf.setBackend('cpu');
  return tf.getBackend();
}

/** Use a specific backend (`wasm`, `cpu`, `tensorflow`, `webgl`, ...). */
export async function setBackend(name: string): Promise<string> {
  if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' could not be initialised`);
  readyPromise = Promise.resolve(tf.getBackend());
  return tf.getBackend();
}
