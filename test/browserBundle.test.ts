/**
 * The library must keep working in a browser: bundling src/index.ts for the browser platform
 * must not pull in any Node built-in (fs, path, os, crypto, worker_threads) or sharp. Node-only
 * code loads those through `nodeRequire`, which bundlers cannot follow.
 */
import * as path from 'path';
import { buildForBrowser } from './helpers/browserBundle';

test('src/index.ts bundles for the browser with no Node-only module', () => {
  const r = buildForBrowser(path.resolve(__dirname, '..', 'src', 'index.ts'));
  // A literal require of a Node built-in cannot be resolved for the browser platform: it would
  // be an error here (tfjs-backend-wasm's own worker source mentions them only inside a string).
  expect(r.errors).toEqual([]);
  const code = r.code;
  expect(code.length).toBeGreaterThan(100_000);
  expect(code).toContain('yoloFastestV2');
});
