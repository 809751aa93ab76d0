// Runs before every test file: pick the backend the tests use (wasm unless overridden), and
// free it (wasm module, worker threads) when the file is done.
import * as tf from '@tensorflow/tfjs';
import { setBackend, disposeBackend } from '../../src/backend';

beforeAll(async () => {
  await setBackend(process.env.YOLO_TFJS_TEST_BACKEND || 'wasm');
  tf.enableProdMode();
});

afterAll(async () => {
  await disposeBackend();
});
