/**
 * `loadDarknet(cfgText, weights)`: a Darknet cfg + `.weights` file straight into a `Detector`.
 */
import { Detector } from '../../detector';
import { parseDarknetCfg } from '../../weights/parseDarknetCfg';
import { readDarknetWeights } from '../../weights/readDarknetWeights';
import { buildDarknetModel, setDarknetWeights } from './darknetCfg';
import { darknetModelSpec } from './darknetSpec';
import { setDarknetSource } from './darknetSource';

/** Options of {@link loadDarknet}. */
export interface LoadDarknetOptions {
  /** Class names (length must equal the cfg's `classes`); default COCO for 80 classes. */
  classNames?: string[];
  /** Input size override (square or `[height, width]`); default the cfg's width/height. */
  inputSize?: number | [number, number];
  /** Model / spec name (default 'darknet'). */
  name?: string;
  /** Load weights holding NaN or +-Infinity (refused by default, naming the tensor). */
  allowNonFinite?: boolean;
}

/**
 * Build a Detector from a Darknet cfg text and its `.weights` bytes (Uint8Array, Node Buffer or
 * ArrayBuffer). Synchronous. Errors are thrown before any tensor is allocated when the cfg is
 * unsupported, the class names do not fit, or the weights file size does not match the cfg.
 * The caller owns the Detector (call `dispose()`).
 */
export function loadDarknet(cfgText: string, weights: Uint8Array | ArrayBuffer, opts: LoadDarknetOptions = {}): Detector {
  const cfg = parseDarknetCfg(cfgText);
  // The weights size check comes first: it bounds every layer (a cfg claiming a billion
  // classes fails it) before the spec allocates anything per class.
  const { tensors } = readDarknetWeights(weights, cfg, { allowNonFinite: opts.allowNonFinite });
  const spec = darknetModelSpec(cfg, opts);
  const model = buildDarknetModel(cfg, { inputSize: opts.inputSize, name: opts.name, kernelInitializer: 'zeros' });
  try {
    setDarknetWeights(model, cfg, tensors);
    const detector = new Detector(model, spec);
    setDarknetSource(detector, cfgText);
    return detector;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
