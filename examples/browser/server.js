#!/usr/bin/env node
/**
 * `npm run demo`: builds the demo page's script and serves the page on http://127.0.0.1:8080/
 * with the cross-origin isolation headers (COOP same-origin + COEP require-corp), which give
 * the page SharedArrayBuffer, so the wasm kernels run on several threads. Node built-ins only.
 *
 *   /                       examples/browser/index.html (+ its files)
 *   /demo.js                the esbuild bundle of examples/browser/demo.ts
 *   /tfjs-wasm/*.wasm       tfjs-backend-wasm's binaries (from node_modules)
 *   /images/*               examples/images/ (sample images)
 *   /models/<name>/*        converted models (`yolo-tfjs convert` output): the first of
 *                           --models <dir>/<name>/, examples/browser/models/<name>/, and the
 *                           Node cache <cache>/<name>/model/ (models `load(name)` converted in Node)
 *
 * Options: --port N (default 8080; 0 = any free port), --host H (default 127.0.0.1),
 * --models DIR, --no-isolation (serve without COOP/COEP, to see the one-thread fallback).
 */
'use strict';
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { buildDemo } = require('./build');

const ROOT = path.resolve(__dirname, '..', '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** Headers that make the page cross-origin isolated (shared wasm memory for the threads). */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function cacheRoot() {
  return process.env.YOLO_TFJS_CACHE || path.join(os.homedir(), '.cache', 'yolo-tfjs');
}

/** The file `rel` under `dir`, or null when it would escape `dir` or does not exist. */
function fileUnder(dir, rel) {
  const base = path.resolve(dir);
  const p = path.resolve(base, rel);
  if (p !== base && !p.startsWith(base + path.sep)) return null;
  try {
    return fs.statSync(p).isFile() ? p : null;
  } catch {
    return null;
  }
}

/** Folders where /models/<name>/ is looked up, in order. */
function modelFolders(name, modelsDirs) {
  return [...modelsDirs.map((d) => path.join(d, name)), path.join(__dirname, 'models', name), path.join(cacheRoot(), name, 'model')];
}

/**
 * Starts the demo server.
 * @param {{ port?: number, host?: string, isolated?: boolean, modelsDirs?: string[], bundle?: string, log?: boolean }} [opts]
 *   `bundle`: the demo script's code (default: built now with esbuild).
 * @returns {Promise<{ url: string, server: http.Server, close(): Promise<void> }>}
 */
function startDemoServer(opts = {}) {
  const isolated = opts.isolated !== false;
  const modelsDirs = opts.modelsDirs || [];
  const bundle = opts.bundle ?? buildDemo();
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm', { paths: [ROOT] }));
  const imagesDir = path.join(ROOT, 'examples', 'images');
  const server = http.createServer((req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { ...(isolated ? ISOLATION_HEADERS : {}), 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    let p;
    try {
      p = decodeURIComponent(new URL(req.url || '/', 'http://localhost').pathname);
    } catch {
      send(400, 'text/plain', 'bad URL');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'text/plain', 'GET only');
      return;
    }
    let file = null;
    if (p === '/demo.js') {
      send(200, TYPES['.js'], bundle);
      return;
    }
    if (p === '/' || p === '/index.html') file = path.join(__dirname, 'index.html');
    else if (p.startsWith('/tfjs-wasm/')) file = fileUnder(wasmDir, p.slice('/tfjs-wasm/'.length));
    else if (p.startsWith('/images/')) file = fileUnder(imagesDir, p.slice('/images/'.length));
    else if (p.startsWith('/models/')) {
      const m = /^\/models\/([A-Za-z0-9._-]+)\/(model\.json|spec\.json|[A-Za-z0-9._-]+\.bin)$/.exec(p);
      if (m) for (const dir of modelFolders(m[1], modelsDirs)) if ((file = fileUnder(dir, m[2]))) break;
    } else if (/^\/[A-Za-z0-9._-]+\.(css|svg|ico|png)$/.test(p)) file = fileUnder(__dirname, p.slice(1));
    if (!file) {
      if (opts.log) console.log(`404 ${p}`);
      send(404, 'text/plain; charset=utf-8', `not found: ${p}${p.startsWith('/models/') ? ' (convert the model with `yolo-tfjs convert`, or load it once in Node so that it is in the cache)' : ''}`);
      return;
    }
    send(200, TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream', req.method === 'HEAD' ? undefined : fs.readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host || '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://${opts.host || '127.0.0.1'}:${port}/`,
        server,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

function parseArgv(argv) {
  const o = { port: 8080, host: '127.0.0.1', isolated: true, modelsDirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') {
      o.port = Number(value());
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error(`--port must be 0-65535`);
    } else if (a === '--host') o.host = value();
    else if (a === '--models') o.modelsDirs.push(path.resolve(value()));
    else if (a === '--no-isolation') o.isolated = false;
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  return o;
}

if (require.main === module) {
  let o;
  try {
    o = parseArgv(process.argv.slice(2));
  } catch (e) {
    console.error(`demo server: ${e.message}`);
    process.exit(1);
  }
  if (o.help) {
    console.log('usage: npm run demo -- [--port 8080] [--host 127.0.0.1] [--models DIR] [--no-isolation]');
    process.exit(0);
  }
  const t0 = Date.now();
  startDemoServer({ ...o, log: true }).then(
    ({ url }) => {
      console.log(`yolo-tfjs demo (built in ${Date.now() - t0} ms): ${url}`);
      console.log(o.isolated ? 'cross-origin isolated (COOP/COEP): multi-threaded wasm kernels' : 'NOT cross-origin isolated: one thread');
    },
    (e) => {
      console.error(`demo server: ${e.message}`);
      process.exit(1);
    },
  );
}

module.exports = { startDemoServer, ISOLATION_HEADERS };
