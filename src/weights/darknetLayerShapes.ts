/**
 * Output shape of every layer of a parsed Darknet cfg, computed the way Darknet's
 * `parse_network_cfg` does (without tensors). The weights reader needs the input channels of
 * every convolution; the model builder uses the same walk to validate routes and shortcuts.
 */
import { DarknetCfg, DarknetLayerSection, describeLayer } from './parseDarknetCfg';

/** Output shape `[height, width, channels]` of one layer (NHWC without batch). */
export interface DarknetLayerShape {
  /** NaN when the input size is unknown (cfg without width/height and no override). */
  h: number;
  w: number;
  c: number;
}

/** Per-layer shapes plus the input shape. */
export interface DarknetShapes {
  input: DarknetLayerShape;
  layers: DarknetLayerShape[];
}

function known(n: number): boolean {
  return !Number.isNaN(n);
}

function sameHW(a: DarknetLayerShape, b: DarknetLayerShape): boolean {
  return !known(a.h) || !known(b.h) || (a.h === b.h && a.w === b.w);
}

function fmt(s: DarknetLayerShape): string {
  return known(s.h) ? `${s.h}x${s.w}x${s.c}` : `?x?x${s.c}`;
}

/**
 * Walk the cfg and compute every layer's output shape. `inputSize` `[height, width]` overrides
 * the `[net]` size. Throws on inconsistent cfgs (a conv whose groups do not divide its input
 * channels, a route over maps of different sizes, a shortcut over different shapes, a
 * `[yolo]` whose input has the wrong channel count, a map shrinking to nothing).
 */
export function darknetLayerShapes(cfg: DarknetCfg, inputSize?: [number, number]): DarknetShapes {
  const h0 = inputSize ? inputSize[0] : cfg.net.height || NaN;
  const w0 = inputSize ? inputSize[1] : cfg.net.width || NaN;
  const input: DarknetLayerShape = { h: h0, w: w0, c: cfg.net.channels };
  const out: DarknetLayerShape[] = [];
  const prevOf = (i: number): DarknetLayerShape => (i === 0 ? input : out[i - 1]);
  for (const l of cfg.layers) {
    const prev = prevOf(l.index);
    const s = layerShape(l, prev, out);
    const bytes = s.h * s.w * s.c * 4;
    if (bytes > MAX_LAYER_ACTIVATION_BYTES) {
      throw new Error(
        `Darknet cfg: ${describeLayer(l)} outputs ${fmt(s)} = ${(bytes / 2 ** 30).toFixed(1)} GiB of float32 per image, over ` +
          `yolo-tfjs's bound of ${MAX_LAYER_ACTIVATION_BYTES / 2 ** 30} GiB for one activation (a smaller input size?)`,
      );
    }
    out.push(s);
  }
  return { input, layers: out };
}

/**
 * Largest output of one layer (batch 1) a cfg may have: 1 GiB of float32. WebAssembly memory
 * holds at most 2-4 GiB, and a layer's input and output are live at the same time.
 */
export const MAX_LAYER_ACTIVATION_BYTES = 2 ** 30;

function layerShape(l: DarknetLayerSection, prev: DarknetLayerShape, out: DarknetLayerShape[]): DarknetLayerShape {
  const where = describeLayer(l);
  const refOk = (i: number): DarknetLayerShape => {
    const ref = out[i];
    if (!ref) throw new Error(`Darknet cfg: ${where} refers to layer ${i}, which does not exist before it`);
    return ref;
  };
  switch (l.type) {
    case 'convolutional': {
      if (prev.c % l.groups !== 0 || l.filters % l.groups !== 0) {
        throw new Error(
          `Darknet cfg: ${where}: groups=${l.groups} must divide both the input channels (${prev.c}) and filters (${l.filters})`,
        );
      }
      const o = (n: number) => Math.floor((n + 2 * l.padding - l.size) / l.stride) + 1;
      const s = { h: o(prev.h), w: o(prev.w), c: l.filters };
      if (known(s.h) && (s.h < 1 || s.w < 1)) {
        throw new Error(`Darknet cfg: ${where}: input ${fmt(prev)} is too small for size ${l.size} stride ${l.stride}`);
      }
      return s;
    }
    case 'maxpool': {
      const o = (n: number) => Math.floor((n + l.padding - l.size) / l.stride) + 1;
      const s = { h: o(prev.h), w: o(prev.w), c: prev.c };
      if (known(s.h) && (s.h < 1 || s.w < 1)) {
        throw new Error(`Darknet cfg: ${where}: input ${fmt(prev)} is too small for size ${l.size} stride ${l.stride}`);
      }
      return s;
    }
    case 'route': {
      const refs = l.layers.map(refOk);
      let c = 0;
      for (let k = 0; k < refs.length; k++) {
        if (!sameHW(refs[0], refs[k])) {
          throw new Error(
            `Darknet cfg: ${where}: routed layers ${l.layers[0]} (${fmt(refs[0])}) and ${l.layers[k]} (${fmt(refs[k])}) ` +
              'have different sizes',
          );
        }
        if (refs[k].c % l.groups !== 0) {
          throw new Error(
            `Darknet cfg: ${where}: layer ${l.layers[k]} has ${refs[k].c} channels, not divisible by groups=${l.groups}`,
          );
        }
        c += refs[k].c / l.groups;
      }
      return { h: refs[0].h, w: refs[0].w, c };
    }
    case 'shortcut': {
      for (const f of l.from) {
        const ref = refOk(f);
        if (!sameHW(ref, prev) || ref.c !== prev.c) {
          throw new Error(
            `Darknet cfg: ${where}: shortcut from layer ${f} (${fmt(ref)}) does not match the previous layer (${fmt(prev)})`,
          );
        }
      }
      return { ...prev };
    }
    case 'upsample':
      return { h: prev.h * l.stride, w: prev.w * l.stride, c: prev.c };
    case 'dropout':
      return { ...prev };
    case 'yolo': {
      const need = l.mask.length * (5 + l.classes);
      if (prev.c !== need) {
        throw new Error(
          `Darknet cfg: ${where}: the layer before has ${prev.c} channels but mask (${l.mask.length} anchors) and ` +
            `classes=${l.classes} need ${l.mask.length}*(5+${l.classes}) = ${need} filters`,
        );
      }
      return { ...prev };
    }
  }
}
