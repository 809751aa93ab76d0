/**
 * Parser for Darknet `.cfg` network descriptions (AlexeyAB/darknet dialect).
 *
 * The text is read the way Darknet's `read_cfg` reads it: one `key=value` per line, all
 * whitespace removed, lines starting with `#` or `;` ignored, sections opened by `[name]`.
 * Deviations, all on the safe side: a trailing `#`/`;` comment after a value is dropped;
 * numbers must be well formed (Darknet's `atoi` would silently read `1.5` as 1); and every key
 * must be one this parser knows. Darknet ignores keys it does not know, but a misspelt key
 * (`activaton=leaky`) silently changes the network there, so here it is an error.
 *
 * Options that change the inference math in ways the tfjs builder does not implement
 * (`dilation` != 1, `stride_x` != `stride_y`, `reverse=1`, `[sam]`, `[scale_channels]`, ...)
 * are rejected with an error naming the section, its line, the option and the option's line.
 * Training-only options (learning rates, augmentation, loss weights, ...) are accepted and
 * ignored. A repeated key keeps its FIRST value, as Darknet's `option_find` does.
 */

import { DarknetActivation, DARKNET_ACTIVATIONS } from '../layers/darknetActivation';
import { MAX_CLASSES, MAX_INPUT_SIDE } from '../spec';

/**
 * Upper bounds on every cfg number that sizes memory or time, checked while parsing: a hostile
 * or mistyped cfg (`padding=10000`, `maxpool size=1000000`, `classes=1000000000`) fails here
 * with an error naming the option, instead of allocating gigabytes or trapping in wasm later.
 * Each bound is far above what published Darknet networks use (in parentheses).
 */
export const DARKNET_CFG_LIMITS = {
  /** `[net]` width and height (1536, YOLOv4-P7). */
  inputSide: MAX_INPUT_SIDE,
  /** `[net]` channels (3). */
  channels: 64,
  /** Kernel size of `[convolutional]` and `[maxpool]` (maxpool 13 in SPP blocks; the cost of a
   * window grows with its area). */
  kernel: 32,
  /** Explicit `padding` of `[convolutional]` and `[maxpool]` (12 in SPP blocks). */
  padding: 64,
  /** `stride` of `[convolutional]` and `[maxpool]` (2). */
  stride: 64,
  /** `filters` and `groups` of a `[convolutional]` (2048). */
  filters: 16384,
  /** `[upsample]` stride (4). */
  upsample: 32,
  /** `[yolo]` classes (601, Open Images). */
  classes: MAX_CLASSES,
  /** `[yolo]` num, the anchor count (9; 12 in YOLOv4-P6). */
  anchors: 64,
  /** `[route]` groups (2). */
  routeGroups: 1024,
} as const;

/** Darknet activations the builder supports (the one list of `src/layers/darknetActivation.ts`). */
export type DarknetCfgActivation = DarknetActivation;


/** One `key=value` line as written (value without whitespace). */
export interface DarknetCfgOption {
  value: string;
  /** 1-based line number in the cfg text. */
  line: number;
}

interface SectionBase {
  /** 1-based line number of the `[section]` header. */
  line: number;
  /** Every option of the section (first occurrence of each key), for diagnostics. */
  options: Record<string, DarknetCfgOption>;
}

/** `[net]` / `[network]`: the input description. */
export interface DarknetNetSection extends SectionBase {
  type: 'net';
  /** Input width (0 when the cfg does not set it; the builder then needs an explicit size). */
  width: number;
  /** Input height (0 when absent). */
  height: number;
  channels: number;
  /** `letter_box=1`: Darknet letterboxes the image at test time (0.5 padding, centred). */
  letterBox: boolean;
}

/** `[convolutional]` / `[conv]`. */
export interface DarknetConvSection extends SectionBase {
  type: 'convolutional';
  /** Darknet layer index (0-based, `[net]` excluded). */
  index: number;
  filters: number;
  size: number;
  stride: number;
  /** Zero padding on EVERY side: size/2 when `pad=1`, else `padding` (default 0). */
  padding: number;
  groups: number;
  batchNormalize: boolean;
  /** Darknet's default when absent is `logistic`. */
  activation: DarknetCfgActivation;
}

