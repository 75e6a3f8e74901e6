import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, getGlobalDispatcher } from 'undici';
import nock from 'nock';
import { fetchAll } from '../src/index.js';
import { closedPort, createTestServer, type TestServer } from './fixtures/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await createTestServer();
});
afterAll(async () => {
  await server.close();
});

const fast = { retries: 0, retryBaseMs: 5 };
async function one(path: string, options: Parameters<typeof fetchAll>[1] = {}) {
  const [result] = await fetchAll([`${server.url}${path}`], { ...fast, ...options });
  return result!;
}

describe('per-URL failures are results, with stable codes', () => {
  it('fetches an ok page and extracts its title and description', async () => {
    const r = await one('/ok?t=Hello');
    expect(r).toMatchObject({ ok: true, status: 200, error: null, title: 'Hello', description: 'About Hello', attempts: 1, redirects: 0 });
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.contentType).toBe('text/html; charset=utf-8');
  });

  it('waits for a slow server within the deadline', async () => {
    const r = await one('/slow?ms=300', { timeoutMs: 10_000 });
    expect(r).toMatchObject({ ok: true, title: 'slow 300' });
  });

  it('cuts a server that never answers at the deadline with TIMEOUT', async () => {
    const r = await one('/hang', { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, status: null, error: { code: 'TIMEOUT' } });
  });

  it('aborts a request that trickles past its deadline, although bytes keep coming', async () => {
    const r = await one('/trickle', { timeoutMs: 700 });
    expect(r.error?.code).toBe('TIMEOUT');
    expect(r.status).toBe(200);
    expect(r.error?.message).toContain('700 ms');
  });

  it('reports a connection reset mid-body as RESET', async () => {
    const r = await one('/reset');
    expect(r).toMatchObject({ ok: false, error: { code: 'RESET' } });
  });

  it('stops a huge body at maxBytes with TOO_LARGE', async () => {
    const r = await one('/big?mb=20', { maxBytes: 1024 * 1024 });
    expect(r).toMatchObject({ ok: false, status: 200, error: { code: 'TOO_LARGE' } });
  });

  it('reads a big body under the cap', async () => {
    const r = await one('/big?mb=3', { maxBytes: 4 * 1024 * 1024 });
    expect(r).toMatchObject({ ok: true, bytes: 3 * 1024 * 1024, title: null });
  });

  it.each([
    ['/gzip', 'gzipped'],
    ['/br', 'brotli'],
    ['/deflate', 'deflated'],
    ['/deflate-raw', 'raw deflate'],
  ])('decompresses %s', async (path, title) => {
    const r = await one(path);
    expect(r).toMatchObject({ ok: true, title });
  });

  it('stops a gzip bomb (1 GiB decoded) at the cap on decoded bytes', async () => {
    const r = await one('/gzip-bomb', { maxBytes: 2 * 1024 * 1024 });
    expect(r).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });

  it('reports a body that is not what its Content-Encoding says as DECODE', async () => {
    const r = await one('/bad-gzip');
    expect(r).toMatchObject({ ok: false, error: { code: 'DECODE' } });
  });

  it('follows a redirect chain and reports the final URL and the count', async () => {
    const r = await one('/redirect?n=3');
    expect(r).toMatchObject({ ok: true, status: 200, finalUrl: `${server.url}/ok?t=landed`, redirects: 3, title: 'landed' });
  });

  it('fails a chain longer than maxRedirects with TOO_MANY_REDIRECTS', async () => {
    const r = await one('/redirect?n=5', { maxRedirects: 2 });
    expect(r).toMatchObject({ ok: false, error: { code: 'TOO_MANY_REDIRECTS' } });
  });

  it('fails a redirect loop with TOO_MANY_REDIRECTS', async () => {
    const r = await one('/loop-a');
    expect(r).toMatchObject({ ok: false, error: { code: 'TOO_MANY_REDIRECTS' } });
  });

  it('reports a non-2xx status as HTTP_STATUS with the status', async () => {
    const r = await one('/status?code=404');
    expect(r).toMatchObject({ ok: false, status: 404, error: { code: 'HTTP_STATUS', message: 'HTTP 404 Not Found' } });
  });

  it('honours Retry-After on 429 and succeeds on the retry', async () => {
    const r = await one('/429?after=1&k=a', { retries: 2 });
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 2, title: 'after 429' });
  });

  it('honours Retry-After given as an HTTP-date', async () => {
    const r = await one('/429?after=1&date&k=b', { retries: 1 });
    expect(r).toMatchObject({ ok: true, attempts: 2 });
  });

  it('does not wait for a Retry-After longer than maxRetryAfterMs', async () => {
    const r = await one('/429?after=3600&k=c', { retries: 3, maxRetryAfterMs: 5_000 });
    expect(r).toMatchObject({ ok: false, status: 429, attempts: 1, error: { code: 'HTTP_STATUS' } });
  });

  it('retries a 503 that recovers on the third try', async () => {
    const r = await one('/flaky?k=1', { retries: 2 });
    expect(r).toMatchObject({ ok: true, attempts: 3, title: 'recovered' });
    expect(server.hits('/flaky?k=1')).toBe(3);
  });

  it('gives up after `retries` and reports the last status', async () => {
    const r = await one('/flaky?k=2', { retries: 1 });
    expect(r).toMatchObject({ ok: false, status: 503, attempts: 2, error: { code: 'HTTP_STATUS' } });
  });

  it('does not retry a 404', async () => {
    const r = await one('/status?code=404&k=x', { retries: 3 });
    expect(r.attempts).toBe(1);
  });

  it('reports a closed port as CONNECT, after retrying it', async () => {
    const port = await closedPort();
    const [r] = await fetchAll([`http://127.0.0.1:${port}/`], { retries: 1, retryBaseMs: 5 });
    expect(r).toMatchObject({ ok: false, status: null, error: { code: 'CONNECT' }, attempts: 2 });
  });

  it('reports an unresolvable host as DNS and does not retry it', async () => {
    // The resolver is injected through the dispatcher: the test never asks a real DNS server.
    const dispatcher = new Agent({
      connect: {
        lookup: (hostname, _opts, cb) =>
          cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '', 4),
      },
    });
    const [r] = await fetchAll(['http://no-such-host.invalid/'], { dispatcher, retries: 2, retryBaseMs: 5 });
    await dispatcher.close();
    expect(r).toMatchObject({ ok: false, error: { code: 'DNS' }, attempts: 1 });
  });

  it("sends every request through a caller's dispatcher: nock's, answering for a host that does not exist", async () => {
    // Injection is the point here; every fault code is tested against the real loopback server.
    nock('http://mocked.example').get('/page').reply(200, '<title>from nock</title>', { 'content-type': 'text/html' });
    try {
      const [r] = await fetchAll(['http://mocked.example/page'], { dispatcher: getGlobalDispatcher(), retries: 0 });
      expect(r).toMatchObject({ ok: true, status: 200, title: 'from nock' });
      expect(nock.isDone()).toBe(true);
    } finally {
      nock.cleanAll();
    }
  });

  it('turns invalid lines and other schemes into results', async () => {
    const results = await fetchAll(['not a url', 'ftp://example.com/file', '', 'http://[::1', 'mailto:a@b.c'], fast);
    expect(results.map((r) => r.error?.code)).toEqual(['INVALID_URL', 'UNSUPPORTED_SCHEME', 'INVALID_URL', 'INVALID_URL', 'UNSUPPORTED_SCHEME']);
    expect(results.every((r) => r.ok === false && r.attempts === 0)).toBe(true);
  });

  it('refuses a redirect to a non-http scheme', async () => {
    const r = await one('/to-ftp');
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('UNSUPPORTED_SCHEME');
  });

  it('keeps a JSON response unparsed but reports it', async () => {
    const r = await one('/json');
    expect(r).toMatchObject({ ok: true, status: 200, contentType: 'application/json', title: null });
    expect(r.bytes).toBeGreaterThan(10);
  });

  it('parses malformed HTML without failing', async () => {
    const r = await one('/malformed');
    expect(r).toMatchObject({ ok: true, title: 'Broken <b>page' });
  });
});
