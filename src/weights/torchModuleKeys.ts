/**
 * The shared expansion of a PyTorch module with parameters into key-table entries, used by the
 * declarative key tables (Yolo-FastestV2, EfficientDet). Our tfjs layers carry the upstream
 * module path as their name, so `layer` = module:
 * - `conv`      `<p>.weight` [O, I, kh, kw] -> `kernel` (OIHW -> HWIO)
 * - `convBias`  the same plus `<p>.bias` -> `bias`
 * - `dw`        `<p>.weight` [C, 1, k, k] -> `depthwise_kernel`
 * - `bn`        `<p>.weight/bias/running_mean/running_var` -> `gamma/beta/moving_mean/moving_variance`
 * where `<p>` is the parameter prefix (the module path itself unless the caller says otherwise,
 * e.g. `<m>.conv` for a conv wrapped in a padding module).
 */
import { KeyTableEntry } from './assignStateDict';

/** Kind of an upstream module with parameters. */
export type TorchModuleKind = 'conv' | 'convBias' | 'dw' | 'bn';

/**
 * Key-table entries of module `mod` of kind `kind`, whose parameters are keyed under `prefix`
 * (default `mod`). Throws on an unknown kind.
 */
export function torchModuleKeys(mod: string, kind: TorchModuleKind, prefix: string = mod): KeyTableEntry[] {
  switch (kind) {
    case 'conv':
      return [{ key: `${prefix}.weight`, layer: mod, weight: 'kernel', transform: 'conv2d' }];
    case 'convBias':
      return [
        { key: `${prefix}.weight`, layer: mod, weight: 'kernel', transform: 'conv2d' },
        { key: `${prefix}.bias`, layer: mod, weight: 'bias', transform: 'identity' },
      ];
    case 'dw':
      return [{ key: `${prefix}.weight`, layer: mod, weight: 'depthwise_kernel', transform: 'depthwise' }];
    case 'bn':
      return [
        { key: `${prefix}.weight`, layer: mod, weight: 'gamma', transform: 'identity' },
        { key: `${prefix}.bias`, layer: mod, weight: 'beta', transform: 'identity' },
        { key: `${prefix}.running_mean`, layer: mod, weight: 'moving_mean', transform: 'identity' },
        { key: `${prefix}.running_var`, layer: mod, weight: 'moving_variance', transform: 'identity' },
      ];
    default:
      throw new Error(`unknown module kind '${kind as string}' for '${mod}'`);
  }
}
