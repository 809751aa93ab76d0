/**
 * Bundle a TypeScript entry for Node with esbuild into a temporary file, so tests can start it
 * in child processes quickly (no ts-node in each child).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Path of a CommonJS bundle of `entry` (in a fresh temporary directory). */
export function bundleForNode(entry: string): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-child-'));
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}.js`);
  esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    logLevel: 'silent',
    // the bundle lives in /tmp: keep __dirname-relative reads pointing at the source tree
    define: { __dirname: JSON.stringify(path.dirname(entry)) },
    external: ['@tensorflow/*', 'sharp', 'onnxruntime-*'],
  });
  return outfile;
}
