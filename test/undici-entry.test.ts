import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { Agent, EnvHttpProxyAgent, parseHeaders, Pool, undiciRequest } from '../src/fetch/undici.js';
import { fetchOnce, type ClientSettings } from '../src/fetch/client.js';
import { createTestServer, type TestServer } from './fixtures/server.js';

// src/fetch/undici.ts takes undici through its public entry only (no file of undici by path: those are its
// internals, which a minor release may move). These tests pin that what volley uses is undici's own, and that
// volley's handler sends and reads requests through dispatchers made by either side.
describe("undici, through its public entry (src/fetch/undici.ts)", () => {
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

  it("gives undici's own classes and header parser, the ones `import 'undici'` gives", () => {
    expect(Agent).toBe(undici.Agent);
    expect(Pool).toBe(undici.Pool);
    expect(parseHeaders).toBe(undici.util.parseHeaders);
    expect(undiciRequest()).toBe(undici.request);
    expect(parseHeaders([Buffer.from('Set-Cookie'), Buffer.from('a'), Buffer.from('set-cookie'), Buffer.from('b')])).toEqual({ 'set-cookie': ['a', 'b'] });
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
});
