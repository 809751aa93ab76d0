/**
 * NODE-ONLY: the local cache of registry models.
 *
 * ```
 * $YOLO_TFJS_CACHE (default ~/.cache/yolo-tfjs)
 *   <name>/<upstream files>      raw files as published (checked by size and sha256)
 *   <name>/model/                the converted Detector folder (model.json, weights.bin, spec.json)
 * ```
 * `fs`, `os`, `path` and `crypto` are required lazily so that importing this module does not
 * break a browser bundle.
 */
import { RegistryEntry, RegistryFile } from './registry';
import { nodeRequire } from '../util/nodeRequire';

type Fs = typeof import('fs');
type Path = typeof import('path');

const fsMod = (): Fs => nodeRequire('fs') as Fs;
const pathMod = (): Path => nodeRequire('path') as Path;

/** Options of the cache functions and of `load`. */
export interface CacheOptions {
  /** Cache root; default `$YOLO_TFJS_CACHE`, else `~/.cache/yolo-tfjs`. */
  cacheDir?: string;
  /** Never download: missing files are an error saying where to put them. */
  offline?: boolean;
  /** `fetch` implementation (default the global one); tests inject their own. */
  fetch?: (url: string) => Promise<Response>;
  /** Progress messages on stderr (default true). */
  progress?: boolean;
}

/** The cache root folder. */
export function cacheRoot(opts: CacheOptions = {}): string {
  if (opts.cacheDir) return opts.cacheDir;
  if (process.env.YOLO_TFJS_CACHE) return process.env.YOLO_TFJS_CACHE;
  const os = nodeRequire('os') as typeof import('os');
  return pathMod().join(os.homedir(), '.cache', 'yolo-tfjs');
}

/** `<cache>/<name>/`: where the raw files of a registry model live. */
export function modelCacheDir(name: string, opts: CacheOptions = {}): string {
  return pathMod().join(cacheRoot(opts), name);
}

/** `<cache>/<name>/model/`: the converted Detector folder. */
export function convertedModelDir(name: string, opts: CacheOptions = {}): string {
  return pathMod().join(modelCacheDir(name, opts), 'model');
}

/** Lower-case hex sha256 of some bytes. */
export function sha256Hex(data: Uint8Array): string {
  const crypto = nodeRequire('crypto') as typeof import('crypto');
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Why `data` does not match the registry's size / sha256 for `file`, or null when it does. */
export function verifyFile(file: RegistryFile, data: Uint8Array): string | null {
  if (file.size !== undefined && data.length !== file.size) return `size ${data.length} bytes, expected ${file.size}`;
  if (file.sha256 !== undefined) {
    const got = sha256Hex(data);
    if (got !== file.sha256) return `sha256 ${got}, expected ${file.sha256}`;
  }
  return null;
}

function log(opts: CacheOptions, msg: string): void {
  if (opts.progress !== false) process.stderr.write(msg);
}

async function download(file: RegistryFile, opts: CacheOptions): Promise<Uint8Array> {
  const doFetch = opts.fetch ?? ((u: string) => fetch(u));
  const res = await doFetch(file.url);
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  const total = file.size ?? Number(res.headers.get('content-length') ?? 0);
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  let lastShown = -1;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    const pct = total > 0 ? Math.floor((100 * got) / total) : -1;
    if (pct >= 0 && pct >= lastShown + 10) {
      lastShown = pct - (pct % 10);
      log(opts, `  ${file.filename}: ${pct}% (${(got / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB)\n`);
    }
  }
  const out = new Uint8Array(got);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * Make sure every raw file of `entry` is in `<cache>/<name>/` with the right size and sha256,
 * downloading what is missing (unless `offline`). Returns filename -> absolute path.
 * @throws naming the URL that failed and where to put the file by hand.
 */
export async function ensureRawFiles(entry: RegistryEntry, opts: CacheOptions = {}): Promise<Map<string, string>> {
  const fs = fsMod();
  const path = pathMod();
  const dir = modelCacheDir(entry.name, opts);
  const out = new Map<string, string>();
  for (const file of entry.files) {
    const dest = path.join(dir, file.filename);
    const putHint = `put ${file.filename} at ${dest} (its upstream URL: ${file.url})`;
    if (fs.existsSync(dest)) {
      const bad = verifyFile(file, fs.readFileSync(dest));
      if (!bad) {
        out.set(file.filename, dest);
        continue;
      }
      if (opts.offline) throw new Error(`cached file ${dest} is damaged (${bad}); ${putHint}`);
      log(opts, `yolo-tfjs: cached ${dest} is damaged (${bad}); downloading it again\n`);
    }
    if (opts.offline) throw new Error(`model '${entry.name}': ${file.filename} is not in the cache and downloads are off; ${putHint}`);
    if (file.manual) throw new Error(`model '${entry.name}': ${file.filename} is not in the cache and must be downloaded by hand; ${putHint}`);
    log(opts, `yolo-tfjs: downloading ${file.url}\n`);
    let data: Uint8Array;
    try {
      data = await download(file, opts);
    } catch (e) {
      throw new Error(`model '${entry.name}': could not download ${file.url} (${(e as Error).message}); ${putHint}`);
    }
    const bad = verifyFile(file, data);
    if (bad) throw new Error(`model '${entry.name}': download of ${file.url} is wrong (${bad}); ${putHint}`);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${dest}.part-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, dest);
    out.set(file.filename, dest);
  }
  return out;
}
