/**
 * Small Darknet cfgs with seeded random weights, for the hostile-input tests (no fixtures
 * needed): a healthy detector, and cfg texts that are valid except for their sizes.
 */
import { parseDarknetCfg } from '../../src/weights/parseDarknetCfg';
import { darknetWeightsFloatCount } from '../../src/weights/readDarknetWeights';

/**
 * A `.weights` file (version 0.2 header) for `cfgText` of seeded values in [0.01, 0.26): positive,
 * so batch-norm variances are valid.
 */
export function darknetWeightsFor(cfgText: string, seed = 1): Uint8Array {
  const floats = darknetWeightsFloatCount(parseDarknetCfg(cfgText));
  const bytes = new Uint8Array(20 + floats * 4);
  const dv = new DataView(bytes.buffer);
  dv.setInt32(0, 0, true);
  dv.setInt32(4, 2, true);
  let s = seed >>> 0;
  for (let i = 0; i < floats; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    dv.setFloat32(20 + 4 * i, 0.01 + (s / 2 ** 32) * 0.25, true);
  }
  return bytes;
}

/** A tiny one-head detector cfg (64x64 input, 2 classes) with a route and an upsample. */
export function tinyCfg(opts: { width?: number; height?: number } = {}): string {
  return [
    '[net]', `width=${opts.width ?? 64}`, `height=${opts.height ?? 64}`, 'channels=3',
    '[convolutional]', 'batch_normalize=1', 'filters=8', 'size=3', 'stride=2', 'pad=1', 'activation=leaky',
    '[maxpool]', 'size=2', 'stride=2',
    '[convolutional]', 'filters=16', 'size=3', 'stride=1', 'pad=1', 'activation=leaky',
    '[upsample]', 'stride=2',
    '[route]', 'layers=-1,-4',
    '[convolutional]', 'filters=21', 'size=1', 'stride=1', 'activation=linear',
    '[yolo]', 'mask=0,1,2', 'anchors=10,14, 23,27, 37,58', 'classes=2', 'num=3',
  ].join('\n');
}

/**
 * A cfg inside every per-option bound whose activations (three 4096x4096x14 float maps alive
 * at once, 0.94 GiB each) need more than the 2 GiB of a kernel module's memory.
 */
export function tooLargeCfg(): string {
  return [
    '[net]', 'width=4096', 'height=4096', 'channels=3',
    '[convolutional]', 'filters=14', 'size=1', 'stride=1', 'activation=linear',
    '[convolutional]', 'filters=14', 'size=1', 'stride=1', 'activation=leaky',
    '[shortcut]', 'from=-2', 'activation=linear',
    '[maxpool]', 'size=32', 'stride=32',
    '[convolutional]', 'filters=18', 'size=1', 'stride=1', 'activation=linear',
    '[yolo]', 'mask=0,1,2', 'anchors=10,14, 23,27, 37,58', 'classes=1', 'num=3',
  ].join('\n');
}
