/**
 * Which Darknet cfg a Detector was built from. `loadDarknet` records it so that tools that need
 * the network description (pruning, writing `.weights` after training) can find it from the
 * Detector alone; the record lives as long as the Detector object (a WeakMap, no spec change).
 */
import { Detector } from '../../detector';

const sources = new WeakMap<Detector, string>();

/** Remember that `detector` was built from `cfgText`. */
export function setDarknetSource(detector: Detector, cfgText: string): void {
  sources.set(detector, cfgText);
}

/** The cfg text `detector` was built from, if known. */
export function darknetSourceOf(detector: Detector): string | undefined {
  return sources.get(detector);
}
