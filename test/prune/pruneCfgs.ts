// Small Darknet cfgs and seeded random tensors for the pruning tests.
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { darknetConvWeightsLayout, darknetTensorName } from '../../src/weights/readDarknetWeights';
import { TensorMap } from '../../src/weights/tensorMap';
import { mulberry32 } from '../../src/util/random';

const conv = (filters: number, size: number, act: string, stride = 1) =>
  `[convolutional]\nbatch_normalize=1\nfilters=${filters}\nsize=${size}\nstride=${stride}\npad=1\nactivation=${act}\n`;
const yolo = '[yolo]\nmask=0,1,2\nanchors=4,6, 8,10, 12,14\nclasses=1\nnum=3\n';

/**
 * Every layer kind the pruner walks, every reader 1x1 (so folding a constant is exact):
 * conv -> maxpool -> conv -> conv -> shortcut -> upsample -> route(-1, 0) -> conv ->
 * route groups=2 -> head conv -> yolo.
 */
export const LINEAR_PATHS_CFG = [
  '[net]\nwidth=32\nheight=32\nchannels=3\n',
  conv(8, 3, 'leaky'),
  '[maxpool]\nsize=2\nstride=2\n',
  conv(8, 1, 'leaky'),
  conv(8, 1, 'linear'),
  '[shortcut]\nfrom=-2\nactivation=linear\n',
  '[upsample]\nstride=2\n',
  '[route]\nlayers=-1,0\n',
  conv(16, 1, 'leaky'),
  '[route]\nlayers=-1\ngroups=2\ngroup_id=1\n',
  '[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n',
  yolo,
].join('\n');

/** A small YOLOv3-like cfg: residual stages ([shortcut] chains), a second head through upsample + route. */
export const YOLOV3_LIKE_CFG = [
  '[net]\nwidth=64\nheight=64\nchannels=3\n',
  conv(8, 3, 'leaky'), // 0
  conv(16, 3, 'leaky', 2), // 1
  conv(8, 1, 'leaky'), // 2
  conv(16, 3, 'leaky'), // 3
  '[shortcut]\nfrom=-3\nactivation=linear\n', // 4
  conv(8, 1, 'leaky'), // 5
  conv(16, 3, 'leaky'), // 6
  '[shortcut]\nfrom=-3\nactivation=linear\n', // 7
  conv(32, 3, 'leaky', 2), // 8
  conv(16, 1, 'leaky'), // 9
  conv(32, 3, 'leaky'), // 10
  '[shortcut]\nfrom=-3\nactivation=linear\n', // 11
  conv(16, 1, 'leaky'), // 12
  '[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n', // 13
  yolo, // 14
  '[route]\nlayers=-3\n', // 15
  conv(8, 1, 'leaky'), // 16
  '[upsample]\nstride=2\n', // 17
  '[route]\nlayers=-1,7\n', // 18
  conv(16, 3, 'leaky'), // 19
  '[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n', // 20
  yolo, // 21
].join('\n');

/** A small cfg for the 3 synthetic classes (circle, square, triangle), for training tests. */
export const THREE_CLASS_CFG = [
  '[net]\nwidth=64\nheight=64\nchannels=3\n',
  conv(8, 3, 'leaky', 2),
  conv(16, 3, 'leaky', 2),
  '[convolutional]\nfilters=24\nsize=1\nstride=1\npad=1\nactivation=linear\n',
  '[yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=3\nnum=3\n',
].join('\n');

/** Seeded random tensors for a cfg, with BN statistics in a sane range. */
export function randomDarknetTensors(cfgText: string, seed = 7): TensorMap {
  const cfg = parseDarknetCfg(cfgText);
  const rng = mulberry32(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const out: TensorMap = new Map();
  for (const info of darknetConvWeightsLayout(cfg)) {
    const l = info.layer;
    const n = l.filters;
    const vec = (f: () => number) => Float32Array.from({ length: n }, f);
    const put = (part: Parameters<typeof darknetTensorName>[1], shape: number[], data: Float32Array) =>
      out.set(darknetTensorName(l.index, part), { shape, dtype: 'float32', data });
    put('biases', [n], vec(() => u(-0.5, 0.5)));
    if (l.batchNormalize) {
      put('scales', [n], vec(() => u(0.5, 1.5)));
      put('rolling_mean', [n], vec(() => u(-0.2, 0.2)));
      put('rolling_variance', [n], vec(() => u(0.5, 2)));
    }
    const fan = (info.inChannels / l.groups) * l.size * l.size;
    const count = info.kernelShape.reduce((a, b) => a * b, 1);
    put('weights', info.kernelShape, Float32Array.from({ length: count }, () => u(-1, 1) * Math.sqrt(3 / fan)));
  }
  return out;
}
