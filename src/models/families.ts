/**
 * THE families table: the one place where loadPytorch, load, the registry, the CLI and train
 * learn which model families exist. Adding a family = its folder `src/models/<family>/` with a
 * `family.ts` descriptor (see `family.ts` for the interface) + one line here.
 *
 * Order matters twice: the registry lists presets in table order, and a spec without a
 * `family` field goes to the first family whose `matchesSpec` accepts it.
 */
import { ModelSpec } from '../spec';
import { Family } from './family';
import { yoloFastestV2Family } from './yoloFastestV2/family';
import { rfsongFamily } from './rfsong/family';
import { darknetFamily } from './darknet/family';
import { efficientDetFamily } from './efficientDet/family';
import { scaledYolov4Family } from './scaledYolov4/family';

export type { Family, FamilyParts, ClassLayer, StateDictLoadOptions, NamedBuilderOptions } from './family';
import type { NamedBuilderOptions } from './family';
import type { Detector } from '../detector';

/** Every model family, in registry order. */
export const FAMILIES: readonly Family[] = [
  yoloFastestV2Family,
  rfsongFamily,
  darknetFamily,
  efficientDetFamily,
  scaledYolov4Family,
];

/** The family named `name`, or undefined. */
export function familyByName(name: string): Family | undefined {
  return FAMILIES.find((f) => f.name === name);
}

/** Architecture names `loadPytorch` accepts, in table order. */
export function pytorchArchs(): string[] {
  return FAMILIES.flatMap((f) => f.pytorchArchs ?? []);
}

/** The architectures for help texts, e.g. `yolo-fastestv2, efficientdet-d0..d7`. */
export function pytorchArchsHelp(): string {
  return FAMILIES.filter((f) => f.pytorchArchs?.length).map((f) => f.pytorchArchsHelp ?? f.pytorchArchs!.join(', ')).join(', ');
}

/** The PyTorch ports (`loadPytorch`'s `port` option) the families know, in table order. */
export function pytorchPorts(): string[] {
  return FAMILIES.flatMap((f) => f.pytorchPorts ?? []);
}

/** The ports for help texts. */
export function pytorchPortsHelp(): string {
  return FAMILIES.filter((f) => f.pytorchPorts?.length).map((f) => f.pytorchPortsHelp ?? f.pytorchPorts!.join(' | ')).join(' | ');
}

/** The family whose `loadPytorch` architecture is `arch` (lower case), or undefined. */
export function familyOfPytorchArch(arch: string): Family | undefined {
  return FAMILIES.find((f) => f.pytorchArchs?.includes(arch));
}

/**
 * The family of a spec: the one named by `spec.family`, else the first whose `matchesSpec`
 * accepts it. Every head must be of one kind (training and the layer roles assume it).
 */
export function familyOfSpec(spec: ModelSpec): Family {
  const kinds = new Set(spec.heads.map((h) => h.kind));
  if (kinds.size !== 1) throw new Error(`spec '${spec.name}' mixes head kinds ${[...kinds].join(', ')}; training supports one kind`);
  if (spec.family !== undefined) {
    const f = familyByName(spec.family);
    if (!f) throw new Error(`spec '${spec.name}' names family '${spec.family}'; known: ${FAMILIES.map((x) => x.name).join(', ')}`);
    return f;
  }
  const f = FAMILIES.find((x) => x.matchesSpec(spec));
  if (!f) throw new Error(`spec '${spec.name}' (${[...kinds].join(', ')} heads) matches no model family; known: ${FAMILIES.map((x) => x.name).join(', ')}`);
  return f;
}

/** Every family's named builders (training from scratch), in table order. */
export function modelBuilders(): Readonly<Record<string, (opts?: NamedBuilderOptions) => Detector>> {
  return Object.freeze(Object.fromEntries(FAMILIES.flatMap((f) => Object.entries(f.builders ?? {}))));
}
