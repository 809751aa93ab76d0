/**
 * Declarative key table of Yolo-FastestV2's PyTorch state dict (the 444 keys of
 * `coco2017-0.241078ap-model.pth` minus the 73 `num_batches_tracked` counters = 371 tensors).
 *
 * The table is a list of upstream MODULES, each with its kind; every module expands to its
 * parameter keys with a fixed rule:
 * - `conv`      `<m>.weight` [O, I, 1|3, 1|3] -> layer `<m>` `kernel` (OIHW -> HWIO)
 * - `convBias`  the same plus `<m>.bias` -> `bias`
 * - `dw`        `<m>.weight` [C, 1, k, k] -> layer `<m>` `depthwise_kernel` ([k, k, C, 1])
 * - `bn`        `<m>.weight/bias/running_mean/running_var` -> `gamma/beta/moving_mean/moving_variance`
 * Our tfjs layers carry the upstream module path as their name, so `layer` = module.
 */
import { KeyTableEntry } from '../../weights/assignStateDict';
import { torchModuleKeys, TorchModuleKind } from '../../weights/torchModuleKeys';
import { TensorMap } from '../../weights/tensorMap';
import { YOLO_FASTESTV2_STAGE_REPEATS } from './yoloFastestV2';

export type { TorchModuleKind };

/** `[module path, kind]` for every parameterised module, in state-dict order. */
export function yoloFastestV2Modules(): [string, TorchModuleKind][] {
  const m: [string, TorchModuleKind][] = [
    ['backbone.first_conv.0', 'conv'],
    ['backbone.first_conv.1', 'bn'],
  ];
  YOLO_FASTESTV2_STAGE_REPEATS.forEach((repeats, s) => {
    for (let i = 0; i < repeats; i++) {
      const b = `backbone.stage${s + 2}.${i}`;
      m.push(
        [`${b}.branch_main.0`, 'conv'], [`${b}.branch_main.1`, 'bn'],
        [`${b}.branch_main.3`, 'dw'], [`${b}.branch_main.4`, 'bn'],
        [`${b}.branch_main.5`, 'conv'], [`${b}.branch_main.6`, 'bn'],
      );
      if (i === 0) {
        m.push(
          [`${b}.branch_proj.0`, 'dw'], [`${b}.branch_proj.1`, 'bn'],
          [`${b}.branch_proj.2`, 'conv'], [`${b}.branch_proj.3`, 'bn'],
        );
      }
    }
  });
  m.push(['fpn.conv1x1_2.0', 'conv'], ['fpn.conv1x1_2.1', 'bn'], ['fpn.conv1x1_3.0', 'conv'], ['fpn.conv1x1_3.1', 'bn']);
  for (const head of ['cls_head_2', 'reg_head_2', 'reg_head_3', 'cls_head_3']) {
    const b = `fpn.${head}.block`;
    m.push(
      [`${b}.0`, 'dw'], [`${b}.1`, 'bn'], [`${b}.3`, 'conv'], [`${b}.4`, 'bn'],
      [`${b}.5`, 'dw'], [`${b}.6`, 'bn'], [`${b}.8`, 'conv'], [`${b}.9`, 'bn'],
    );
  }
  m.push(['output_reg_layers', 'convBias'], ['output_obj_layers', 'convBias'], ['output_cls_layers', 'convBias']);
  return m;
}

/** Expands `[module, kind]` rows into key-table entries (layer name = module path). */
export function expandTorchModules(modules: [string, TorchModuleKind][]): KeyTableEntry[] {
  return modules.flatMap(([mod, kind]) => torchModuleKeys(mod, kind));
}

/** The key table: 371 rows (every upstream key except `num_batches_tracked`). */
export function yoloFastestV2KeyTable(): KeyTableEntry[] {
  return expandTorchModules(yoloFastestV2Modules());
}

/**
 * The BN `num_batches_tracked` counters a PyTorch state dict carries (int64 scalars), for an
 * exported state dict with upstream's full key set. `value` defaults to 0.
 */
export function yoloFastestV2BatchCounters(value = 0): TensorMap {
  const out: TensorMap = new Map();
  for (const [mod, kind] of yoloFastestV2Modules()) {
    if (kind === 'bn') out.set(`${mod}.num_batches_tracked`, { shape: [], dtype: 'int64', data: BigInt64Array.of(BigInt(value)) });
  }
  return out;
}
