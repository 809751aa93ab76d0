#!/usr/bin/env node
/*
 * Seed the yolo-tfjs model cache from the reference fixtures, so that `load('<name>')` works
 * offline (CI runs this). Plain Node, no TypeScript.
 *
 *   node scripts/seed-cache.js [cacheDir] [fixturesDir]
 *
 * cacheDir defaults to $YOLO_TFJS_CACHE, else ~/.cache/yolo-tfjs. Fixtures are read from
 * fixturesDir, else $YOLO_TFJS_FIXTURES, else ../shared/fixtures relative to the project root. Every copied file
 * is checked against the sha256 of the registry (src/registry/registry.ts; a test keeps the two
 * tables equal). Files already in place with the right sha256 are left alone.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

/** Registry files that exist, byte-identical, in the fixtures. */
const SEEDS = [
  {
    model: 'yolo-fastestv2-coco',
    filename: 'coco2017-0.241078ap-model.pth',
    fixture: 'yolo-fastestv2/coco2017-0.241078ap-model.pth',
    sha256: 'bdd956aa079bf1cdd3e0090a295ac26d73c40aef7b61b6405981b1afcbea985c',
  },
  {
    model: 'yolo-fastest-1.1',
    filename: 'yolo-fastest-1.1.cfg',
    fixture: 'darknet/weights/yolo-fastest-1.1.cfg',
    sha256: 'f6df5775c1e862998cf69046eba9265be3ae84dfe8b2caab7529823f0795bf70',
  },
  {
    model: 'yolo-fastest-1.1',
    filename: 'yolo-fastest-1.1.weights',
    fixture: 'darknet/weights/yolo-fastest-1.1.weights',
    sha256: '1c445c42bbd6df63edea2cc69f99667b5650d663ca11e34b116240740cd42890',
  },
  {
    model: 'yolo-fastest-1.1-xl',
    filename: 'yolo-fastest-1.1-xl.cfg',
    fixture: 'darknet/weights/yolo-fastest-1.1-xl.cfg',
    sha256: 'c458427acc4fbeabceff4528ef7b65b066c0308ce599460f8ba299eba63abad3',
  },
  {
    model: 'yolo-fastest-1.1-xl',
    filename: 'yolo-fastest-1.1-xl.weights',
    fixture: 'darknet/weights/yolo-fastest-1.1-xl.weights',
    sha256: 'fac5fb41786c1f38f04972a658443b189f48720d7d117f9a044100e98a35b0c5',
  },
];

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function defaultCacheDir() {
  return process.env.YOLO_TFJS_CACHE || path.join(os.homedir(), '.cache', 'yolo-tfjs');
}

function defaultFixturesDir() {
  return process.env.YOLO_TFJS_FIXTURES || path.resolve(__dirname, '..', '..', 'shared', 'fixtures');
}

/**
 * Copy the seeds into `cacheDir`. Returns one line per file. Throws when a fixture is missing
 * or its sha256 differs from the registry's.
 */
function seedCache(cacheDir, fixturesDir) {
  const lines = [];
  for (const s of SEEDS) {
    const src = path.join(fixturesDir, s.fixture);
    const dest = path.join(cacheDir, s.model, s.filename);
    if (fs.existsSync(dest) && sha256(dest) === s.sha256) {
      lines.push(`ok      ${dest}`);
      continue;
    }
    if (!fs.existsSync(src)) throw new Error(`fixture ${src} is missing (set YOLO_TFJS_FIXTURES)`);
    const got = sha256(src);
    if (got !== s.sha256) throw new Error(`fixture ${src} has sha256 ${got}, the registry expects ${s.sha256}`);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.part-${process.pid}`;
    fs.copyFileSync(src, tmp);
    fs.renameSync(tmp, dest);
    lines.push(`copied  ${dest}`);
  }
  return lines;
}

module.exports = { SEEDS, seedCache, defaultCacheDir, defaultFixturesDir };

if (require.main === module) {
  const cacheDir = process.argv[2] || defaultCacheDir();
  try {
    for (const l of seedCache(cacheDir, process.argv[3] || defaultFixturesDir())) console.log(l);
    console.log(`seed-cache: ${SEEDS.length} files in ${cacheDir}`);
  } catch (e) {
    console.error(`seed-cache: ${e.message}`);
    process.exit(1);
  }
}
