/**
 * The package's front door and its subpaths resolve from the built dist/ in both module
 * systems: `require('yolo-tfjs/<sub>')` and `import('yolo-tfjs/<sub>')` (Node resolves the
 * package's own name through package.json `exports`), with the same names in both. Needs
 * `npm run build` (skipped with a message when dist/ has no entry folder).
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';

const ROOT = path.resolve(__dirname, '..');
const DIST_READY = fs.existsSync(path.join(ROOT, 'dist', 'entry', 'train.js'));
const SUBPATHS = ['', '/train', '/eval', '/layers', '/weights', '/engine', '/export', '/prune'];
/** One name each entry must have (what an application or a tool reaches for there). */
const EXPECTED: Record<string, string> = {
  '': 'load',
  '/train': 'train',
  '/eval': 'cocoEvaluate',
  '/layers': 'darknetConv2D',
  '/weights': 'readPytorchStateDict',
  '/engine': 'compileWasmInference',
  '/export': 'exportOnnx',
  '/prune': 'prune',
};

function names(kind: 'cjs' | 'esm', spec: string): string[] {
  const script = kind === 'cjs'
    ? `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(spec)})).filter((n) => n !== '__esModule' && n !== 'default').sort()))`
    : `import(${JSON.stringify(spec)}).then((m) => console.log(JSON.stringify(Object.keys(m).filter((n) => n !== 'default').sort())))`;
  const args = kind === 'cjs' ? ['-e', script] : ['--input-type=module', '-e', script];
  const out = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, YOLO_TFJS_BACKEND: 'cpu' } });
  return JSON.parse(out.trim().split('\n').pop() as string) as string[];
}

(DIST_READY ? describe : describe.skip)('package entry points (built dist/)', () => {
  if (!DIST_READY) console.warn('entryPoints.test: dist/entry missing; run `npm run build` first');
  it.each(SUBPATHS)('yolo-tfjs%s resolves in CommonJS and ESM with the same names', (sub) => {
    const spec = `yolo-tfjs${sub}`;
    const cjs = names('cjs', spec);
    const esm = names('esm', spec);
    expect(cjs).toContain(EXPECTED[sub]);
    expect(esm).toEqual(cjs);
  });

  it('the main entry is the small front door (training and engine internals are under subpaths)', () => {
    const main = names('cjs', 'yolo-tfjs');
    for (const n of ['load', 'loadDarknet', 'loadPytorch', 'Detector', 'tinyYoloV3', 'yoloV4Tiny', 'yoloFastestV2', 'efficientDet', 'cocoEvaluate', 'vocEvaluate', 'setBackend']) {
      expect(main).toContain(n);
    }
    for (const n of ['train', 'yoloV3Loss', 'compileWasmInference', 'exportOnnx', 'readPytorchStateDict', 'darknetConv2D']) {
      expect(main).not.toContain(n);
    }
  });
});
