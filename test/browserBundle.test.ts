/**
 * The library must keep working in a browser: bundling src/index.ts for the browser platform
 * must not pull in any Node built-in (fs, path, os, crypto, worker_threads) or sharp. Node-only
 * code loads those through `nodeRequire`, which bundlers cannot follow.
 */
import * as path from 'path';

test('src/index.ts bundles for the browser with no Node-only module', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const r = esbuild.buildSync({
    entryPoints: [path.resolve(__dirname, '..', 'src', 'index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  // A literal require of a Node built-in cannot be resolved for the browser platform: it would
  // be an error here (tfjs-backend-wasm's own worker source mentions them only inside a string).
  expect(r.errors.map((e) => `${e.location?.file}:${e.location?.line} ${e.text}`)).toEqual([]);
  const code = r.outputFiles[0].text;
  expect(code.length).toBeGreaterThan(100_000);
  expect(code).toContain('yoloFastestV2');
});