/** `[maxpool]` / `[max]`. */
export interface DarknetMaxPoolSection extends SectionBase {
  type: 'maxpool';
  index: number;
  size: number;
  stride: number;
  /** TOTAL padding per axis (default size-1); floor(padding/2) goes before. */
  padding: number;
}

/** `[route]`: concatenation of earlier layers, optionally one channel group of each. */
export interface DarknetRouteSection extends SectionBase {
  type: 'route';
  index: number;
  /** Absolute layer indices (negative entries already resolved against `index`). */
  layers: number[];
  groups: number;
  groupId: number;
}

/** `[shortcut]`: previous layer + the `from` layers, then `activation`. */
export interface DarknetShortcutSection extends SectionBase {
  type: 'shortcut';
  index: number;
  /** Absolute layer indices. */
  from: number[];
  activation: DarknetCfgActivation;
}

/** `[upsample]`: nearest-neighbour upsampling by `stride`. */
export interface DarknetUpsampleSection extends SectionBase {
  type: 'upsample';
  index: number;
  stride: number;
}

/** `[dropout]`: identity at inference. */
export interface DarknetDropoutSection extends SectionBase {
  type: 'dropout';
  index: number;
  probability: number;
}

/** Darknet NMS kinds (`nms_kind`). */
export type DarknetNmsKind = 'default' | 'greedynms' | 'diounms';

/** `[yolo]`: a detection head on the previous layer's output. */
export interface DarknetYoloSection extends SectionBase {
  type: 'yolo';
  index: number;
  /** Anchor indices this head uses (default 0..num-1). */
  mask: number[];
  /** All `num` anchors `[w, h]` in network pixels. */
  anchors: [number, number][];
  classes: number;
  num: number;
  scaleXY: number;
  newCoords: boolean;
  nmsKind: DarknetNmsKind;
  betaNms: number;
}

/** Any layer section (everything after `[net]`). */
export type DarknetLayerSection =
  | DarknetConvSection
  | DarknetMaxPoolSection
  | DarknetRouteSection
  | DarknetShortcutSection
  | DarknetUpsampleSection
  | DarknetDropoutSection
  | DarknetYoloSection;

/** Layer section type names. */
export type DarknetLayerType = DarknetLayerSection['type'];

/** A parsed cfg: the `[net]` section and the layers in file order (index = Darknet layer index). */
export interface DarknetCfg {
  net: DarknetNetSection;
  layers: DarknetLayerSection[];
}

/** Section header aliases Darknet accepts. */
const SECTION_ALIASES: Record<string, 'net' | DarknetLayerType> = {
  net: 'net',
  network: 'net',
  convolutional: 'convolutional',
  conv: 'convolutional',
  maxpool: 'maxpool',
  max: 'maxpool',
  route: 'route',
  shortcut: 'shortcut',
  upsample: 'upsample',
  dropout: 'dropout',
  yolo: 'yolo',
};

/** Sections Darknet knows but this loader does not implement, with a short reason. */
const UNSUPPORTED_SECTIONS: Record<string, string> = {
  sam: 'spatial attention (SAM) layer',
  scale_channels: 'channel scaling (squeeze-excitation) layer',
  implicit: 'implicit knowledge layer',
  Gaussian_yolo: 'Gaussian YOLO head',
  region: 'YOLOv2 region head',
  detection: 'YOLOv1 detection head',
  reorg: 'reorg layer',
  reorg3d: 'reorg layer',
  avgpool: 'average pooling layer',
  avg: 'average pooling layer',
  local_avgpool: 'local average pooling layer',
  local_avg: 'local average pooling layer',
  connected: 'fully connected layer',
  conn: 'fully connected layer',
  softmax: 'softmax layer',
  soft: 'softmax layer',
  batchnorm: 'standalone batchnorm layer',
  activation: 'standalone activation layer',
  crop: 'crop layer',
  cost: 'cost layer',
  local: 'locally connected layer',
  normalization: 'local response normalization layer',
  lrn: 'local response normalization layer',
  crnn: 'recurrent layer',
  rnn: 'recurrent layer',
  gru: 'recurrent layer',
  lstm: 'recurrent layer',
  conv_lstm: 'recurrent layer',
  history: 'history layer',
  contrastive: 'contrastive layer',
  empty: 'empty layer',
  silence: 'empty layer',
};

