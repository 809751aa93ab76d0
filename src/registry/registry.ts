/**
 * The published weights `load(name)` knows: the presets of every family of the families table
 * (each lists where its upstream files live, their size and sha256 where known, and how to
 * convert them). Pure data; browser-safe.
 */
import { FAMILIES } from '../models/families';
import type { RegistryEntry } from '../models/preset';

export type { RegistryEntry, RegistryFile, RegistryConverter } from '../models/preset';

/** Every family's presets, in table order. */
const ENTRIES: RegistryEntry[] = FAMILIES.flatMap((f) => f.presets ?? []);

/** Every registry entry by name. */
export const REGISTRY: Readonly<Record<string, RegistryEntry>> = Object.freeze(
  Object.fromEntries(ENTRIES.map((e) => [e.name, e])),
);

/** Names `load()` accepts besides a folder path. */
export function registryNames(): string[] {
  return ENTRIES.map((e) => e.name);
}

/**
 * The registry entry of `name`.
 * @throws listing the known names when `name` is unknown.
 */
export function getRegistryEntry(name: string): RegistryEntry {
  const e = Object.prototype.hasOwnProperty.call(REGISTRY, name) ? REGISTRY[name] : undefined;
  if (!e) throw new Error(`unknown model '${name}'; known models: ${registryNames().join(', ')} (or a folder with model.json)`);
  return e;
}
