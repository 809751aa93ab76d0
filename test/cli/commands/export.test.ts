/**
 * `yolo-tfjs export`: a Darknet cfg + weights to an ONNX file that onnxruntime-node loads, and
 * usage errors.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../../../src/cli/commands/export';
import { fixturePath } from '../../helpers/fixtures';
import { hasDarknetFixture } from '../../infer/inferHelpers';
import { loadOrtInJest } from '../../export/onnx/loadOrtInJest';

describe('yolo-tfjs export', () => {
  (hasDarknetFixture('yolo-fastest-1.1') ? it : it.skip)('writes an ONNX file of a Darknet model', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-export-'));
    const out = path.join(dir, 'm.onnx');
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const code = await run([
        fixturePath('darknet', 'weights', 'yolo-fastest-1.1.cfg'),
        '--weights', fixturePath('darknet', 'weights', 'yolo-fastest-1.1.weights'),
        '--onnx', out, '--json',
      ]);
      expect(code).toBe(0);
      const summary = JSON.parse(String(log.mock.calls[0][0]));
      expect(summary.outputs.map((o: { shape: unknown[] }) => o.shape)).toEqual([['N', 10, 10, 255], ['N', 20, 20, 255]]);
      const { ort } = loadOrtInJest();
      const s = await ort.InferenceSession.create(fs.readFileSync(out));
      expect(s.inputNames).toEqual(['input']);
      expect(s.outputNames).toEqual(['output0', 'output1']);
    } finally {
      log.mockRestore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without --onnx is a usage error saying so', async () => {
    await expect(run(['some.cfg'])).rejects.toThrow(/--onnx <out.onnx>/);
  });

  it('without a model is a usage error', async () => {
    await expect(run(['--onnx', 'x.onnx'])).rejects.toThrow(/usage: yolo-tfjs export/);
  });
});
