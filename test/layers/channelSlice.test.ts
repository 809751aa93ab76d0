import * as tf from '@tensorflow/tfjs';
import { ChannelSlice, channelSlice } from '../../src/layers/channelSlice';

describe('ChannelSlice', () => {
  it('takes channels [groupId*C/groups, (groupId+1)*C/groups) like Darknet route groups', () => {
    const inp = tf.input({ shape: [2, 2, 6] });
    const m = tf.model({ inputs: inp, outputs: [channelSlice(inp, 2, 1, 's1'), channelSlice(inp, 3, 0, 's0')] });
    expect(m.outputs.map((o) => o.shape)).toEqual([[null, 2, 2, 3], [null, 2, 2, 2]]);
    const x = tf.range(0, 24).reshape([1, 2, 2, 6]);
    const [a, b] = m.predict(x) as tf.Tensor[];
    expect(Array.from(a.dataSync())).toEqual([3, 4, 5, 9, 10, 11, 15, 16, 17, 21, 22, 23]);
    expect(Array.from(b.dataSync())).toEqual([0, 1, 6, 7, 12, 13, 18, 19]);
    tf.dispose([x, a, b]);
    m.dispose();
  });

  it('serialises and round-trips', async () => {
    const inp = tf.input({ shape: [1, 1, 4] });
    const m = tf.model({ inputs: inp, outputs: channelSlice(inp, 2, 1, 'half') });
    const m2 = await tf.models.modelFromJSON({ modelTopology: m.toJSON(null, false) } as tf.io.ModelJSON);
    const layer = m2.getLayer('half') as ChannelSlice;
    expect(layer.getConfig()).toMatchObject({ groups: 2, groupId: 1 });
    const y = m2.predict(tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4])) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual([3, 4]);
    y.dispose();
    m.dispose();
    m2.dispose();
  });

  it('rejects bad groups with clear errors', () => {
    expect(() => new ChannelSlice({ groups: 2, groupId: 2 })).toThrow(/groupId must be an integer in \[0, 2\)/);
    expect(() => new ChannelSlice({ groups: 0, groupId: 0 })).toThrow(/groups must be a positive integer/);
    const inp = tf.input({ shape: [2, 2, 5] });
    expect(() => channelSlice(inp, 2, 0, 'odd')).toThrow(/5 channels do not split into 2 equal groups/);
  });
});
