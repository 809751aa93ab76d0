import { run, formatCocoSummary } from '../../../src/cli/commands/eval';
import { describeFixtures, fixturePath, readJson } from '../../helpers/fixtures';
import { captureCli } from '../../helpers/captureCli';

const capture = (argv: string[]) => captureCli(run, argv);

describeFixtures('eval', 'yolo-tfjs eval on fixtures/eval', () => {
  const gt = fixturePath('eval', 'gt.json');
  const dets = fixturePath('eval', 'dets.json');
  const expectedCoco = readJson('eval', 'expected_coco.json');
  const expectedVoc = readJson('eval', 'expected_voc.json');

  it('prints the COCO summary exactly as pycocotools does, then the per-class table', async () => {
    const { code, out } = await capture(['--gt', gt, '--results', dets]);
    expect(code).toBe(0);
    expect(out.startsWith(expectedCoco.summary_text.replace(/\n$/, ''))).toBe(true);
    expect(out).toMatch(/^person\s+1\s+0\.5797\s+0\.8768/m);
  });

  it('--json gives the stats; --voc variants give the reference mAPs', async () => {
    const j = JSON.parse((await capture(['--gt', gt, '--results', dets, '--json'])).out);
    expect(Math.abs(j.AP - expectedCoco.stats.AP)).toBeLessThan(1e-6);
    const v = JSON.parse((await capture(['-g', gt, '-r', dets, '--voc', '--json'])).out);
    expect(Math.abs(v.mAP - expectedVoc.crowd_as_difficult.all_point.mAP)).toBeLessThan(1e-6);
    const v11 = JSON.parse((await capture(['-g', gt, '-r', dets, '--voc', '--eleven-point', '--crowd-excluded', '--json'])).out);
    expect(Math.abs(v11.mAP - expectedVoc.crowd_excluded.eleven_point.mAP)).toBeLessThan(1e-6);
    const text = (await capture(['-g', gt, '-r', dets, '--voc'])).out;
    expect(text).toMatch(/^VOC mAP@0.5 \(all-point, crowd as difficult\) = 0\.7638$/m);
  });

  it('reports missing arguments and files', async () => {
    await expect(capture(['--gt', gt])).rejects.toThrow(/--gt and --results are required/);
    await expect(capture(['--gt', gt, '--results', '/nonexistent/dets.json'])).rejects.toThrow(/results file \/nonexistent\/dets.json does not exist/);
    await expect(capture(['--gt', gt, '--results', dets, '--bogus'])).rejects.toThrow(/unknown option '--bogus'/);
  });
});

describe('formatCocoSummary', () => {
  it('formats -1 like pycocotools', () => {
    expect(formatCocoSummary(new Array(12).fill(-1)).split('\n')[0]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = -1.000');
  });
});
