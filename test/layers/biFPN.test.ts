import * as tf from '@tensorflow/tfjs';
import { biFPN, biFPNLayer } from '../../src/layers/biFPN';
import { WeightedFusion } from '../../src/layers/weightedFusion';

const count = (m: tf.LayersModel) => m.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);

function backboneInputs(size: number, ch: [number, number, number]) {
  return [8, 16, 32].map((s, i) => tf.input({ shape: [size / s, size / s, ch[i]] }));
}

describe('biFPN', () => {
  it('D0 stack (64 ch, 3 layers) on B0 taps: P3-P7 shapes and 196,281 parameters (upstream BiFPN count)', () => {
    const ins = backboneInputs(512, [40, 112, 320]);
    const layers = biFPN({ channels: 64, repeats: 3, init: 'zeros' })(ins);
    expect(layers.length).toBe(3);
    for (const outs of layers) expect(outs.map((t) => t.shape)).toEqual([64, 32, 16, 8, 4].map((h) => [null, h, h, 64]));
    const m = tf.model({ inputs: ins, outputs: layers[2] });
    expect(count(m)).toBe(196281);
    // 8 fusion nodes per layer, weights [2,2,2,2,3,3,3,2]
    const fusions = m.layers.filter((l) => l instanceof WeightedFusion);
    expect(fusions.length).toBe(24);
    expect(fusions.filter((l) => l.name.startsWith('bifpn.0.')).map((l) => l.getWeights()[0].shape[0])).toEqual([2, 2, 2, 2, 3, 3, 3, 2]);
    // first layer only: separate down-channel convs for the bottom-up P4/P5 nodes, P6 from P5
    for (const n of ['p4_down_channel_2.0', 'p5_down_channel_2.0', 'p5_to_p6.0', 'p3_down_channel.0']) {
      expect(() => m.getLayer(`bifpn.0.${n}`)).not.toThrow();
      expect(() => m.getLayer(`bifpn.1.${n}`)).toThrow();
    }
    m.dispose();
  });

  it('D1 stack (88 ch, 4 layers): 390,972 parameters', () => {
    const ins = backboneInputs(640, [40, 112, 320]);
    const layers = biFPN({ channels: 88, repeats: 4, init: 'zeros' })(ins);
    expect(layers[3].map((t) => t.shape[1])).toEqual([80, 40, 20, 10, 5]);
    const m = tf.model({ inputs: ins, outputs: layers[3] });
    expect(count(m)).toBe(390972);
    m.dispose();
  });

  it('a later layer (5 C-channel inputs) keeps the shapes and has no down-channel paths', () => {
    const ins = [16, 8, 4, 2, 1].map((h) => tf.input({ shape: [h, h, 24] }));
    const outs = biFPNLayer(ins, { channels: 24, firstLayer: false, name: 'x' });
    const m = tf.model({ inputs: ins, outputs: outs });
    expect(outs.map((t) => t.shape)).toEqual(ins.map((t) => t.shape));
    // 8 separable blocks (dw 9C + pw C*C + C) + BN (2C) + fusion weights 19
    expect(count(m)).toBe(8 * (9 * 24 + 24 * 24 + 24 + 2 * 24) + 19);
    m.dispose();
  });

  it('without attention the fusions are plain sums (D6+)', () => {
    const ins = backboneInputs(256, [8, 8, 8]);
    const outs = biFPN({ channels: 8, repeats: 1, attention: false })(ins)[0];
    const m = tf.model({ inputs: ins, outputs: outs });
    expect(m.layers.filter((l) => l instanceof WeightedFusion).every((l) => (l as WeightedFusion).attention === false)).toBe(true);
    m.dispose();
  });

  it('names the problem on wrong inputs', () => {
    expect(() => biFPNLayer(backboneInputs(256, [8, 8, 8]), { channels: 8, firstLayer: false, name: 'a' })).toThrow(/later layer takes 5 inputs, got 3/);
    const five = [16, 8, 4, 2, 1].map((h) => tf.input({ shape: [h, h, 12] }));
    expect(() => biFPNLayer(five, { channels: 8, firstLayer: false, name: 'b' })).toThrow(/must have 8 channels/);
    expect(() => biFPN({ channels: 8, repeats: 0 })).toThrow(/repeats must be an integer >= 1/);
  });
});
