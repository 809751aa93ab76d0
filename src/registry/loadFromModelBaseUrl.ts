/**
 * `load(name)` where there is no file system (browsers), or when a base URL is given: registry
 * names resolve to `<base URL>/<name>/`, a folder written by `yolo-tfjs convert` (model.json,
 * weights.bin, spec.json) that the application serves. Browser-safe.
 *
 * ```ts
 * setModelBaseUrl('https://example.com/yolo-models/');
 * const det = await load('yolov4-tiny'); // https://example.com/yolo-models/yolov4-tiny/model.json
 * ```
 */
import { Detector } from '../detector';
import { loadDetectorFromUrl } from '../io/loadDetectorFromUrl';
import { getRegistryEntry } from './registry';

/** Where registry models are served when the caller sets nothing: `models/` next to the page. */
export const DEFAULT_MODEL_BASE_URL = 'models/';

let configuredBaseUrl: string | undefined;

/**
 * Sets the base URL under which `load(name)` finds converted registry models
 * (`<url>/<name>/model.json`); relative URLs resolve against the page. `undefined` restores
 * the default (`models/` next to the page).
 */
export function setModelBaseUrl(url: string | undefined): void {
  if (url !== undefined && (typeof url !== 'string' || url.trim() === '')) {
    throw new Error(`setModelBaseUrl expects a URL string, got ${JSON.stringify(url)}`);
  }
  configuredBaseUrl = url;
}

/** The base URL `load(name)` uses now, absolute where a page location is known, ending in `/`. */
export function modelBaseUrl(override?: string): string {
  return withSlash(absolute(override ?? configuredBaseUrl ?? DEFAULT_MODEL_BASE_URL));
}

/** `<base>/<name>/`: the folder URL of a registry model. */
export function registryModelUrl(name: string, base?: string): string {
  return `${modelBaseUrl(base)}${encodeURIComponent(name)}/`;
}

/** Whether `s` names a location (URL or path) rather than a registry name. */
export function looksLikeUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(s) || s.includes('/');
}

/**
 * Loads a registry model from the base URL, or a model folder from a URL / path given
 * directly. Unknown registry names are an error listing the known ones (before any request).
 * @throws naming the URL that could not be fetched (HTTP status or network error) and what
 * should be served there.
 */
export async function loadFromModelBaseUrl(nameOrUrl: string, opts: { modelBaseUrl?: string } = {}): Promise<Detector> {
  let url: string;
  let what: string;
  if (looksLikeUrl(nameOrUrl)) {
    url = absolute(nameOrUrl);
    what = `model folder ${url}`;
  } else {
    const entry = getRegistryEntry(nameOrUrl); // throws for unknown names, listing the known ones
    url = registryModelUrl(entry.name, opts.modelBaseUrl);
    what = `model '${entry.name}' from ${url}`;
  }
  try {
    return await loadDetectorFromUrl(url);
  } catch (e) {
    const reason = (e as Error).message || String(e);
    // Browsers' fetch says only "Failed to fetch": name the URL ourselves.
    throw new Error(
      `could not load ${what}: ${reason}. Serve a folder written by \`yolo-tfjs convert\` there ` +
        '(model.json, weights.bin, spec.json), or point setModelBaseUrl() / the modelBaseUrl option elsewhere',
    );
  }
}

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

/** Resolves `u` against the page (browsers, workers); unchanged where there is no location. */
function absolute(u: string): string {
  const loc = (globalThis as { location?: { href?: string } }).location;
  try {
    return loc?.href ? new URL(u, loc.href).href : new URL(u).href;
  } catch {
    return u;
  }
}
