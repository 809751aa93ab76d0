/**
 * A published model (a preset): where its upstream files live, how big they are, their sha256
 * where known, and how to convert them. Pure data; each family lists its own presets and the
 * registry (`src/registry`) is their union.
 */

/** One file to download. */
export interface RegistryFile {
  /** Original public URL. */
  url: string;
  /** File name in the cache folder `<cache>/<model name>/`. */
  filename: string;
  /** Size in bytes, checked after download when known. */
  size?: number;
  /** Lower-case hex sha256, checked after download when known. */
  sha256?: string;
  /**
   * The host serves the file only to a browser (e.g. Google Drive's confirmation page): never
   * downloaded; when it is not in the cache, the error says where to put it.
   */
  manual?: boolean;
}

/** How the raw files become a Detector (by file format). */
export type RegistryConverter =
  /** `loadDarknet(cfgText, weights)`; `cfg`/`weights` are file names of the entry. */
  | { kind: 'darknet'; cfg: string; weights: string }
  /** `loadPytorch(arch, pth)`; `weights` is a file name of the entry. */
  | { kind: 'pytorch'; arch: string; weights: string; cfg?: string; inputSize?: number };

/** One published model. */
export interface RegistryEntry {
  name: string;
  description: string;
  /** Upstream project page. */
  source: string;
  files: RegistryFile[];
  converter: RegistryConverter;
  classNames: string[];
}

/** A family's published model: a registry entry. */
export type ModelPreset = RegistryEntry;

/** URL of a file of a GitHub repository pinned to a commit (so that its sha256 stays valid). */
export const githubRaw = (repo: string, commit: string, path: string): string =>
  `https://raw.githubusercontent.com/${repo}/${commit}/${path}`;
