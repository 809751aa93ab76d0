/**
 * `yolo-tfjs detect` with no `--model`: the embedded Yolo-Fastest 1.1 on examples/images/dog.jpg
 * (no fixtures, cache or network), and the everyday options `--classes` and `--max-detections`
 * (`--max` kept), with one-line errors for bad values.
 */
import * as path from 'path';
import { spawnSync } from 'child_process';
import { main } from '../../src/cli/main';
import { captureCli } from '../helpers/captureCli';

const capture = (argv: string[]) => captureCli(main, argv);
const DOG = path.resolve(__dirname, '..', '..', 'examples', 'images', 'dog.jpg');

interface JsonOut {
  model: string;
  results: { image: string; detections: { label: string; score: number; classId: number; box: number[] }[] }[];
}

test('no --model: the embedded model prints a table of boxes', async () => {
  const r = await capture(['detect', DOG]);
  expect(r.code).toBe(0);
  expect(r.err).toMatch(/^model yolo-fastest-1\.1, engine /m);
  expect(r.out).toMatch(/dog\.jpg: \d+ detections/);
  expect(r.out).toMatch(/^\s+label\s+score\s+x1\s+y1\s+x2\s+y2$/m);
  expect(r.out).toMatch(/^\s+dog\s+0\.\d{3}(\s+\d+\.\d){4}$/m);
  expect(r.out).toMatch(/^\s+bicycle\s+0\.\d{3}/m);
});

test('--classes (names or ids) and --max-detections / --max with --json', async () => {
  const all = JSON.parse((await capture(['detect', DOG, '--json'])).out) as JsonOut;
  expect(all.model).toBe('yolo-fastest-1.1');
  const dets = all.results[0].detections;
  const want = dets.filter((d) => d.label === 'car' || d.label === 'dog');
  expect(want.length).toBeGreaterThan(2);
  const top = JSON.parse((await capture(['detect', DOG, '--json', '--classes', 'car, 16', '--max-detections', '2'])).out) as JsonOut;
  expect(top.results[0].detections).toEqual(want.slice(0, 2));
  const old = JSON.parse((await capture(['detect', DOG, '--json', '--max', '1'])).out) as JsonOut;
  expect(old.results[0].detections).toEqual(dets.slice(0, 1));
});

test('bad values are usage errors that say what is wrong', async () => {
  await expect(capture(['detect', DOG, '--classes', 'persn'])).rejects.toThrow(
    /^--classes: unknown class 'persn': did you mean 'person'\? valid classes include person, /,
  );
  await expect(capture(['detect', DOG, '--classes', '99'])).rejects.toThrow(/--classes: class id 99 is out of range: this model has classes 0\.\.79/);
  await expect(capture(['detect', DOG, '--classes', ' , '])).rejects.toThrow(/--classes needs class names or ids/);
  await expect(capture(['detect', DOG, '--max-detections', '-1'])).rejects.toThrow(/option '--max-detections' must be a whole number from 0 to 100000, got '-1'/);
  await expect(capture(['detect', DOG, '--max-detections', '2', '--max', '3'])).rejects.toThrow(/disagree/);
  await expect(capture(['detect', DOG, '--weights', 'x.weights'])).rejects.toThrow(/need --model/);
});

test('the binary: an unknown class is one line on stderr and exit code 1', () => {
  const cli = path.resolve(__dirname, '../../src/cli/main.ts');
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', cli, 'detect', DOG, '--classes', 'person,unicorn'], {
    encoding: 'utf8',
    env: { ...process.env, YOLO_TFJS_BACKEND: 'cpu' },
  });
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !/tfjs-node|TensorFlow\.js in Node|={5,}|^\s*$/.test(l));
  expect(lines).toEqual([expect.stringMatching(/^yolo-tfjs: --classes: unknown class 'unicorn': valid classes include person, bicycle, car, /)]);
  expect(r.stdout).toBe('');
});
