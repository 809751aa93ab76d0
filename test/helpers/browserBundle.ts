/**
 * esbuild bundles of library code for the browser platform, for the tests that check nothing
 * Node-only is pulled in and for the real-browser test.
 */

/** The bundle's code and esbuild's errors as `file:line text` (a Node built-in reached is one). */
export function buildForBrowser(entry: string, format: 'esm' | 'iife' = 'esm'): { errors: string[]; code: string } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const r = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format,
    ...(format === 'iife' ? { target: 'es2020' } : {}),
    write: false,
    logLevel: 'silent',
  });
  return { errors: r.errors.map((e) => `${e.location?.file}:${e.location?.line} ${e.text}`), code: r.outputFiles?.[0]?.text ?? '' };
}
