/**
 * `yolo-tfjs detect` and `convert`: in-process runs of the commands (output captured) with the
 * REAL Yolo-Fastest 1.1 weights, the converted folder loading back to the same boxes, and the
 * real binary's error handling (one line, exit code 1, no stack trace).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { main } from '../../src/cli/main';
import { describeFixtures, fixturePath } from '../helpers/fixtures';
import { captureCli } from '../helpers/captureCli';

const capture = (argv: string[]) => captureCli(main, argv);

const cfg = fixturePath('darknet/weights/yolo-fastest-1.1.cfg');
const weights = fixturePath('darknet/weights/yolo-fastest-1.1.weights');
const dog = fixturePath('images/dog.jpg');

describeFixtures('darknet/weights/yolo-fastest-1.1.weights', 'yolo-tfjs detect / convert', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-cli-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('detect --json on a cfg + weights, and --out draws an image of the same size', async () => {
    const out = path.join(tmp, 'dog.png');
    const r = await capture(['detect', dog, '--model', cfg, '--weights', weights, '--json', '--out', out]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const dets = j.results[0].detections;
    expect(dets.length).toBe(8);
    expect(dets.map((d: { label: string }) => d.label)).toEqual(
      expect.arrayContaining(['car', 'dog', 'cat', 'bicycle', 'person']),
    );
    expect(j.backend.name).toBeTruthy();
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const sharp = require('sharp');
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([768, 576]);
  });

  test('table output and --score filter', async () => {
    const r = await capture(['detect', dog, '-m', cfg, '-w', weights, '--score', '0.5']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/dog.jpg: 4 detections/);
    expect(r.out).toMatch(/^\s+car\s+0\.8\d\d/m);
  });

  test('convert writes a folder that detect loads back with the same boxes', async () => {
    const dir = path.join(tmp, 'yf11');
    const c = await capture(['convert', cfg, weights, dir, '--json']);
    expect(c.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'spec.json'))).toBe(true);
    const a = JSON.parse((await capture(['detect', dog, '-m', cfg, '-w', weights, '--json'])).out).results[0].detections;
    const b = JSON.parse((await capture(['detect', dog, '-m', dir, '--json'])).out).results[0].detections;
    expect(b.length).toBe(a.length);
    b.forEach((d: { classId: number; score: number; box: number[] }, i: number) => {
      expect(d.classId).toBe(a[i].classId);
      expect(Math.abs(d.score - a[i].score)).toBeLessThan(1e-5);
      d.box.forEach((v, k) => expect(Math.abs(v - a[i].box[k])).toBeLessThan(1e-3));
    });
  });

  test('--engine: the wasm kernels, tfjs ops and the LayersModel give the same boxes; bench reports the engine', async () => {
    const runs: Record<string, { engine: { engine: string }; results: { detections: { classId: number; score: number; box: number[] }[] }[] }> = {};
    for (const e of ['wasm-kernels', 'tfjs', 'layers']) {
      const r = await capture(['detect', dog, '-m', cfg, '-w', weights, '--json', '--engine', e]);
      expect(r.code).toBe(0);
      runs[e] = JSON.parse(r.out);
    }
    expect(runs['wasm-kernels'].engine.engine).toBe('wasm-kernels');
    expect(runs.tfjs.engine.engine).toBe('tfjs-graph');
    expect(runs.layers.engine.engine).toBe('layers');
    const a = runs['wasm-kernels'].results[0].detections;
    expect(a.length).toBe(8);
    for (const other of [runs.tfjs, runs.layers]) {
      const b = other.results[0].detections;
      expect(b.length).toBe(a.length);
      b.forEach((d, i) => {
        expect(d.classId).toBe(a[i].classId);
        expect(Math.abs(d.score - a[i].score)).toBeLessThan(1e-4);
        d.box.forEach((v, k) => expect(Math.abs(v - a[i].box[k])).toBeLessThan(1e-2));
      });
    }
    const bench = await capture(['bench', '-m', cfg, '-w', weights, '--runs', '2', '--warmup', '1', '--json']);
    expect(bench.code).toBe(0);
    const j = JSON.parse(bench.out);
    expect(j.engine.engine).toBe('wasm-kernels');
    expect(j.medianMs).toBeGreaterThan(0);
    await expect(capture(['detect', dog, '-m', cfg, '-w', weights, '--engine', 'gpu'])).rejects.toThrow(/--engine must be one of auto, wasm-kernels, tfjs, layers, got 'gpu'/);
  });

  test('usage errors are errors that name the problem', async () => {
    await expect(capture(['detect'])).rejects.toThrow(/at least one image/);
    await expect(capture(['detect', dog, '--model', cfg])).rejects.toThrow(/--weights/);
    await expect(capture(['detect', dog, '--bogus'])).rejects.toThrow(/unknown option '--bogus'/);
    await expect(capture(['detect', dog, '--score', 'abc'])).rejects.toThrow(/needs a number/);
    await expect(capture(['convert', cfg])).rejects.toThrow(/usage: yolo-tfjs convert/);
    expect((await capture(['nosuch'])).code).toBe(1);
  });

  test('the binary prints one line and exits 1 on bad input (no stack trace)', () => {
    const cli = path.resolve(__dirname, '../../src/cli/main.ts');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', cli, ...args], {
        encoding: 'utf8',
        env: { ...process.env, YOLO_TFJS_BACKEND: 'cpu' },
      });
    const notImage = run(['detect', path.resolve(__dirname, '../../README.md'), '-m', cfg, '-w', weights]);
    expect(notImage.status).toBe(1);
    expect(notImage.stderr.trim().split('\n').pop()).toMatch(/^yolo-tfjs: error: .*README\.md' is not a readable image/);
    expect(notImage.stderr).not.toMatch(/\n\s+at /);
    // cfg / weights mismatch: yolo-fastest-1.1 cfg with the -xl weights
    const mismatch = run(['detect', dog, '-m', cfg, '-w', fixturePath('darknet/weights/yolo-fastest-1.1-xl.weights')]);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/yolo-tfjs: error: .*(bytes|floats)/);
    expect(mismatch.stderr).not.toMatch(/\n\s+at /);
  });
});
