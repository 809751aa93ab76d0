/**
 * Dependencies point down: the module map of docs/ARCHITECTURE.md is a table of rows, top
 * (entry points) to bottom (base); a file of `src/` may import (statically, `import()` or
 * `require()`) only from its own row or a row below it. The table is read from the document,
 * so the map and the code cannot drift apart.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

interface Row {
  name: string;
  /** `src/`-relative prefixes: a folder (`train/`) or a file (`detector.ts`). */
  prefixes: string[];
}

/** The rows of the "Module map" table, top first. */
export function moduleMapRows(markdown: string): Row[] {
  const section = markdown.split(/^## Module map$/m)[1]?.split(/^## /m)[0] ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*(Layer|-)/.test(l))
    .map((l) => {
      const [, name, folders] = l.split('|').map((c) => c.trim());
      const prefixes = [...folders.matchAll(/`src\/([^`]*)`/g)].map((m) =>
        // `models/<family>/` and `entry/*.ts` stand for their folder
        m[1].replace(/<[^>]*>\/$/, '').replace(/\*\.ts$/, ''),
      );
      return { name, prefixes };
    });
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Row index of a `src/`-relative path (longest matching prefix), or -1. */
function rowOf(rows: Row[], rel: string): number {
  let best = -1;
  let bestLen = -1;
  rows.forEach((r, i) => {
    for (const p of r.prefixes) {
      const hit = p.endsWith('/') ? rel.startsWith(p) : rel === p;
      if (hit && p.length > bestLen) {
        best = i;
        bestLen = p.length;
      }
    }
  });
  return best;
}

/** Relative module paths a source imports, comments removed. */
export function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]*)\1/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) out.push(m[2]);
  return out;
}

/** A relative import resolved to the `src/`-relative file (or folder index) it names. */
function resolveImport(fromRel: string, spec: string): string {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  if (fs.existsSync(path.join(SRC, `${target}.ts`))) return `${target}.ts`;
  if (fs.existsSync(path.join(SRC, target, 'index.ts'))) return `${target}/index.ts`;
  return target;
}

describe('dependencies point down (docs/ARCHITECTURE.md module map)', () => {
  const rows = moduleMapRows(fs.readFileSync(path.join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8'));
  const files = tsFiles(SRC).map((f) => path.relative(SRC, f).split(path.sep).join('/'));

  it('reads the table', () => {
    expect(rows.map((r) => r.name)).toEqual(['entry points', 'consumers', 'families', 'detector', 'data path', 'network running', 'building blocks', 'base']);
    expect(rowOf(rows, 'detector.ts')).toBe(3);
    expect(rowOf(rows, 'models/darknet/loadDarknet.ts')).toBe(2);
    expect(rowOf(rows, 'entry/train.ts')).toBe(0);
  });

  it('places every file of src/ in a row', () => {
    expect(files.filter((f) => rowOf(rows, f) < 0)).toEqual([]);
  });

  it('has no import pointing to a row above', () => {
    const up: string[] = [];
    for (const rel of files) {
      const from = rowOf(rows, rel);
      for (const spec of relativeImports(fs.readFileSync(path.join(SRC, rel), 'utf8'))) {
        const target = resolveImport(rel, spec);
        if (!target.endsWith('.ts')) continue; // package.json and other non-source files
        const to = rowOf(rows, target);
        if (to < from) up.push(`${rel} (${rows[from].name}) imports ${target} (${to < 0 ? 'no row' : rows[to].name})`);
      }
    }
    expect(up).toEqual([]);
  });

  it('catches an upward import (the check itself)', () => {
    expect(relativeImports("import { Detector } from '../detector';\nconst x = require('../train/train');\n// from '../nope'")).toEqual(['../detector', '../train/train']);
    expect(rowOf(rows, 'weights/readDarknetWeights.ts')).toBeGreaterThan(rowOf(rows, 'models/families.ts'));
  });
});