/** Per-layer options every layer section may carry (training / scheduling only). */
const COMMON_HARMLESS = [
  'clip', 'onlyforward', 'dont_update', 'burnin_update', 'stopbackward', 'train_only_bn',
  'learning_rate', 'stream', 'wait_stream',
];

/** Options that are read, or accepted because they do not affect inference, per section. */
const KNOWN_KEYS: Record<'net' | DarknetLayerType, string[]> = {
  net: [
    'width', 'height', 'channels', 'letter_box', 'inputs',
    'max_batches', 'batch', 'learning_rate', 'learning_rate_min', 'sgdr_cycle', 'sgdr_mult', 'momentum',
    'decay', 'subdivisions', 'time_steps', 'track', 'augment_speed', 'sequential_subdivisions', 'try_fix_nan',
    'weights_reject_freq', 'equidistant_point', 'badlabels_rejection_percentage', 'num_sigmas_reject_badlabels',
    'ema_alpha', 'use_cuda_graph', 'loss_scale', 'dynamic_minibatch', 'optimized_memory', 'adam', 'B1', 'B2',
    'eps', 'max_crop', 'min_crop', 'flip', 'blur', 'gaussian_noise', 'mixup', 'cutmix', 'mosaic',
    'mosaic_bound', 'contrastive', 'contrastive_jit_flip', 'contrastive_color', 'unsupervised',
    'label_smooth_eps', 'resize_step', 'attention', 'adversarial_lr', 'max_chart_loss', 'angle', 'aspect',
    'saturation', 'exposure', 'hue', 'power', 'policy', 'burn_in', 'step', 'scale', 'steps', 'scales',
    'seq_scales', 'gamma', 'workspace_size_limit_MB', 'center',
  ],
  convolutional: [
    'filters', 'size', 'stride', 'pad', 'padding', 'groups', 'batch_normalize', 'activation',
    'stride_x', 'stride_y', 'dilation', 'antialiasing', 'share_index', 'cbn', 'binary', 'xnor', 'bin_output',
    'sway', 'rotate', 'stretch', 'stretch_sway', 'flipped', 'dot', 'reverse', 'coordconv',
    'assisted_excitation', 'angle', 'grad_centr', 'dontload', 'dontloadscales',
  ],
  maxpool: [
    'size', 'stride', 'padding', 'stride_x', 'stride_y', 'maxpool_depth', 'out_channels', 'antialiasing',
    'maxpool_zero_nonmax',
  ],
  route: ['layers', 'groups', 'group_id'],
  shortcut: ['from', 'activation', 'weights_type', 'weights_normalization'],
  upsample: ['stride', 'scale'],
  dropout: ['probability', 'dropblock', 'dropblock_size_rel', 'dropblock_size_abs'],
  yolo: [
    'mask', 'anchors', 'classes', 'num', 'scale_x_y', 'new_coords', 'nms_kind', 'beta_nms',
    'max', 'show_details', 'max_delta', 'counters_per_class', 'label_smooth_eps', 'objectness_smooth',
    'iou_normalizer', 'obj_normalizer', 'cls_normalizer', 'delta_normalizer', 'iou_loss', 'iou_thresh_kind',
    'jitter', 'resize', 'focal_loss', 'ignore_thresh', 'truth_thresh', 'iou_thresh', 'random',
    'track_history_size', 'sim_thresh', 'dets_for_track', 'dets_for_show', 'track_ciou_norm',
    'embedding_layer', 'map',
  ],
};

interface RawSection {
  name: string;
  line: number;
  options: Record<string, DarknetCfgOption>;
}

/** Error with the standard "cfg line N" prefix. */
function cfgError(msg: string): Error {
  return new Error(`Darknet cfg: ${msg}`);
}

/** Accessors for one section's options with typed parsing and precise errors. */
class OptionReader {
  constructor(
    private readonly sec: RawSection,
    private readonly label: string,
  ) {}

  where(key: string): string {
    const o = this.sec.options[key];
    return `option '${key}' of ${this.label} (line ${o ? o.line : this.sec.line})`;
  }

  has(key: string): boolean {
    return key in this.sec.options;
  }

