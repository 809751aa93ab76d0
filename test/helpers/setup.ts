// Runs before every test file: pick the backend the tests use (wasm unless overridden).
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend';

beforeAll(async () => {
  await setBackend(process.env.YOLO_TFJS_TEST_BACKEND || 'wasm');
  tf.enableProdMode();
});
