import { parseDarknetCfg, DarknetConvSection, DarknetYoloSection } from '../../src/weights/parseDarknetCfg';

const NET = '[net]\nwidth=64\nheight=32\nchannels=3\n';

describe('parseDarknetCfg', () => {
  test('sections in order with typed options, comments, whitespace, defaults', () => {
    const cfg = parseDarknetCfg(
      [
        '# a comment',
        '[net]',
        '; another comment',
        'batch = 64',
        ' width = 64 ',
        'height=32',
        'letter_box=1',
        'saturation = 1.5',
        '',
        '[convolutional]',
        'batch_normalize=1',
        'filters = 16  # trailing comment',
        'size=3',
        'stride=2',
        'pad=1',
        'activation=mish',
        '',
        '[conv]',
        'filters=8',
        'size=3',
        'padding=2',
        '',
        '[max]',
        'size=3',
        'stride=1',
        '',
        '[route]',
        'layers = -1, 0',
        '',
        '[route]',
        'layers=1',
        'groups=2',
        'group_id=1',
        '',
        '[shortcut]',
        'from=-4',
        'activation=linear',
        '',
        '[upsample]',
        '',
        '[dropout]',
        'probability=.1',
        '',
        '[convolutional]',
        'filters=18',
        'size=1',
        'activation=logistic',
        '',
        '[yolo]',
        'mask = 1,2',
        'anchors = 10,14,  23,27,  37,58',
        'classes=4',
        'num=3',
        'jitter=.3',
        'scale_x_y = 1.05',
        'nms_kind=diounms',
        'beta_nms=0.7',
        'new_coords=1',
      ].join('\r\n'),
    );
    expect(cfg.net).toMatchObject({ type: 'net', line: 2, width: 64, height: 32, channels: 3, letterBox: true });
    expect(cfg.layers.map((l) => l.type)).toEqual([
      'convolutional', 'convolutional', 'maxpool', 'route', 'route', 'shortcut', 'upsample', 'dropout', 'convolutional', 'yolo',
    ]);
    expect(cfg.layers[0]).toMatchObject({
      index: 0, line: 10, filters: 16, size: 3, stride: 2, padding: 1, groups: 1, batchNormalize: true, activation: 'mish',
    });
    // [conv] alias; pad=0 with explicit padding; Darknet's default activation is logistic.
    expect(cfg.layers[1]).toMatchObject({ index: 1, filters: 8, padding: 2, batchNormalize: false, activation: 'logistic' });
    expect(cfg.layers[2]).toMatchObject({ type: 'maxpool', size: 3, stride: 1, padding: 2 });
    expect(cfg.layers[3]).toMatchObject({ type: 'route', layers: [2, 0], groups: 1, groupId: 0 });
    expect(cfg.layers[4]).toMatchObject({ type: 'route', layers: [1], groups: 2, groupId: 1 });
    expect(cfg.layers[5]).toMatchObject({ type: 'shortcut', from: [1], activation: 'linear' });
    expect(cfg.layers[6]).toMatchObject({ type: 'upsample', stride: 2 });
    expect(cfg.layers[7]).toMatchObject({ type: 'dropout', probability: 0.1 });
    const yolo = cfg.layers[9] as DarknetYoloSection;
    expect(yolo).toMatchObject({
      index: 9, mask: [1, 2], classes: 4, num: 3, scaleXY: 1.05, newCoords: true, nmsKind: 'diounms', betaNms: 0.7,
    });
    expect(yolo.anchors).toEqual([[10, 14], [23, 27], [37, 58]]);
    expect(yolo.options.jitter).toEqual({ value: '.3', line: 54 });
  });

  test('maxpool defaults follow Darknet (size = stride, padding = size - 1); yolo mask defaults to 0..num-1', () => {
    const cfg = parseDarknetCfg(`${NET}[maxpool]\nstride=2\n[convolutional]\nfilters=6\n[yolo]\nanchors=1,2\nclasses=1\n`);
    expect(cfg.layers[0]).toMatchObject({ size: 2, stride: 2, padding: 1 });
    expect(cfg.layers[1]).toMatchObject({ size: 1, stride: 1, padding: 0, activation: 'logistic' } as Partial<DarknetConvSection>);
    expect(cfg.layers[2]).toMatchObject({ mask: [0], num: 1, nmsKind: 'default', betaNms: 0.6, scaleXY: 1, newCoords: false });
  });

  test('a repeated key keeps its first value (Darknet option_find)', () => {
    const cfg = parseDarknetCfg(`${NET}[convolutional]\nfilters=8\nfilters=16\nactivation=leaky\n`);
    expect((cfg.layers[0] as DarknetConvSection).filters).toBe(8);
  });

  test('training-only options are accepted', () => {
    expect(() =>
      parseDarknetCfg(
        `${NET}mosaic=1\nlearning_rate=0.001\n[convolutional]\nfilters=8\nstopbackward=1\nactivation=leaky\n` +
          '[dropout]\nprobability=0.1\ndropblock=1\n',
      ),
    ).not.toThrow();
  });

  const bad: [string, string, RegExp][] = [
    ['unknown section', `${NET}[convolutional]\nfilters=8\n[foo]\nbar=1\n`, /unknown section \[foo\] at line 7/],
    ['unsupported section [sam]', `${NET}[sam]\nfrom=-1\n`, /section \[sam\] at line 5 \(spatial attention.*not supported/],
    [
      'unsupported section [scale_channels]',
      `${NET}[scale_channels]\nfrom=-1\n`,
      /section \[scale_channels\] at line 5.*not supported/,
    ],
    [
      'dilation != 1',
      `${NET}[convolutional]\nfilters=8\nsize=3\ndilation=2\n`,
      /option 'dilation' of \[convolutional\] at line 5 \(layer 0\) \(line 8\): 'dilation=2' is not supported/,
    ],
    [
      'stride_x != stride_y',
      `${NET}[convolutional]\nfilters=8\nstride_x=2\nstride_y=1\n`,
      /option 'stride_x' of \[convolutional\] at line 5 \(layer 0\) \(line 7\).*non-square/,
    ],
    [
      'reverse=1',
      `${NET}[convolutional]\nfilters=8\nreverse=1\n`,
      /option 'reverse' of \[convolutional\] at line 5 \(layer 0\) \(line 7\): 'reverse=1' is not supported/,
    ],
    ['upsample scale', `${NET}[upsample]\nscale=2\n`, /option 'scale' of \[upsample\] at line 5 \(layer 0\) \(line 6\)/],
    ['downsample (negative stride)', `${NET}[upsample]\nstride=-2\n`, /stride=-2 .*not supported/],
    ['unknown option', `${NET}[convolutional]\nfilters=8\nactivaton=leaky\n`, /unknown option 'activaton' at line 7/],
    ['unknown activation', `${NET}[convolutional]\nfilters=8\nactivation=elu\n`, /activation 'elu' is not supported/],
    ['weighted shortcut', `${NET}[convolutional]\n[shortcut]\nfrom=-1\nweights_type=per_channel\n`, /weighted shortcuts/],
    ['route to a later layer', `${NET}[route]\nlayers=3\n`, /layer 3 resolves to 3, which is not an earlier layer/],
    ['route without layers', `${NET}[route]\ngroups=2\n`, /missing 'layers'/],
    ['group_id out of range', `${NET}[convolutional]\n[route]\nlayers=-1\ngroups=2\ngroup_id=2\n`, /group_id=2 must be in \[0, 2\)/],
    ['mask beyond num', `${NET}[yolo]\nmask=0,3\nanchors=1,2,3,4\nnum=2\n`, /anchor index 3 is outside 0..1/],
    ['too few anchors', `${NET}[yolo]\nanchors=1,2,3\nnum=2\n`, /3 values for num=2 anchors/],
    ['unknown nms_kind', `${NET}[yolo]\nanchors=1,2\nnms_kind=softnms\n`, /unknown nms_kind 'softnms'/],
    ['non-integer', `${NET}[convolutional]\nfilters=8.5\n`, /option 'filters'.*expected an integer, got '8.5'/],
    ['first section not [net]', '[convolutional]\nfilters=8\n', /first section must be \[net\]/],
    ['option before any section', 'width=3\n[net]\n', /line 1: option 'width' appears before any \[section\]/],
    ['no layers', NET, /no layers/],
    ['empty', '# nothing\n', /no sections/],
  ];
  test.each(bad)('error: %s', (_name, text, re) => {
    expect(() => parseDarknetCfg(text)).toThrow(re);
  });
});

describe('parseDarknetCfg bounds every number that sizes memory (hostile cfgs)', () => {
  const conv = (opts: string) => `${NET}[convolutional]\nfilters=8\nsize=3\n${opts}\n`;
  test.each([
    ['[net] width', '[net]\nwidth=8192\nheight=32\n[convolutional]\nfilters=8\n', /option 'width' of \[net\] at line 1 \(line 2\): width=8192 is over yolo-tfjs's bound of 4096/],
    ['[net] height', '[net]\nwidth=32\nheight=100000\n[convolutional]\nfilters=8\n', /height=100000 is over yolo-tfjs's bound of 4096/],
    ['[net] channels', '[net]\nwidth=32\nheight=32\nchannels=100000\n[convolutional]\nfilters=8\n', /channels=100000 is over yolo-tfjs's bound of 64/],
    ['conv padding', conv('padding=10000'), /option 'padding' of \[convolutional\] at line 5 \(layer 0\) \(line 8\): padding=10000 is over yolo-tfjs's bound of 64/],
    ['conv size', `${NET}[convolutional]\nfilters=8\nsize=99\n`, /size=99 is over yolo-tfjs's bound of 32/],
    ['conv stride', conv('stride=1000'), /stride=1000 is over yolo-tfjs's bound of 64/],
    ['conv stride_x', conv('stride_x=1000\nstride_y=1000'), /stride_x=1000 is over yolo-tfjs's bound of 64/],
    ['conv filters', `${NET}[convolutional]\nfilters=1000000\n`, /filters=1000000 is over yolo-tfjs's bound of 16384/],
    ['conv groups', `${NET}[convolutional]\nfilters=8\ngroups=1000000\n`, /groups=1000000 is over yolo-tfjs's bound of 16384/],
    ['maxpool size', `${NET}[maxpool]\nsize=1000000\nstride=1\n`, /option 'size' of \[maxpool\].*size=1000000 is over yolo-tfjs's bound of 32/],
    ['maxpool padding', `${NET}[maxpool]\nsize=2\nstride=2\npadding=5000\n`, /padding=5000 is over yolo-tfjs's bound of 64/],
    ['maxpool stride', `${NET}[maxpool]\nsize=2\nstride=5000\n`, /stride=5000 is over yolo-tfjs's bound of 64/],
    ['upsample stride', `${NET}[convolutional]\nfilters=8\n[upsample]\nstride=1000\n`, /stride=1000 is over yolo-tfjs's bound of 32/],
    ['route groups', `${NET}[convolutional]\nfilters=8\n[route]\nlayers=-1\ngroups=100000\n`, /groups=100000 is over yolo-tfjs's bound of 1024/],
    ['yolo classes', `${NET}[convolutional]\nfilters=18\n[yolo]\nclasses=1000000000\nnum=3\nanchors=1,2,3,4,5,6\n`, /classes=1000000000 is over yolo-tfjs's bound of 100000/],
    ['yolo num', `${NET}[convolutional]\nfilters=18\n[yolo]\nclasses=1\nnum=100000\nanchors=1,2\n`, /num=100000 is over yolo-tfjs's bound of 64/],
    ['yolo mask longer than num', `${NET}[convolutional]\nfilters=18\n[yolo]\nclasses=1\nnum=3\nmask=0,0,0,0,0\nanchors=1,2,3,4,5,6\n`, /mask.*5 entries for num=3 anchors/],
  ])('%s', (_, text, re) => {
    expect(() => parseDarknetCfg(text)).toThrow(re);
  });

  test('values at the bounds are accepted', () => {
    const cfg = parseDarknetCfg('[net]\nwidth=4096\nheight=4096\n[maxpool]\nsize=32\nstride=32\npadding=64\n');
    expect(cfg.net.width).toBe(4096);
    expect(cfg.layers[0]).toMatchObject({ size: 32, stride: 32, padding: 64 });
  });
});
