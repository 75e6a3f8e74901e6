import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent, EnvHttpProxyAgent, Pool, request } from '../src/fetch/undici.js';
import { createTestServer, type TestServer } from './fixtures/server.js';

// src/fetch/undici.ts requires undici's internal files by path (lib/dispatcher/agent.js, lib/api/api-request.js,
// …) to keep start-up cheap. Those paths are not undici's public API: if an upgrade moves them, or adds an
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

  it('sends a request through an Agent made here: method, path, query and headers as given', async () => {
    const dispatcher = new Agent();
    try {
      const res = await request(new URL(`${server.url}/echo?a=1&b=2`), { dispatcher, method: 'GET', headers: { 'x-test': 'yes' } });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('GET /echo?a=1&b=2 yes');
      const head = await request(`${server.url}/echo`, { dispatcher, method: 'HEAD' });
      expect(head.statusCode).toBe(200);
      await head.body.dump();
    } finally {
      await dispatcher.close();
    }
  });

  it("sends a request through a caller's dispatcher made by undici's public entry", async () => {
    const dispatcher = new undici.Agent();
    try {
      const res = await request(`${server.url}/echo`, { dispatcher });
      expect(await res.body.text()).toBe('GET /echo ');
    } finally {
      await dispatcher.close();
    }
  });

  it('rejects, never throws, for a URL undici cannot send', async () => {
    const dispatcher = new Agent();
    try {
      const sent = request('ftp://127.0.0.1/', { dispatcher });
      await expect(sent).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
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
      const { Agent, request } = await import(${dist('../dist/fetch/undici.js')});
      const { deferredH2File } = await import(${dist('../dist/fetch/undici-h2.js')});
      const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);
      const out = { http2AtLoad: loaded('http2'), tlsAtLoad: loaded('tls'), standIn: deferredH2File !== null && createRequire(import.meta.url).cache[deferredH2File]?.exports?.name === 'connectH2' };
      const pem = (name) => readFileSync(new URL(name, ${dist('./fixtures/tls/')}), 'utf8');
      const { createSecureServer } = await import('node:http2');
      const server = createSecureServer({ cert: pem('server.pem'), key: pem('server-key.pem'), allowHTTP1: true }, (req, res) => res.end('v' + req.httpVersion));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const agent = new Agent({ allowH2: true, connect: { ca: pem('ca.pem') } });
      const res = await request('https://127.0.0.1:' + server.address().port + '/', { dispatcher: agent });
      out.body = await res.body.text();
      await agent.close();
      server.close();
      console.log(JSON.stringify(out));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ http2AtLoad: false, tlsAtLoad: false, standIn: true, body: 'v2.0' });
  });
});
