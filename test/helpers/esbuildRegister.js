/**
 * A minimal `require` hook that compiles `.ts` files with esbuild's transform (type-stripping
 * only, milliseconds per file), for child processes started by tests:
 * `node -r ./test/helpers/esbuildRegister.js some.ts`. Unlike a bundle, every module keeps its
 * real path, so the library's lazy `require`s of its own Node-only files still resolve.
 */
'use strict';
const fs = require('fs');
const esbuild = require('esbuild');

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = esbuild.transformSync(fs.readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node18',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  module._compile(code, filename);
};
