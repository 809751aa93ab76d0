import * as tf from '@tensorflow/tfjs';
import { efficientDetClassifier, efficientDetRegressor } from '../../../src/models/efficientDet/heads';

const count = (m: tf.LayersModel) => m.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);
const pyramid = (size: number, c: number) => [8, 16, 32, 64, 128].map((s) => tf.input({ shape: [size / s, size / s, c] }));

describe('EfficientDet heads', () => {
  it('D0 regressor: [N, 49104, 4] and 19,044 parameters; classifier: [N, 49104, 90] and 69,354 (upstream counts)', () => {
    const f = pyramid(512, 64);
    const reg = efficientDetRegressor(f, { channels: 64, depth: 3 });
    const cls = efficientDetClassifier(f, { channels: 64, depth: 3, numClasses: 90 });
    expect(reg.shape).toEqual([null, 49104, 4]);
    expect(cls.shape).toEqual([null, 49104, 90]);
    const mr = tf.model({ inputs: f, outputs: reg });
    const mc = tf.model({ inputs: f, outputs: cls });
    expect(count(mr)).toBe(19044);
    expect(count(mc)).toBe(69354);
    mr.dispose();
    mc.dispose();
  });

  it('D1 regressor 32,508 and classifier 101,394 parameters', () => {
    const f = pyramid(640, 88);
    const mr = tf.model({ inputs: f, outputs: efficientDetRegressor(f, { channels: 88, depth: 3 }) });
    const mc = tf.model({ inputs: f, outputs: efficientDetClassifier(f, { channels: 88, depth: 3, numClasses: 90 }) });
    expect(count(mr)).toBe(32508);
    expect(count(mc)).toBe(101394);
    mr.dispose();
    mc.dispose();
  });

  it('shares the conv weights across levels but has a separate BN per level; outputs level -> y -> x -> anchor', () => {
    const f = [tf.input({ shape: [2, 2, 4] }), tf.input({ shape: [1, 1, 4] })];
    const reg = efficientDetRegressor(f, { channels: 4, depth: 1, numAnchors: 2 });
    const m = tf.model({ inputs: f, outputs: reg });
    const conv = m.getLayer('regressor.conv_list.0');
    expect(conv.inboundNodes.length).toBe(2);
    expect(m.getLayer('regressor.header').inboundNodes.length).toBe(2);
    expect(m.getLayer('regressor.bn_list.0.0')).not.toBe(m.getLayer('regressor.bn_list.1.0'));
    // ordering probe: zero all kernels, header bias = [0..7] (channel a*4 + k) -> each row of the
    // [K, 4] output is [0,1,2,3] (anchor 0) or [4,5,6,7] (anchor 1), alternating, over 4 + 1 cells
    m.setWeights(m.weights.map((w) => (w.name.includes('moving_variance') || w.name.includes('gamma') ? tf.ones(w.shape as number[]) : tf.zeros(w.shape as number[]))));
    const header = m.getLayer('regressor.header');
    const hw = header.getWeights();
    header.setWeights([hw[0], hw[1], tf.range(0, 8)]);
    const y = m.predict([tf.ones([1, 2, 2, 4]), tf.ones([1, 1, 1, 4])]) as tf.Tensor;
    expect(y.shape).toEqual([1, 10, 4]);
    const rows = y.arraySync() as number[][][];
    rows[0].forEach((r, i) => expect(r).toEqual(i % 2 === 0 ? [0, 1, 2, 3] : [4, 5, 6, 7]));
    y.dispose();
    m.dispose();
  });

  it('classifier output is a sigmoid', () => {
    const f = [tf.input({ shape: [2, 2, 4] })];
    const m = tf.model({ inputs: f, outputs: efficientDetClassifier(f, { channels: 4, depth: 1, numClasses: 3, numAnchors: 1 }) });
    m.setWeights(m.weights.map((w) => (w.name.includes('moving_variance') ? tf.ones(w.shape as number[]) : tf.zeros(w.shape as number[]))));
    const y = m.predict(tf.ones([1, 2, 2, 4])) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array(12).fill(0.5));
    y.dispose();
    m.dispose();
  });

  it('names the problem on bad options', () => {
    const f = pyramid(256, 8);
    expect(() => efficientDetRegressor(f, { channels: 16, depth: 3 })).toThrow(/level 0 must be \[N, H, W, 16\]/);
    expect(() => efficientDetClassifier(f, { channels: 8, depth: 3, numClasses: 0 })).toThrow(/outputsPerAnchor must be an integer >= 1, got 0/);
  });
});
