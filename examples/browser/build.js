/**
 * Bundles the demo page's script (examples/browser/demo.ts) with esbuild for the browser: the
 * library from src/ plus TensorFlow.js, one IIFE file.
 * Used by `npm run demo` (examples/browser/server.js) and the browser test.
 */
'use strict';
const path = require('path');

/**
 * Builds the demo bundle. Returns its code (and writes it to `outFile` when given).
 * @param {{ outFile?: string, minify?: boolean }} [opts]
 * @returns {string}
 */
function buildDemo(opts = {}) {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    throw new Error('the demo is built with esbuild, a devDependency: run `npm ci` in the repository first');
  }
  const r = esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'demo.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: opts.minify === true,
    sourcemap: false,
    write: false,
    logLevel: 'silent',
  });
  if (r.errors.length > 0) {
    throw new Error(`esbuild could not bundle the demo:\n${r.errors.map((e) => `${e.location?.file}:${e.location?.line} ${e.text}`).join('\n')}`);
  }
  const code = r.outputFiles[0].text;
  if (opts.outFile) {
    require('fs').mkdirSync(path.dirname(opts.outFile), { recursive: true });
    require('fs').writeFileSync(opts.outFile, code);
  }
  return code;
}

module.exports = { buildDemo };
