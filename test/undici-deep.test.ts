import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent, EnvHttpProxyAgent, Pool } from '../src/fetch/undici.js';
import { fetchOnce, type ClientSettings } from '../src/fetch/client.js';
import { createTestServer, type TestServer } from './fixtures/server.js';

// src/fetch/undici.ts requires undici's internal files by path (lib/dispatcher/agent.js, lib/core/util.js, …) to
// keep start-up cheap. Those paths are not undici's public API: if an upgrade moves them, or adds an
// `exports` map that hides them, these tests fail, loudly, before any user's run does.
describe("undici, loaded by path (src/fetch/undici.ts)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({
      '/echo': (req, res, url) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${url.pathname}${url.search} ${req.headers['x-test'] ?? ''}`);
      },
    });
  });
  afterAll(() => server.close());

  it("gives undici's own classes, the ones `import 'undici'` gives", () => {
    expect(Agent).toBe(undici.Agent);
    expect(Pool).toBe(undici.Pool);
    const proxied = new EnvHttpProxyAgent({ httpProxy: 'http://127.0.0.1:9', httpsProxy: 'http://127.0.0.1:9' });
    expect(proxied).toBeInstanceOf(undici.EnvHttpProxyAgent);
    return proxied.close();
  });

  const settings: ClientSettings = { timeoutMs: 10_000, maxBytes: 1_000_000, headers: {} };
  const run = new AbortController().signal;
  const text = (body: Uint8Array | null): string => Buffer.from(body ?? new Uint8Array()).toString();

  it('sends a request through an Agent made here, read by volley\'s handler: method, path, query and headers as given', async () => {
    const dispatcher = new Agent();
    try {
      const res = await fetchOnce(dispatcher, new URL(`${server.url}/echo?a=1&b=2`), 'GET', true, settings, run, { 'x-test': 'yes' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(text(res.body)).toBe('GET /echo?a=1&b=2 yes');
      const head = await fetchOnce(dispatcher, new URL(`${server.url}/echo`), 'HEAD', true, settings, run);
      expect([head.status, head.body]).toEqual([200, null]);
    } finally {
      await dispatcher.close();
    }
  });

  it("sends a request through a caller's dispatcher made by undici's public entry", async () => {
    const dispatcher = new undici.Agent();
    try {
      const res = await fetchOnce(dispatcher, new URL(`${server.url}/echo`), 'GET', true, settings, run);
      expect(text(res.body)).toBe('GET /echo ');
    } finally {
      await dispatcher.close();
    }
  });

  it('rejects, never throws, for a URL undici cannot send', async () => {
    const dispatcher = new Agent();
    try {
      const sent = fetchOnce(dispatcher, new URL('ftp://127.0.0.1/'), 'GET', true, settings, run);
      await expect(sent).rejects.toMatchObject({ name: 'FetchError', cause: { code: 'UND_ERR_INVALID_ARG' } });
    } finally {
      await dispatcher.close();
    }
  });

  // src/fetch/undici-h2.ts: in a process where volley loads undici first (the CLI), undici's HTTP/2 code and
  // node:http2 are loaded by the first h2 connection, not at start-up. In a child process: this one has loaded
  // undici's public entry already, which leaves the stand-in out.
  it('loads node:http2 at the first h2 connection, not with the Agent, and h2 works then', () => {
    const dist = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      import { createRequire } from 'node:module';
      import { readFileSync } from 'node:fs';
      const { Agent } = await import(${dist('../dist/fetch/undici.js')});
      const { fetchOnce } = await import(${dist('../dist/fetch/client.js')});
      const { deferredH2File } = await import(${dist('../dist/fetch/undici-h2.js')});
      const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);
      const out = { http2AtLoad: loaded('http2'), tlsAtLoad: loaded('tls'), standIn: deferredH2File !== null && createRequire(import.meta.url).cache[deferredH2File]?.exports?.name === 'connectH2' };
      const pem = (name) => readFileSync(new URL(name, ${dist('./fixtures/tls/')}), 'utf8');
      const { createSecureServer } = await import('node:http2');
      const server = createSecureServer({ cert: pem('server.pem'), key: pem('server-key.pem'), allowHTTP1: true }, (req, res) => res.end('v' + req.httpVersion));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const agent = new Agent({ allowH2: true, connect: { ca: pem('ca.pem') } });
      const settings = { timeoutMs: 10000, maxBytes: 1000000, headers: {} };
      const res = await fetchOnce(agent, new URL('https://127.0.0.1:' + server.address().port + '/'), 'GET', true, settings, new AbortController().signal);
      out.body = Buffer.from(res.body).toString();
      await agent.close();
      server.close();
      console.log(JSON.stringify(out));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ http2AtLoad: false, tlsAtLoad: false, standIn: true, body: 'v2.0' });
  });
});
