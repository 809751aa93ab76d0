/**
 * Options shared by the hand-written Darknet models (tiny YOLOv3, YOLOv4-tiny) and their
 * validation.
 */
import { DarknetHeadSpec, InputSpec, MAX_INPUT_SIDE, defaultClassNames } from '../../spec';

/** Options of `tinyYoloV3()` / `yoloV4Tiny()`. */
export interface DarknetModelOptions {
  /** Default 80 (COCO). */
  numClasses?: number;
  /** Square size or `[height, width]`, multiples of 32. Default 416. */
  inputSize?: number | [number, number];
  /** Anchors in network pixels, `[w, h]` pairs or Darknet's flat list `w0,h0, w1,h1, ...`. */
  anchors?: [number, number][] | number[];
  /** Class names (length must equal numClasses). Default: COCO for 80, else class0.. */
  classNames?: string[];
}

/** Validated options. */
export interface ResolvedDarknetModelOptions {
  numClasses: number;
  inputSize: [number, number];
  anchors: [number, number][];
  classNames: string[];
}

/** Validate options, filling defaults; errors name the builder and the bad option. */
export function resolveDarknetOptions(
  builder: string,
  opts: DarknetModelOptions,
  defaultAnchors: [number, number][],
): ResolvedDarknetModelOptions {
  const numClasses = opts.numClasses ?? (opts.classNames ? opts.classNames.length : 80);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`${builder}: numClasses must be a positive integer, got ${numClasses}`);
  }
  const size = opts.inputSize ?? 416;
  const inputSize: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  for (const s of inputSize) {
    if (!Number.isInteger(s) || s < 32 || s % 32 !== 0) {
      throw new Error(`${builder}: inputSize must be a positive multiple of 32, got ${JSON.stringify(size)}`);
    }
    if (s > MAX_INPUT_SIDE) {
      throw new Error(`${builder}: inputSize ${JSON.stringify(size)} is over the bound of ${MAX_INPUT_SIDE} pixels`);
    }
  }
  const anchors = normaliseAnchors(builder, opts.anchors ?? defaultAnchors);
  const classNames = opts.classNames ?? defaultClassNames(numClasses);
  if (classNames.length !== numClasses) {
    throw new Error(`${builder}: classNames has ${classNames.length} names but numClasses is ${numClasses}`);
  }
  return { numClasses, inputSize, anchors, classNames: classNames.slice() };
}

function normaliseAnchors(builder: string, a: [number, number][] | number[]): [number, number][] {
  let pairs: [number, number][];
  if (a.length > 0 && typeof a[0] === 'number') {
    const flat = a as number[];
    if (flat.length % 2 !== 0) throw new Error(`${builder}: flat anchors need an even count (w,h pairs), got ${flat.length}`);
    pairs = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  } else {
    pairs = (a as [number, number][]).map((p) => {
      if (!Array.isArray(p) || p.length !== 2) throw new Error(`${builder}: each anchor must be [w, h], got ${JSON.stringify(p)}`);
      return [p[0], p[1]];
    });
  }
  if (pairs.length === 0) throw new Error(`${builder}: anchors must not be empty`);
  for (const [w, h] of pairs) {
    if (!(w > 0 && h > 0 && Number.isFinite(w) && Number.isFinite(h))) {
      throw new Error(`${builder}: anchors must be positive finite numbers, got [${w}, ${h}]`);
    }
  }
  return pairs;
}

/** A Darknet head spec (classic new_coords=0 unless `newCoords`). */
export function darknetHead(output: number, anchors: [number, number][], scaleXY: number, newCoords = false): DarknetHeadSpec {
  return { kind: 'darknet', output, anchors: anchors.map(([w, h]) => [w, h] as [number, number]), scaleXY, newCoords };
}

/**
 * Darknet's test-time input: the size, stretched (or Darknet's letterbox with 0.5 padding when
 * `[net] letter_box=1`), RGB, /255. In spec field order.
 */
export function darknetInput(size: [number, number], letterBox = false): InputSpec {
  return {
    size,
    resize: letterBox ? 'letterbox' : 'stretch',
    ...(letterBox ? { letterbox: { align: 'darknet' as const, padValue: 0.5 } } : {}),
    channelOrder: 'RGB',
    scale: 1 / 255,
  };
}