  str(key: string): string | undefined {
    return this.sec.options[key]?.value;
  }

  int(key: string, def: number): number {
    const v = this.str(key);
    if (v === undefined) return def;
    if (!/^[+-]?\d+$/.test(v)) throw cfgError(`${this.where(key)}: expected an integer, got '${v}'`);
    return parseInt(v, 10);
  }

  float(key: string, def: number): number {
    const v = this.str(key);
    if (v === undefined) return def;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) {
      throw cfgError(`${this.where(key)}: expected a number, got '${v}'`);
    }
    return Number(v);
  }

  intList(key: string): number[] | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    const parts = v.split(',').filter((p) => p !== '');
    if (parts.length === 0) throw cfgError(`${this.where(key)}: empty list`);
    return parts.map((p) => {
      if (!/^[+-]?\d+$/.test(p)) throw cfgError(`${this.where(key)}: expected integers, got '${p}' in '${v}'`);
      return parseInt(p, 10);
    });
  }

  floatList(key: string): number[] | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    const parts = v.split(',').filter((p) => p !== '');
    return parts.map((p) => {
      const n = Number(p);
      if (p === '' || !Number.isFinite(n)) throw cfgError(`${this.where(key)}: expected numbers, got '${p}' in '${v}'`);
      return n;
    });
  }

  /** Option must be at `allowed` (numerically) when present; it would change the math otherwise. */
  requireDefault(key: string, allowed: number, why: string): void {
    if (!this.has(key)) return;
    const v = this.float(key, allowed);
    if (v !== allowed) {
      throw cfgError(`${this.where(key)}: '${key}=${this.str(key)}' is not supported (${why}); only ${allowed} is`);
    }
  }

  positiveInt(key: string, def: number, max?: number): number {
    const v = this.int(key, def);
    if (v < 1) throw cfgError(`${this.where(key)}: must be >= 1, got ${v}`);
    if (max !== undefined) this.atMost(key, v, max);
    return v;
  }

  /** Throws unless `v` (the value of `key`) is at most `max`, one of {@link DARKNET_CFG_LIMITS}. */
  atMost(key: string, v: number, max: number): number {
    if (v > max) throw cfgError(`${this.where(key)}: ${key}=${v} is over yolo-tfjs's bound of ${max} (no published network comes near it)`);
    return v;
  }

  activation(key: string, def: DarknetCfgActivation): DarknetCfgActivation {
    const v = this.str(key) ?? def;
    if (!(DARKNET_ACTIVATIONS as readonly string[]).includes(v)) {
      throw cfgError(`${this.where(key)}: activation '${v}' is not supported (supported: ${DARKNET_ACTIVATIONS.join(', ')})`);
    }
    return v as DarknetCfgActivation;
  }
}

