/**
 * The committed kernel binaries (src/engine/kernelsWasm.ts) were built from the current C
 * sources: the build records a hash of src/engine/native, and a stale build fails here. When
 * clang is installed the sources are also rebuilt and must give the same bytes. The parameter
 * structs (native/params.h) and their TypeScript layouts (kernelLayouts.ts) must be what
 * scripts/kernel-params.js generates.
 */
import * as fs from 'fs';
import { KERNELS_RELAXED_SIMD, KERNELS_RELAXED_SIMD_THREADS, KERNELS_SIMD, KERNELS_SIMD_THREADS, KERNELS_SOURCE_HASH } from '../../src/engine/kernelsWasm';
import { TRAINING_KERNELS, createKernelModule, wasmRelaxedSimdSupported } from '../../src/engine/kernelModule';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const build = require('../../scripts/build-kernels.js') as { sourceHash(): string; generateParams(): { header: string; layouts: string }; PARAMS_H: string; LAYOUTS_TS: string; buildAll(clang: string): { st: Buffer; mt: Buffer; str: Buffer; mtr: Buffer }; findClang(): string | null };

describe('kernel binaries', () => {
  it('were built from the current sources (run `node scripts/build-kernels.js` after editing src/engine/native)', () => {
    expect(KERNELS_SOURCE_HASH).toBe(build.sourceHash());
  });

  it('parameter structs and TypeScript layouts are generated from scripts/kernel-params.js (run `node scripts/build-kernels.js` after editing it)', () => {
    const { header, layouts } = build.generateParams();
    expect(fs.readFileSync(build.PARAMS_H, 'utf8') === header).toBe(true);
    expect(fs.readFileSync(build.LAYOUTS_TS, 'utf8') === layouts).toBe(true);
  });

  it('export every kernel the planner calls, in every variant', () => {
    const variants = wasmRelaxedSimdSupported() ? [false, true] : [false];
    for (const threaded of [false, true]) for (const relaxed of variants) {
      const km = createKernelModule({ threaded, relaxed });
      for (const k of ['conv2d', 'depthwise2d', 'maxpool2d', 'binary', 'unary', 'upsampleNearest', 'pad2d', 'globalAvgPool'] as const) {
        expect(typeof km.kernel(k)).toBe('function');
      }
      for (const k of TRAINING_KERNELS) expect(typeof km.kernel(k)).toBe('function');
    }
    expect(KERNELS_SIMD.length).toBeGreaterThan(1000);
    expect(KERNELS_SIMD_THREADS.length).toBeGreaterThan(1000);
  });

  const clang = build.findClang();
  (clang ? it : it.skip)('rebuild from source gives the committed bytes (clang >= 16 installed)', () => {
    const { st, mt, str, mtr } = build.buildAll(clang as string);
    expect(st.toString('base64') === KERNELS_SIMD).toBe(true);
    expect(mt.toString('base64') === KERNELS_SIMD_THREADS).toBe(true);
    expect(str.toString('base64') === KERNELS_RELAXED_SIMD).toBe(true);
    expect(mtr.toString('base64') === KERNELS_RELAXED_SIMD_THREADS).toBe(true);
  });
  if (!clang) {
    // eslint-disable-next-line no-console
    console.log('kernel rebuild check skipped: no clang (apt-get install clang-16 lld-16)');
  }
});
