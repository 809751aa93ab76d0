/**
 * Declarative key table of zylo117's EfficientDet state dict (`EfficientDetBackbone`); the
 * loader is `fromStateDict.ts`.
 *
 * The table is a list of upstream MODULES with a kind; our tfjs layers carry the upstream module
 * path as their name, so each module expands to its parameter keys by a fixed rule:
 * - `conv`      Conv2dStaticSamePadding without bias: `<m>.conv.weight` -> `kernel` (OIHW -> HWIO)
 * - `convBias`  the same plus `<m>.conv.bias` -> `bias`
 * - `dw`        depthwise Conv2dStaticSamePadding: `<m>.conv.weight` [C,1,k,k] -> `depthwise_kernel`
 * - `sep`       SeparableConvBlock's convs: `<m>.depthwise_conv.conv.weight` -> `depthwise_kernel`,
 *               `<m>.pointwise_conv.conv.weight` -> `pointwise_kernel`, `<m>.pointwise_conv.conv.bias` -> `bias`
 * - `bn`        `<m>.weight/bias/running_mean/running_var` -> `gamma/beta/moving_mean/moving_variance`
 * - `fusion`    a BiFPN fusion parameter `<m>` (raw, pre-ReLU) -> `weight`
 * BN `num_batches_tracked` counters are skipped.
 */
import { KeyTableEntry } from '../../weights/assignStateDict';
import { torchModuleKeys } from '../../weights/torchModuleKeys';
import { efficientDetConfig } from './efficientDet';
import { efficientNetBlocks } from '../../layers/efficientNet';

/** Kind of an upstream module with parameters. */
export type EfficientDetModuleKind = 'conv' | 'convBias' | 'dw' | 'sep' | 'bn' | 'fusion';

const LEVELS = 5;

/** `[module path, kind]` for every parameterised module of EfficientDet-D{phi}, in state-dict order. */
export function efficientDetModules(phi: number): [string, EfficientDetModuleKind][] {
  const cfg = efficientDetConfig(phi);
  const m: [string, EfficientDetModuleKind][] = [];
  for (let i = 0; i < cfg.bifpnRepeats; i++) {
    const b = `bifpn.${i}`;
    for (const w of ['p6_w1', 'p5_w1', 'p4_w1', 'p3_w1', 'p4_w2', 'p5_w2', 'p6_w2', 'p7_w2']) m.push([`${b}.${w}`, 'fusion']);
    for (const c of ['conv6_up', 'conv5_up', 'conv4_up', 'conv3_up', 'conv4_down', 'conv5_down', 'conv6_down', 'conv7_down']) {
      m.push([`${b}.${c}`, 'sep'], [`${b}.${c}.bn`, 'bn']);
    }
    if (i === 0) {
      for (const d of ['p5_down_channel', 'p4_down_channel', 'p3_down_channel', 'p5_to_p6', 'p4_down_channel_2', 'p5_down_channel_2']) {
        m.push([`${b}.${d}.0`, 'convBias'], [`${b}.${d}.1`, 'bn']);
      }
    }
  }
  for (const head of ['regressor', 'classifier']) {
    for (let i = 0; i < cfg.headDepth; i++) m.push([`${head}.conv_list.${i}`, 'sep']);
    for (let l = 0; l < LEVELS; l++) for (let i = 0; i < cfg.headDepth; i++) m.push([`${head}.bn_list.${l}.${i}`, 'bn']);
    m.push([`${head}.header`, 'sep']);
  }
  const p = 'backbone_net.model';
  m.push([`${p}._conv_stem`, 'conv'], [`${p}._bn0`, 'bn']);
  efficientNetBlocks(cfg.backbone).forEach((blk, i) => {
    const b = `${p}._blocks.${i}`;
    if (blk.expandRatio !== 1) m.push([`${b}._expand_conv`, 'conv'], [`${b}._bn0`, 'bn']);
    m.push(
      [`${b}._depthwise_conv`, 'dw'], [`${b}._bn1`, 'bn'],
      [`${b}._se_reduce`, 'convBias'], [`${b}._se_expand`, 'convBias'],
      [`${b}._project_conv`, 'conv'], [`${b}._bn2`, 'bn'],
    );
  });
  return m;
}

/** Expands `[module, kind]` rows into key-table entries (layer name = module path). */
export function expandEfficientDetModules(modules: [string, EfficientDetModuleKind][]): KeyTableEntry[] {
  const out: KeyTableEntry[] = [];
  for (const [mod, kind] of modules) {
    switch (kind) {
      case 'sep':
        out.push({ key: `${mod}.depthwise_conv.conv.weight`, layer: mod, weight: 'depthwise_kernel', transform: 'depthwise' });
        out.push({ key: `${mod}.pointwise_conv.conv.weight`, layer: mod, weight: 'pointwise_kernel', transform: 'conv2d' });
        out.push({ key: `${mod}.pointwise_conv.conv.bias`, layer: mod, weight: 'bias', transform: 'identity' });
        break;
      case 'fusion':
        out.push({ key: mod, layer: mod, weight: 'weight', transform: 'identity' });
        break;
      default:
        // conv / convBias / dw sit in a Conv2dStaticSamePadding (`<m>.conv.*`); bn is plain `<m>.*`
        out.push(...torchModuleKeys(mod, kind, kind === 'bn' ? mod : `${mod}.conv`));
    }
  }
  return out;
}

/** The key table of EfficientDet-D{phi}: every upstream key except `num_batches_tracked` (D0: 676 rows). */
export function efficientDetKeyTable(phi: number): KeyTableEntry[] {
  return expandEfficientDetModules(efficientDetModules(phi));
}
