/**
 * Family knowledge stays in its folder: outside `src/models/<family>/`, no string literal of
 * `src/` names a family's architectures or one of its layer names. The rest of the code learns
 * of families through the families table (`src/models/families.ts`) only. Import paths are
 * allowed (the table and the barrels import the folders).
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '..', '..', 'src');

/** What each family folder owns: architecture names and layer-name fragments. */
const OWNED: Record<string, string[]> = {
  yoloFastestV2: ['yolo-fastestv2', 'output_cls_layers', 'output_reg_layers', 'output_obj_layers', 'backbone.', 'fpn.'],
  efficientDet: ['efficientdet', 'backbone_net', 'classifier.', 'regressor.'],
  rfsong: ['rfsong', 'conf.', 'loc.', 'base.'],
  scaledYolov4: ['scaled-yolov4', 'yolov4-p5', 'yolov4-p6', 'yolov4-p7', 'bottleneckcsp', 'sppcsp', 'mishcuda'],
};

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** String literals of a TypeScript source, comments removed, import/require paths skipped. */
export function stringLiterals(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: string[] = [];
  const re = /(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    const s = m[2];
    if (s.startsWith('./') || s.startsWith('../')) continue;
    out.push(s);
  }
  return out;
}

/** Whether `tok` occurs in `lit` at the start of a word (`fpn.` in `fpn.cls_head`, not in `bifpn.0`). */
function startsWord(lit: string, tok: string): boolean {
  for (let i = lit.indexOf(tok); i >= 0; i = lit.indexOf(tok, i + 1)) {
    if (i === 0 || !/[a-z0-9_]/.test(lit[i - 1])) return true;
  }
  return false;
}

/** `file: literal` for every literal outside the family's folder that contains one of its tokens. */
export function leaks(files: string[], owned: Record<string, string[]>): string[] {
  const found: string[] = [];
  for (const file of files) {
    const rel = path.relative(SRC, file).split(path.sep).join('/');
    const literals = stringLiterals(fs.readFileSync(file, 'utf8')).map((s) => s.toLowerCase());
    for (const [family, tokens] of Object.entries(owned)) {
      if (rel.startsWith(`models/${family}/`)) continue;
      for (const lit of literals) {
        const t = tokens.find((tok) => startsWord(lit, tok));
        if (t) found.push(`${rel}: '${lit}' (${family}: ${t})`);
      }
    }
  }
  return found;
}

describe('family knowledge stays in src/models/<family>/', () => {
  it('no family name or layer-name string leaks into the rest of src/', () => {
    expect(leaks(tsFiles(SRC), OWNED)).toEqual([]);
  });

  it('the check finds a leak (a layer name outside its folder)', () => {
    const tmp = fs.mkdtempSync(path.join(require('os').tmpdir(), 'leak-'));
    const f = path.join(tmp, 'modelParts.ts');
    fs.writeFileSync(f, "// 'classifier.header' in a comment is fine\nimport x from '../models/efficientDet/heads';\nconst n = 'classifier.header';\n");
    try {
      expect(leaks([f], OWNED)).toEqual([expect.stringContaining("'classifier.header' (efficientDet: classifier.)")]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('every family folder is in the families table', () => {
    const table = fs.readFileSync(path.join(SRC, 'models', 'families.ts'), 'utf8');
    const folders = fs.readdirSync(path.join(SRC, 'models'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const folder of folders) expect(table).toContain(`./${folder}/family`);
  });
});
