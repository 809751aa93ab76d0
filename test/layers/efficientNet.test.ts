import * as tf from '@tensorflow/tfjs';
import { efficientNet, efficientNetBlocks, roundFilters } from '../../src/layers/efficientNet';

const count = (m: tf.LayersModel) => m.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);

describe('efficientNet', () => {
  it('B0 at 512: 16 blocks, taps p3/p4/p5 and 3,595,388 parameters (upstream backbone count)', () => {
    const inp = tf.input({ shape: [512, 512, 3] });
    const f = efficientNet(inp, { variant: 0, init: 'zeros' });
    expect(f.blocks.length).toBe(16);
    expect(f.p3.shape).toEqual([null, 64, 64, 40]);
    expect(f.p4.shape).toEqual([null, 32, 32, 112]);
    expect(f.p5.shape).toEqual([null, 16, 16, 320]);
    // taps are block 4, block 10 and the last block (NOTES section 2)
    expect([f.p3, f.p4, f.p5]).toEqual([f.blocks[4], f.blocks[10], f.blocks[15]]);
    const m = tf.model({ inputs: inp, outputs: [f.p3, f.p4, f.p5] });
    expect(count(m)).toBe(3595388);
    m.dispose();
  });

  it('B1 at 640: 23 blocks, taps at blocks 7/15/22, 6,101,024 parameters', () => {
    const inp = tf.input({ shape: [640, 640, 3] });
    const f = efficientNet(inp, { variant: 1, init: 'zeros' });
    expect(f.blocks.length).toBe(23);
    expect([f.p3, f.p4, f.p5]).toEqual([f.blocks[7], f.blocks[15], f.blocks[22]]);
    expect(f.p5.shape).toEqual([null, 20, 20, 320]);
    const m = tf.model({ inputs: inp, outputs: [f.p3, f.p4, f.p5] });
    expect(count(m)).toBe(6101024);
    m.dispose();
  });

  it("tap channels of B0..B6 equal upstream's conv_channel_coef table", () => {
    const coef = [[40, 112, 320], [40, 112, 320], [48, 120, 352], [48, 136, 384], [56, 160, 448], [64, 176, 512], [72, 200, 576]];
    coef.forEach((c, b) => {
      const blocks = efficientNetBlocks(b);
      const stageOut = (s: number) => blocks.filter((x) => x.stage === s).slice(-1)[0].outputFilters;
      expect([stageOut(2), stageOut(4), stageOut(6)]).toEqual(c);
    });
    expect(roundFilters(32, 1.8)).toBe(56);
  });

  it('never skips on the first block of a stage; always on the others', () => {
    const blocks = efficientNetBlocks(3);
    blocks.forEach((b, i) => expect(b.skip).toBe(i > 0 && blocks[i - 1].stage === b.stage));
  });

  it('rejects an unknown variant and a non-RGB input', () => {
    expect(() => efficientNetBlocks(9)).toThrow(/variant must be an integer 0..8, got 9/);
    expect(() => efficientNet(tf.input({ shape: [64, 64, 1] }), { variant: 0 })).toThrow(/RGB input/);
  });
});
