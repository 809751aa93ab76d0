import * as tf from '@tensorflow/tfjs';
import { DropConnect } from '../../src/layers/dropConnect';

describe('DropConnect', () => {
  it('is the identity at inference', () => {
    const l = new DropConnect({ rate: 0.5 });
    const x = tf.randomNormal([4, 3, 3, 2]);
    const y = l.apply(x) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
  });

  it('in training keeps or drops whole samples and scales kept ones by 1/(1-rate)', () => {
    const l = new DropConnect({ rate: 0.5 });
    const x = tf.ones([64, 2, 2, 3]);
    const y = l.apply(x, { training: true }) as tf.Tensor;
    const v = y.arraySync() as number[][][][];
    let kept = 0;
    for (const sample of v) {
      const flat = sample.flat(2);
      expect(new Set(flat).size).toBe(1);
      expect([0, 2]).toContain(flat[0]);
      if (flat[0] === 2) kept++;
    }
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThan(54);
    tf.dispose([x, y]);
  });

  it('rejects a rate outside [0, 1)', () => {
    expect(() => new DropConnect({ rate: 1 })).toThrow(/rate must be in \[0, 1\)/);
    expect(() => new DropConnect({ rate: -0.1 })).toThrow(/rate must be in/);
  });
});
