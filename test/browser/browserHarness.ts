/**
 * Running a bundle in a real browser from a jest test: esbuild bundles an entry for the browser
 * platform, a tiny `http` server on 127.0.0.1 (random port) serves it cross-origin isolated
 * (COOP same-origin + COEP require-corp, so SharedArrayBuffer and shared wasm memory exist),
 * and playwright-core drives Debian's headless Chromium (`/usr/bin/chromium`; no browser
 * download) with the flags that work on a machine without outside network.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { buildForBrowser } from '../helpers/browserBundle';

/** Chromium the tests use (Debian package `chromium`); `YOLO_TFJS_CHROMIUM` overrides. */
export const CHROMIUM_PATH = process.env.YOLO_TFJS_CHROMIUM || '/usr/bin/chromium';

/** Flags for a headless Chromium with no outside network (no background connections). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type PlaywrightCore = typeof import('playwright-core');

/** playwright-core, or null when it is not installed. */
export function loadPlaywright(): PlaywrightCore | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('playwright-core') as PlaywrightCore;
  } catch {
    return null;
  }
}

/** Why the browser tests cannot run here (null when they can). */
export function browserUnavailableReason(): string | null {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    return `${CHROMIUM_PATH} not found (install Debian's chromium: apt-get install -y chromium; or set YOLO_TFJS_CHROMIUM)`;
  }
  if (!loadPlaywright()) return 'playwright-core is not installed (npm devDependency)';
  return null;
}

/** `describe` when Chromium and playwright-core are present, else a skipped block saying why. */
export function describeBrowser(name: string, fn: () => void): void {
  const why = browserUnavailableReason();
  if (!why) {
    describe(name, fn);
    return;
  }
  describe(name, () => {
    test.skip(`SKIPPED: ${why}`, () => undefined);
  });
  // eslint-disable-next-line no-console
  console.warn(`[browser] ${name}: skipped, ${why}`);
}

/** Bundles `entry` for the browser (one IIFE script, no Node built-ins allowed). */
export function bundleForBrowser(entry: string): string {
  const { errors, code } = buildForBrowser(entry, 'iife');
  if (errors.length > 0) throw new Error(`esbuild could not bundle ${entry} for the browser:\n${errors.join('\n')}`);
  return code;
}

/** A route: URL path -> body and content type. */
export interface Route {
  body: string | Buffer | (() => Buffer);
  type: string;
  /** Send the cross-origin isolation headers (default true; false for a plain page). */
  isolated?: boolean;
}

/** A running server; `close` stops it. */
export interface TestServer {
  url: string;
  /** Paths requested so far (with their status). */
  requests: string[];
  close(): Promise<void>;
}

/** Headers of every response: cross-origin isolation (SharedArrayBuffer, shared wasm memory). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
} as const;

/** Serves `routes` on 127.0.0.1 at a random port, cross-origin isolated unless a route says not. */
export function serve(routes: Record<string, Route>): Promise<TestServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const route = routes[p];
    if (!route) {
      requests.push(`${p} 404`);
      res.writeHead(404, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain' });
      res.end(`not found: ${p}`);
      return;
    }
    requests.push(`${p} 200`);
    const body = typeof route.body === 'function' ? route.body() : route.body;
    res.writeHead(200, { ...(route.isolated === false ? { 'Cache-Control': 'no-store' } : ISOLATION_HEADERS), 'Content-Type': route.type });
    res.end(body);
  });
  // Never close idle keep-alive sockets from this side: on a slow machine a client reusing one
  // just as the server's idle timeout (5 s by default) closed it saw "fetch failed".
  server.keepAliveTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        requests,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections?.();
            server.close(() => res());
          }),
      });
    });
  });
}

/** The tfjs-backend-wasm .wasm files as routes under `/tfjs-wasm/`. */
export function tfjsWasmRoutes(): Record<string, Route> {
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const out: Record<string, Route> = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.wasm'))) {
    out[`/tfjs-wasm/${f}`] = { body: () => fs.readFileSync(path.join(dir, f)), type: 'application/wasm' };
  }
  return out;
}

/** A page to open and the function to await in it. */
export interface PageCall {
  /** Path on the server (e.g. `/`). */
  path: string;
  /** Name of a global async function the page defines. */
  fn: string;
  /** Its (JSON-serialisable) argument. */
  arg: unknown;
}

/** What a page did: its result plus the console lines and uncaught errors it produced. */
export interface PageRun<T> {
  result: T;
  console: string[];
  pageErrors: string[];
}

/**
 * Launches headless Chromium once and, for each call in turn, opens `baseUrl + path` in a new
 * page, waits until `globalThis[fn]` exists and awaits `globalThis[fn](arg)` there. Returns the
 * (JSON-serialisable) results and how long the launch took.
 */
export async function runInChromium<T>(baseUrl: string, calls: PageCall[], timeoutMs: number): Promise<{ pages: PageRun<T>[]; launchMs: number }> {
  const pw = loadPlaywright();
  if (!pw) throw new Error('playwright-core is not installed');
  const t0 = Date.now();
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: timeoutMs });
  const launchMs = Date.now() - t0;
  const pages: PageRun<T>[] = [];
  try {
    for (const call of calls) {
      const consoleLines: string[] = [];
      const pageErrors: string[] = [];
      const page = await browser.newPage();
      page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
      page.setDefaultTimeout(timeoutMs);
      await page.goto(new URL(call.path, baseUrl).href, { waitUntil: 'load' });
      try {
        await page.waitForFunction((name) => typeof (globalThis as Record<string, unknown>)[name] === 'function', call.fn, { timeout: 10000 });
      } catch {
        throw new Error(`${call.path} never defined ${call.fn}() (bundle failed to load?)\npage errors: ${pageErrors.join('\n')}\nconsole: ${consoleLines.join('\n')}`);
      }
      const result = (await page.evaluate(
        ([name, arg]) => (globalThis as unknown as Record<string, (a: unknown) => Promise<unknown>>)[name as string](arg),
        [call.fn, call.arg] as const,
      )) as T;
      pages.push({ result, console: consoleLines, pageErrors });
      await page.close();
    }
    return { pages, launchMs };
  } finally {
    await browser.close();
  }
}
