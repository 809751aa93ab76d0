// Writes an ES-module twin (`.mjs`) of every package entry of the CommonJS build, re-exporting
// each name, so both `import { tinyYoloV3 } from 'yolo-tfjs'` and `require('yolo-tfjs')` work,
// and the same for the subpaths (`yolo-tfjs/train`, ...). The entries are those of the
// `exports` map of package.json that have an `import` condition.
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const target of Object.values(pkg.exports)) {
  if (typeof target !== 'object' || !target.import || !target.require) continue;
  const cjsFile = path.join(root, target.require);
  const esmFile = path.join(root, target.import);
  const names = Object.keys(require(cjsFile)).filter((n) => n !== 'default' && n !== '__esModule');
  const lines = [
    `import cjs from './${path.basename(cjsFile)}';`,
    `export const { ${names.join(', ')} } = cjs;`,
    'export default cjs;',
    '',
  ];
  fs.writeFileSync(esmFile, lines.join('\n'));
}
const cli = path.join(root, 'dist', 'cli', 'main.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
