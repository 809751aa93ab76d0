/**
 * The Scaled-YOLOv4 YAML family without running the full-size models: the YAML reader, the
 * module table's resolution of the published P5/P6/P7 (parameter counts, state-dict keys and
 * shapes equal upstream's, ../shared/fixtures/scaled-yolov4/full-size), the builder on a small
 * model, and the checkpoint reader's refusals.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { parseModelYaml } from '../../../src/models/scaledYolov4/parseModelYaml';
import { planModel, planParameterCount } from '../../../src/models/scaledYolov4/planModel';
import { largeModelDict } from '../../../src/models/scaledYolov4/architectures';
import { scaledYolov4 } from '../../../src/models/scaledYolov4/scaledYolov4';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { describeFixtures, fixturePath, readJson } from '../../helpers/fixtures';
import { expectFlatTensors } from '../../helpers/expectFlatTensors';

const DIR = 'scaled-yolov4';

/** `key -> shape` of a `*_state_dict.txt` (num_batches_tracked excluded). */
function stateDictShapes(...parts: string[]): Map<string, string> {
  const rows = fs.readFileSync(fixturePath(...parts), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  return new Map(rows.filter((r) => !r[0].endsWith('num_batches_tracked')).map((r) => [r[0], r[1]]));
}

describe('parseModelYaml', () => {
  it('reads scalars, flow lists over several lines, block lists and comments', () => {
    const d = parseModelYaml(
      "nc: 3  # classes\ndepth_multiple: 0.33\nname: 'a # b'\nanchors:\n  - [1,2, 3,4]  # P3\n  - [5,6, 7,8]\nbackbone:\n  # rows\n  [[-1, 1, Conv, [8, 3, 1]],\n   [-1, 1, nn.Upsample, [None, 2, 'nearest']],\n  ]\nflag: True\nnothing: null\n",
    );
    expect(d).toEqual({
      nc: 3,
      depth_multiple: 0.33,
      name: 'a # b',
      anchors: [[1, 2, 3, 4], [5, 6, 7, 8]],
      backbone: [[-1, 1, 'Conv', [8, 3, 1]], [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']]],
      flag: true,
      nothing: null,
    });
  });

  it.each([
    ['a:\n  b: 1\n', /line 2: nested mappings are not supported/],
    ['a: [1, [2, 3]\n', /line 1: unclosed \[/],
    ['a: 1\n\tb: 2\n', /line 2: tabs/],
    ['a: 1\na: 2\n', /line 2: duplicate key 'a'/],
    ['a: {b: 1}\n', /line 1: unsupported YAML syntax/],
    ['a: *ref\n', /line 1: unsupported YAML syntax/],
    ['- 1\n', /line 1: expected 'key: value'/],
    ['a: [1, 2] x\n', /line 1: unexpected text after a list/],
  ])('rejects %j with a clear error', (text, err) => {
    expect(() => parseModelYaml(text)).toThrow(err);
  });
});

describe('planModel (parse_model)', () => {
  it('names the unknown module and the layer', () => {
    const d = largeModelDict('yolov4-p5', { depth: 0.33, width: 0.25 });
    (d.backbone as unknown[][])[2][2] = 'Focus2';
    expect(() => planModel(d)).toThrow(/model\.2: unknown module 'Focus2' \(known: Conv, Bottleneck/);
  });

  it('rejects a from index that points forward and a Detect that is not last', () => {
    const d = largeModelDict('yolov4-p5', { depth: 0.33, width: 0.25 });
    (d.backbone as unknown[][])[1][0] = 5;
    expect(() => planModel(d)).toThrow(/model\.1: 'from' 5 refers to no earlier layer/);
    const e = largeModelDict('yolov4-p5');
    (e.head as unknown[][]).push([-1, 1, 'Conv', [8, 1, 1]]);
    expect(() => planModel(e)).toThrow(/the last layer must be Detect/);
  });
});

describeFixtures(DIR, 'Scaled-YOLOv4 YAML models: structure equals upstream', () => {
  it.each(['p5', 'p6'])('the fixture yolov4-%s-small.yaml resolves to the same layers as the generated dict', (m) => {
    const fromYaml = planModel(parseModelYaml(fs.readFileSync(fixturePath(DIR, `yolov4-${m}-small.yaml`), 'utf8')));
    const generated = planModel(largeModelDict(`yolov4-${m}` as 'yolov4-p5', { depth: 0.33, width: 0.25 }));
    const rows = (p: typeof fromYaml) => p.layers.map((l) => [l.from, l.module, l.resolved.args]);
    expect(rows(generated)).toEqual(rows(fromYaml));
    const shapes = stateDictShapes(DIR, `yolov4-${m}-small_state_dict.txt`);
    expect(new Map(fromYaml.params.map((p) => [p.key, p.shape.join('x')]))).toEqual(shapes);
  });

  it.each(['yolov4-p5', 'yolov4-p6', 'yolov4-p7'] as const)('%s: parameter count, state-dict keys and shapes equal upstream (not built)', (m) => {
    const counts = readJson(DIR, 'full-size', 'param_counts.json')[m];
    const plan = planModel(largeModelDict(m));
    expect(planParameterCount(plan)).toBe(counts.parameters_numel);
    const numel = plan.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(numel).toBe(counts.state_dict_numel_excl_num_batches_tracked);
    expect(plan.strides).toEqual(counts.strides);
    expect(plan.detect.resolved.args[2]).toEqual(counts.detect_in_channels);
    expect(new Map(plan.params.map((p) => [p.key, p.shape.join('x')]))).toEqual(stateDictShapes(DIR, 'full-size', `${m}_state_dict.txt`));
  });

  it('refuses a renamed module class by name, and a non-allow-listed global as code', () => {
    const bytes = fs.readFileSync(fixturePath(DIR, 'yolov4-p5-small_released-style.pt'));
    const patch = (from: string, to: string): Buffer => {
      const b = Buffer.from(bytes);
      const at = b.indexOf(Buffer.from(from, 'latin1'));
      expect(at).toBeGreaterThan(0);
      b.write(to, at, 'latin1');
      return b;
    };
    expect(() => loadPytorch('scaled-yolov4', patch('common\nSPPCSP\n', 'common\nSPPCSQ\n'))).toThrow(
      /unsupported module class 'models\.common\.SPPCSQ' at 'model\.11'/,
    );
    expect(() => loadPytorch('scaled-yolov4', patch('mish_mish\nMishCuda\n', 'mish_mish\nMishCudX\n'))).toThrow(
      /unsupported pickle global 'mc\.build\.lib\.mish_mish\.MishCudX': a \.pth must not execute code/,
    );
  });

  it('a state dict (the csp branch) is pointed to the darknet loader', () => {
    expect(() => loadPytorch('scaled-yolov4', fs.readFileSync(fixturePath(DIR, 'csp', 'yolov4-csp.pt')))).toThrow(/holds a state dict.*loadPytorch\('darknet'/);
  });

  it('and a whole-model checkpoint given to the darknet loader is pointed back', () => {
    const cfg = fs.readFileSync(fixturePath(DIR, 'csp', 'yolov4-csp-div4.cfg'), 'utf8');
    expect(() => loadPytorch('darknet', fs.readFileSync(fixturePath(DIR, 'yolov4-p5-small.pt')), { cfg })).toThrow(
      /unsupported pickle global 'models\.yolo\.Model'.*whole-model yolov4-large checkpoint: load it with loadPytorch\('scaled-yolov4', bytes\)/,
    );
  });
});

describe('scaledYolov4() builder', () => {
  it('builds a small YAML model whose heads have the Detect shapes, with flat tensors', () => {
    const yaml = [
      'nc: 2',
      'depth_multiple: 0.33',
      'width_multiple: 0.125',
      'anchors:',
      '  - [10,13, 16,30]',
      '  - [30,61, 62,45]',
      'backbone:',
      '  [[-1, 1, Conv, [32, 3, 2]],',
      '   [-1, 3, BottleneckCSP, [64]],',
      '   [-1, 1, Conv, [64, 3, 2]],',
      '   [-1, 1, SPPCSP, [64]]]',
      'head:',
      '  [[-1, 1, nn.Upsample, [None, 2, nearest]],',
      '   [[-1, 1], 1, Concat, [1]],',
      '   [-1, 2, BottleneckCSP2, [32]],',
      '   [-1, 1, Bottleneck, [32]],',
      '   [[-1, 3], 1, Detect, [nc, anchors]]]',
    ].join('\n');
    expect(() => scaledYolov4({ model: yaml, inputSize: 34 })).toThrow(/input size must be a positive multiple of 4/);
    const det = scaledYolov4({ model: yaml, inputSize: 32 });
    try {
      expect(det.spec.heads.map((h) => (h.kind === 'yolov5' ? h.stride[0] : 0))).toEqual([2, 4]);
      const x = tf.zeros([1, 32, 32, 3]);
      expectFlatTensors(() => tf.dispose(det.predict(x)));
      const out = det.predict(x);
      expect(out.map((o) => o.shape)).toEqual([
        [1, 16, 16, 14],
        [1, 8, 8, 14],
      ]);
      tf.dispose([x, ...out]);
    } finally {
      det.dispose();
    }
  });
});
