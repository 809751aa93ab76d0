/**
 * examples/browser/server.js (`npm run demo`) without a browser: the page, its bundle and the
 * tfjs wasm binaries are served with the cross-origin isolation headers (none with
 * `isolated: false`), /models/<name>/ comes from the --models folders first, and nothing outside
 * the served folders is reachable (path traversal, odd model file names, other methods).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { startDemoServer } = require('../../examples/browser/server.js') as {
  startDemoServer(o: { port: number; isolated?: boolean; modelsDirs?: string[]; bundle?: string }): Promise<{ url: string; close(): Promise<void> }>;
};

/** A raw GET (no URL normalisation by the client, so `..` reaches the server as sent). */
function get(url: string, rawPath: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the demo server (examples/browser/server.js)', () => {
  let dir: string;
  let server: { url: string; close(): Promise<void> };
  const cacheBefore = process.env.YOLO_TFJS_CACHE;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-tfjs-demo-server-'));
    process.env.YOLO_TFJS_CACHE = path.join(dir, 'empty-cache'); // the server also serves the Node cache
    fs.mkdirSync(path.join(dir, 'my-model'));
    fs.writeFileSync(path.join(dir, 'my-model', 'model.json'), '{"from":"--models"}');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'no');
    server = await startDemoServer({ port: 0, modelsDirs: [dir], bundle: '/* bundle */' });
  });
  afterAll(async () => {
    if (cacheBefore === undefined) delete process.env.YOLO_TFJS_CACHE;
    else process.env.YOLO_TFJS_CACHE = cacheBefore;
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('page, bundle and wasm binaries are served cross-origin isolated', async () => {
    const page = await get(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="demo.js">');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const js = await get(server.url, '/demo.js');
    expect(js.body).toBe('/* bundle */');
    expect(js.headers['content-type']).toMatch(/javascript/);
    const wasm = await get(server.url, '/tfjs-wasm/tfjs-backend-wasm-simd.wasm');
    expect(wasm.status).toBe(200);
    expect(wasm.headers['content-type']).toBe('application/wasm');
    const img = await get(server.url, '/images/dog.jpg');
    expect(img.status).toBe(200);
  });

  test('models come from the --models folders; a missing one is a 404 that says how to make it', async () => {
    const m = await get(server.url, '/models/my-model/model.json');
    expect(m.status).toBe(200);
    expect(m.body).toBe('{"from":"--models"}');
    const missing = await get(server.url, '/models/yolov4-tiny/model.json');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatch(/yolo-tfjs convert/);
  });

  test('nothing outside the served folders is reachable', async () => {
    for (const p of ['/models/../secret.txt', '/models/my-model/../../secret.txt', '/models/my-model/secret.txt', '/tfjs-wasm/../package.json', '/images/../../package.json', '/%2e%2e/package.json', '/models/my-model/..%2f..%2fsecret.txt']) {
      const r = await get(server.url, p);
      expect([p, r.status]).toEqual([p, 404]);
    }
    expect((await get(server.url, '/%E0%A4%A', 'GET')).status).toBe(400);
    expect((await get(server.url, '/', 'POST')).status).toBe(405);
  });

  test('isolated: false sends no COOP/COEP headers', async () => {
    const plain = await startDemoServer({ port: 0, isolated: false, bundle: '' });
    try {
      const page = await get(plain.url, '/');
      expect(page.status).toBe(200);
      expect(page.headers['cross-origin-opener-policy']).toBeUndefined();
      expect(page.headers['cross-origin-embedder-policy']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
