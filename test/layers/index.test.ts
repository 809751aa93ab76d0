import * as tf from '@tensorflow/tfjs';
import * as layers from '../../src/layers';

describe('layers/index', () => {
  it('registers every custom layer class for deserialisation', () => {
    const registered = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of ['YoloTfjsMish', 'YoloTfjsSwish', 'YoloTfjsChannelSlice', 'YoloTfjsDarknetMaxPool2D']) {
      expect(registered[name]).toBeDefined();
    }
    for (const cls of [layers.Mish, layers.Swish, layers.ChannelSlice, layers.DarknetMaxPool2D]) {
      expect(registered[cls.className]).toBeDefined();
    }
    expect(typeof layers.darknetConv2D).toBe('function');
    expect(typeof layers.darknetConv2DBNLeaky).toBe('function');
    expect(typeof layers.compose).toBe('function');
    expect(typeof layers.cspOSABlock).toBe('function');
    expect(typeof layers.darknetMaxPool).toBe('function');
  });

  it('a model with every Darknet custom layer round-trips through JSON with the same output', async () => {
    const inp = tf.input({ shape: [12, 12, 4] });
    let y = layers.darknetConv2D({ filters: 4, size: 3, batchNormalize: true, activation: 'mish', name: 'a' })(inp);
    y = layers.channelSlice(y, 2, 1, 's');
    y = layers.darknetMaxPool(y, { size: 3, stride: 2, name: 'p' }); // custom layer at 12 / 3 / 2
    y = layers.darknetConv2D({ filters: 2, size: 1, activation: 'swish', name: 'b' })(y);
    const m = tf.model({ inputs: inp, outputs: y });
    expect(m.getLayer('p').getClassName()).toBe('YoloTfjsDarknetMaxPool2D');
    const m2 = await tf.models.modelFromJSON({ modelTopology: m.toJSON(null, false) } as tf.io.ModelJSON);
    m2.setWeights(m.getWeights());
    const x = tf.randomNormal([1, 12, 12, 4], 0, 1, 'float32', 3);
    const a = m.predict(x) as tf.Tensor;
    const b = m2.predict(x) as tf.Tensor;
    expect(a.shape).toEqual([1, 6, 6, 2]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    m.dispose();
    m2.dispose();
  });
});
