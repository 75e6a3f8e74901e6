import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as undici from 'undici';
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
});