/** Split the text into raw sections, Darknet style. */
function readSections(text: string): RawSection[] {
  const sections: RawSection[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const s = lines[i].replace(/\s+/g, '');
    if (s === '' || s[0] === '#' || s[0] === ';') continue;
    if (s[0] === '[') {
      const m = /^\[([^\]]+)\]$/.exec(s);
      if (!m) throw cfgError(`line ${lineNo}: malformed section header '${lines[i].trim()}'`);
      sections.push({ name: m[1], line: lineNo, options: {} });
      continue;
    }
    const eq = s.indexOf('=');
    if (eq <= 0) throw cfgError(`line ${lineNo}: expected 'key=value' or '[section]', got '${lines[i].trim()}'`);
    if (sections.length === 0) throw cfgError(`line ${lineNo}: option '${s.slice(0, eq)}' appears before any [section]`);
    const key = s.slice(0, eq);
    let value = s.slice(eq + 1);
    const c = value.search(/[#;]/);
    if (c >= 0) value = value.slice(0, c);
    if (value === '') throw cfgError(`line ${lineNo}: option '${key}' has no value`);
    const sec = sections[sections.length - 1];
    // Darknet's option_find returns the first occurrence of a key.
    if (!(key in sec.options)) sec.options[key] = { value, line: lineNo };
  }
  return sections;
}

function checkKnownKeys(sec: RawSection, type: 'net' | DarknetLayerType, label: string): void {
  const known = new Set(KNOWN_KEYS[type]);
  const isLayer = type !== 'net';
  for (const [key, opt] of Object.entries(sec.options)) {
    if (known.has(key) || (isLayer && COMMON_HARMLESS.includes(key))) continue;
    throw cfgError(
      `${label}: unknown option '${key}' at line ${opt.line} (not a ${type} option this loader knows; ` +
        `it may change the network)`,
    );
  }
}

function parseNet(sec: RawSection, r: OptionReader): DarknetNetSection {
  return {
    type: 'net',
    line: sec.line,
    options: sec.options,
    width: r.has('width') ? r.positiveInt('width', 0, DARKNET_CFG_LIMITS.inputSide) : 0,
    height: r.has('height') ? r.positiveInt('height', 0, DARKNET_CFG_LIMITS.inputSide) : 0,
    channels: r.positiveInt('channels', 3, DARKNET_CFG_LIMITS.channels),
    letterBox: r.int('letter_box', 0) !== 0,
  };
}

function parseConv(sec: RawSection, r: OptionReader, index: number): DarknetConvSection {
  const size = r.positiveInt('size', 1, DARKNET_CFG_LIMITS.kernel);
  let stride = r.int('stride', 1);
  const sx = r.int('stride_x', -1);
  const sy = r.int('stride_y', -1);
  if (sx >= 1 && sy >= 1) {
    if (sx !== sy) {
      throw cfgError(`${r.where('stride_x')}: stride_x=${sx} != stride_y=${sy} (non-square strides) is not supported`);
    }
    stride = sx;
  } else if (sx >= 1 || sy >= 1) {
    const key = sx >= 1 ? 'stride_x' : 'stride_y';
    if ((sx >= 1 ? sx : sy) !== stride) {
      throw cfgError(`${r.where(key)}: ${key}=${sx >= 1 ? sx : sy} differs from stride=${stride}; not supported`);
    }
  }
  if (stride < 1) throw cfgError(`${r.where('stride')}: must be >= 1, got ${stride}`);
  r.atMost(r.has('stride_x') ? 'stride_x' : r.has('stride_y') ? 'stride_y' : 'stride', stride, DARKNET_CFG_LIMITS.stride);
  if (size !== 1) r.requireDefault('dilation', 1, 'dilated convolution');
  r.requireDefault('antialiasing', 0, 'anti-aliased (blurred) stride');
  if (r.has('share_index')) throw cfgError(`${r.where('share_index')}: weight sharing between layers is not supported`);
  r.requireDefault('cbn', 0, 'cross-iteration batch norm');
  r.requireDefault('binary', 0, 'binary weights');
  r.requireDefault('xnor', 0, 'XNOR convolution');
  r.requireDefault('bin_output', 0, 'binary output');
  for (const k of ['sway', 'rotate', 'stretch', 'stretch_sway']) r.requireDefault(k, 0, 'deformable kernels');
  r.requireDefault('flipped', 0, 'transposed weights');
  r.requireDefault('dot', 0, 'contrastive dot layer');
  r.requireDefault('reverse', 0, 'reversed convolution');
  r.requireDefault('coordconv', 0, 'coordinate channels');
  r.requireDefault('dontload', 0, 'layer weights not stored in the file');
  r.requireDefault('dontloadscales', 0, 'batch-norm scales not stored in the file');
  const pad = r.int('pad', 0);
  const padding = pad ? Math.floor(size / 2) : r.int('padding', 0);
  if (padding < 0) throw cfgError(`${r.where('padding')}: must be >= 0, got ${padding}`);
  r.atMost('padding', padding, DARKNET_CFG_LIMITS.padding);
  return {
    type: 'convolutional',
    line: sec.line,
    options: sec.options,
    index,
    filters: r.positiveInt('filters', 1, DARKNET_CFG_LIMITS.filters),
    size,
    stride,
    padding,
    groups: r.positiveInt('groups', 1, DARKNET_CFG_LIMITS.filters),
    batchNormalize: r.int('batch_normalize', 0) !== 0,
    activation: r.activation('activation', 'logistic'),
  };
}

function parseMaxPool(sec: RawSection, r: OptionReader, index: number): DarknetMaxPoolSection {
  const stride = r.positiveInt('stride', 1, DARKNET_CFG_LIMITS.stride);
  for (const k of ['stride_x', 'stride_y']) {
    if (r.has(k) && r.int(k, stride) !== stride) {
      throw cfgError(`${r.where(k)}: ${k}=${r.str(k)} differs from stride=${stride}; non-square strides are not supported`);
    }
  }
  r.requireDefault('maxpool_depth', 0, 'max over channels');
  r.requireDefault('out_channels', 1, 'max over channels');
  r.requireDefault('antialiasing', 0, 'anti-aliased (blurred) stride');
  r.requireDefault('maxpool_zero_nonmax', 0, 'zeroing non-maximum inputs');
  const size = r.positiveInt('size', stride, DARKNET_CFG_LIMITS.kernel);
  const padding = r.int('padding', size - 1);
  if (padding < 0) throw cfgError(`${r.where('padding')}: must be >= 0, got ${padding}`);
  r.atMost('padding', padding, DARKNET_CFG_LIMITS.padding);
  return { type: 'maxpool', line: sec.line, options: sec.options, index, size, stride, padding };
}

function resolveIndices(r: OptionReader, key: string, list: number[], index: number): number[] {
  return list.map((v) => {
    const abs = v < 0 ? index + v : v;
    if (abs < 0 || abs >= index) {
      throw cfgError(`${r.where(key)}: layer ${v} resolves to ${abs}, which is not an earlier layer (this is layer ${index})`);
    }
    return abs;
  });
}

function parseRoute(sec: RawSection, r: OptionReader, index: number): DarknetRouteSection {
  const raw = r.intList('layers');
  if (!raw) throw cfgError(`[route] at line ${sec.line} (layer ${index}): missing 'layers'`);
  const groups = r.positiveInt('groups', 1, DARKNET_CFG_LIMITS.routeGroups);
  const groupId = r.int('group_id', 0);
  if (groupId < 0 || groupId >= groups) {
    throw cfgError(`${r.where('group_id')}: group_id=${groupId} must be in [0, ${groups})`);
  }
  return {
    type: 'route',
    line: sec.line,
    options: sec.options,
    index,
    layers: resolveIndices(r, 'layers', raw, index),
    groups,
    groupId,
  };
}

function parseShortcut(sec: RawSection, r: OptionReader, index: number): DarknetShortcutSection {
  const raw = r.intList('from');
  if (!raw) throw cfgError(`[shortcut] at line ${sec.line} (layer ${index}): missing 'from'`);
  const wt = r.str('weights_type') ?? 'none';
  if (wt !== 'none') throw cfgError(`${r.where('weights_type')}: weighted shortcuts ('${wt}') are not supported`);
  const wn = r.str('weights_normalization') ?? 'none';
  if (wn !== 'none') throw cfgError(`${r.where('weights_normalization')}: '${wn}' is not supported`);
  if (index < 1) throw cfgError(`[shortcut] at line ${sec.line} cannot be the first layer`);
  return {
    type: 'shortcut',
    line: sec.line,
    options: sec.options,
    index,
    from: resolveIndices(r, 'from', raw, index),
    activation: r.activation('activation', 'linear'),
  };
}

function parseUpsample(sec: RawSection, r: OptionReader, index: number): DarknetUpsampleSection {
  const stride = r.int('stride', 2);
  if (stride < 1) {
    throw cfgError(`${r.where('stride')}: stride=${stride} (negative = downsampling, 'reverse') is not supported`);
  }
  r.atMost('stride', stride, DARKNET_CFG_LIMITS.upsample);
  r.requireDefault('scale', 1, 'scaled upsample output');
  return { type: 'upsample', line: sec.line, options: sec.options, index, stride };
}

function parseDropout(sec: RawSection, r: OptionReader, index: number): DarknetDropoutSection {
  return { type: 'dropout', line: sec.line, options: sec.options, index, probability: r.float('probability', 0.2) };
}

function parseYolo(sec: RawSection, r: OptionReader, index: number): DarknetYoloSection {
  const label = `[yolo] at line ${sec.line} (layer ${index})`;
  const classes = r.positiveInt('classes', 20, DARKNET_CFG_LIMITS.classes);
  const num = r.positiveInt('num', 1, DARKNET_CFG_LIMITS.anchors);
  const mask = r.intList('mask') ?? Array.from({ length: num }, (_, i) => i);
  if (mask.length > num) throw cfgError(`${r.where('mask')}: ${mask.length} entries for num=${num} anchors`);
  for (const m of mask) {
    if (m < 0 || m >= num) throw cfgError(`${r.where('mask')}: anchor index ${m} is outside 0..${num - 1} (num=${num})`);
  }
  const flat = r.floatList('anchors');
  if (!flat) throw cfgError(`${label}: missing 'anchors'`);
  if (flat.length < 2 * num) {
    throw cfgError(`${r.where('anchors')}: ${flat.length} values for num=${num} anchors (need ${2 * num})`);
  }
  const anchors: [number, number][] = [];
  for (let i = 0; i < num; i++) anchors.push([flat[2 * i], flat[2 * i + 1]]);
  const nms = r.str('nms_kind') ?? 'default';
  if (nms !== 'default' && nms !== 'greedynms' && nms !== 'diounms') {
    throw cfgError(`${r.where('nms_kind')}: unknown nms_kind '${nms}' (default, greedynms, diounms)`);
  }
  if (r.has('map')) throw cfgError(`${r.where('map')}: class re-mapping files are not supported`);
  const newCoords = r.int('new_coords', 0);
  if (newCoords !== 0 && newCoords !== 1) throw cfgError(`${r.where('new_coords')}: must be 0 or 1, got ${newCoords}`);
  return {
    type: 'yolo',
    line: sec.line,
    options: sec.options,
    index,
    mask,
    anchors,
    classes,
    num,
    scaleXY: r.float('scale_x_y', 1),
    newCoords: newCoords === 1,
    nmsKind: nms,
    betaNms: r.float('beta_nms', 0.6),
  };
}

/**
 * Parse a Darknet `.cfg` text. Throws an Error naming the section, line and option for
 * anything malformed, unknown, or unsupported (see the module comment).
 */
export function parseDarknetCfg(text: string): DarknetCfg {
  if (typeof text !== 'string') throw cfgError(`expected the cfg text as a string, got ${typeof text}`);
  const raw = readSections(text);
  if (raw.length === 0) throw cfgError('no sections found (empty cfg?)');
  let net: DarknetNetSection | undefined;
  const layers: DarknetLayerSection[] = [];
  for (const sec of raw) {
    const type = SECTION_ALIASES[sec.name];
    if (type === undefined) {
      const why = UNSUPPORTED_SECTIONS[sec.name];
      throw cfgError(
        why
          ? `section [${sec.name}] at line ${sec.line} (${why}) is not supported`
          : `unknown section [${sec.name}] at line ${sec.line}`,
      );
    }
    const index = layers.length;
    const label = type === 'net' ? `[${sec.name}] at line ${sec.line}` : `[${sec.name}] at line ${sec.line} (layer ${index})`;
    if (type === 'net') {
      if (net || layers.length > 0) {
        throw cfgError(`${label}: [net] must be the first section and appear once`);
      }
    } else if (!net) {
      throw cfgError(`${label}: the first section must be [net] or [network]`);
    }
    checkKnownKeys(sec, type, label);
    const r = new OptionReader(sec, label);
    switch (type) {
      case 'net':
        net = parseNet(sec, r);
        break;
      case 'convolutional':
        layers.push(parseConv(sec, r, index));
        break;
      case 'maxpool':
        layers.push(parseMaxPool(sec, r, index));
        break;
      case 'route':
        layers.push(parseRoute(sec, r, index));
        break;
      case 'shortcut':
        layers.push(parseShortcut(sec, r, index));
        break;
      case 'upsample':
        layers.push(parseUpsample(sec, r, index));
        break;
      case 'dropout':
        layers.push(parseDropout(sec, r, index));
        break;
      case 'yolo':
        layers.push(parseYolo(sec, r, index));
        break;
    }
  }
  if (!net) throw cfgError('missing [net] section');
  if (layers.length === 0) throw cfgError('the cfg has no layers after [net]');
  return { net, layers };
}

/** "[convolutional] at line 40 (layer 3)": how errors refer to a layer. */
export function describeLayer(l: DarknetLayerSection): string {
  return `layer ${l.index} [${l.type}] (cfg line ${l.line})`;
}
