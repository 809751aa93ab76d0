/**
 * The image arguments of a CLI command: files, folders (their images, sorted) and glob
 * patterns (`*`, `?`, `**`, `[...]`) expanded without a shell, with bounds on what is walked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './args';

/** File endings read as images (sharp decodes them). */
export const IMAGE_FILE = /\.(jpe?g|png|bmp|gif|webp|tiff?|avif)$/i;

/** How many folder entries one expansion may visit before it stops with an error. */
const MAX_VISITED = 1_000_000;
const GLOB_CHARS = /[*?[]/;

export interface ExpandOptions {
  /** Stop with an error beyond this many images. Default 1,000,000. */
  maxImages?: number;
}

/**
 * Expands `args` to image paths in argument order (duplicates removed). A missing path, a
 * folder without images and a pattern matching nothing are usage errors naming the argument.
 */
export function expandImageInputs(args: string[], opts: ExpandOptions = {}): string[] {
  const maxImages = opts.maxImages ?? 1_000_000;
  const out: string[] = [];
  const seen = new Set<string>();
  const budget = { visited: 0 };
  const add = (files: string[]) => {
    for (const f of files) {
      if (seen.has(f)) continue;
      seen.add(f);
      out.push(f);
      if (out.length > maxImages) throw new UsageError(`more than ${maxImages} images given; split the work into smaller runs`);
    }
  };
  for (const arg of args) {
    if (fs.existsSync(arg)) {
      if (fs.statSync(arg).isDirectory()) {
        const files = listImages(arg, budget);
        if (!files.length) throw new UsageError(`folder ${arg} holds no images (${IMAGE_FILE.source})`);
        add(files);
      } else add([arg]);
    } else if (GLOB_CHARS.test(arg)) {
      const files = globImages(arg, budget);
      if (!files.length) throw new UsageError(`no image matches '${arg}'`);
      add(files);
    } else {
      throw new UsageError(`image file not found: ${arg}`);
    }
  }
  return out;
}

function visit(budget: { visited: number }, n: number, where: string): void {
  budget.visited += n;
  if (budget.visited > MAX_VISITED) throw new UsageError(`walked more than ${MAX_VISITED} folder entries under ${where}; give a narrower folder or pattern`);
}

function listImages(dir: string, budget: { visited: number }): string[] {
  const names = fs.readdirSync(dir);
  visit(budget, names.length, dir);
  return names
    .filter((n) => IMAGE_FILE.test(n))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((f) => fs.statSync(f).isFile());
}

/** A glob segment as a regular expression (`*`, `?`, `[abc]`, `[!abc]`). */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function globImages(pattern: string, budget: { visited: number }): string[] {
  const parts = pattern.split(/[\\/]+/);
  const absolute = pattern.startsWith('/');
  let i = 0;
  const fixed: string[] = [];
  while (i < parts.length - 1 && !GLOB_CHARS.test(parts[i])) fixed.push(parts[i++]);
  const base = absolute ? '/' + fixed.filter(Boolean).join('/') : fixed.join('/') || '.';
  if (!fs.existsSync(base) || !fs.statSync(base).isDirectory()) return [];
  const rest = parts.slice(i);
  const found: string[] = [];
  const walk = (dir: string, k: number): void => {
    if (k === rest.length) return;
    const seg = rest[k];
    const last = k === rest.length - 1;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    visit(budget, entries.length, pattern);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (seg === '**') {
      walk(dir, k + 1); // zero folders
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name), k);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of entries) {
      if (!re.test(e.name) || (e.name.startsWith('.') && !seg.startsWith('.'))) continue;
      const p = path.join(dir, e.name);
      if (last) {
        if (e.isFile() && IMAGE_FILE.test(e.name)) found.push(p);
      } else if (e.isDirectory()) walk(p, k + 1);
    }
  };
  walk(base, 0);
  return found.sort();
}
