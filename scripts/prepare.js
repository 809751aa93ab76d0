#!/usr/bin/env node
/*
 * `npm ci` / `npm install` in a clone (and `npm pack`) run this: build dist/ so that the
 * package, its CLI (`npx yolo-tfjs ...`) and its ES-module entry work right after install.
 * Without the dev dependencies (`npm ci --omit=dev`) there is no TypeScript to build with: say
 * so and leave dist/ as it is, rather than failing the install.
 */
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

let hasTsc = true;
try {
  require.resolve('typescript/bin/tsc');
} catch {
  hasTsc = false;
}
if (!hasTsc) {
  console.warn('yolo-tfjs: typescript is not installed (dev dependencies omitted?); not building dist/. Run `npm run build` after installing it.');
  process.exit(0);
}
const npm = process.env.npm_execpath;
const r = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit', cwd: path.resolve(__dirname, '..') })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', cwd: path.resolve(__dirname, '..'), shell: process.platform === 'win32' });
process.exit(r.status === null ? 1 : r.status);
