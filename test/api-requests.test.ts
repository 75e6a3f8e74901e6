// Issue 15 end to end through fetchAll: request objects with their method, headers, body and meta; RFC 9110's
// retry rule for POST and PATCH, counted at the server; the Fetch standard's method and body rules on redirects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, buildConnector } from 'undici';
import { fetchAll, fetchEach, type VolleyRequest } from '../src/index.js';
import type { Method } from '../src/source/requests.js';
import { closedPort } from './fixtures/server.js';
import { createEchoServer, type EchoServer } from './fixtures/echo-server.js';

// One parse thread: titles prove which page came back, and the test machines are small.
const fast = { retries: 0, retryBaseMs: 5, threads: 1 };
let server: EchoServer;
beforeAll(async () => {
  server = await createEchoServer();
});
afterAll(async () => {
  await server.close();
});

const one = (path: string) => {
  const seen = server.at(path);
  expect(seen).toHaveLength(1);
  return seen[0]!;
};

describe('request objects: what arrives at the server', () => {
  it('sends each item\'s method, headers, body bytes and content type exactly as given', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const items: VolleyRequest[] = [
      { url: `${server.url}/echo?i=0`, method: 'POST', json: { a: [1, 'two', null], ü: true } },
      { url: `${server.url}/echo?i=1`, method: 'PUT', body: bytes },
      { url: `${server.url}/echo?i=2`, method: 'PATCH', body: new URLSearchParams({ q: 'a b', r: 'ü' }) },
      { url: `${server.url}/echo?i=3`, method: 'DELETE' },
      { url: `${server.url}/echo?i=4`, method: 'OPTIONS', headers: { 'X-Both': 'item', 'X-Item': 'four' } },
      { url: `${server.url}/echo?i=5`, method: 'post' as Method, body: 'plain text, ü', headers: { 'Content-Type': 'text/plain; charset=utf-8' } },
      { url: `${server.url}/echo?i=6`, method: 'HEAD' },
    ];
    const results = await fetchAll([...items, `${server.url}/echo?i=7`], { ...fast, headers: { 'X-Run': 'run', 'x-both': 'run' } });
    expect(results.map((r) => [r.ok, r.status])).toEqual(items.concat([{ url: '' }]).map(() => [true, 200]));

    const expected: [string, string, Buffer, string | undefined][] = [
      ['/echo?i=0', 'POST', Buffer.from('{"a":[1,"two",null],"ü":true}'), 'application/json'],
      ['/echo?i=1', 'PUT', Buffer.from(bytes), undefined],
      ['/echo?i=2', 'PATCH', Buffer.from('q=a+b&r=%C3%BC'), 'application/x-www-form-urlencoded;charset=UTF-8'],
      ['/echo?i=3', 'DELETE', Buffer.alloc(0), undefined],
      ['/echo?i=4', 'OPTIONS', Buffer.alloc(0), undefined],
      ['/echo?i=5', 'POST', Buffer.from('plain text, ü'), 'text/plain; charset=utf-8'],
      ['/echo?i=6', 'HEAD', Buffer.alloc(0), undefined],
      ['/echo?i=7', 'GET', Buffer.alloc(0), undefined],
    ];
    for (const [path, method, body, contentType] of expected) {
      const got = one(path);
      expect([path, got.method, got.headers['content-type']]).toEqual([path, method, contentType]);
      expect(got.body.equals(body)).toBe(true);
      if (body.length > 0) expect(got.headers['content-length']).toBe(String(body.length));
      expect(got.headers['x-run']).toBe('run');
    }
    // Per-request headers merge over the run's, case-insensitively: one x-both, the item's.
    expect(one('/echo?i=4').headers).toMatchObject({ 'x-both': 'item', 'x-item': 'four', 'x-run': 'run' });
    expect(one('/echo?i=0').headers['x-both']).toBe('run');
    expect(one('/echo?i=0').headers['x-item']).toBeUndefined();
  });

  it('extracts from any method\'s 2xx HTML response (HEAD has no body)', async () => {
    const [post, put, head] = await fetchAll(
      [
        { url: `${server.url}/echo?x=post`, method: 'POST', json: {} },
        { url: `${server.url}/echo?x=put`, method: 'PUT', body: 'x' },
        { url: `${server.url}/echo?x=head`, method: 'HEAD' },
      ],
      fast,
    );
    expect(post).toMatchObject({ ok: true, title: 'POST /echo?x=post' });
    expect(put).toMatchObject({ ok: true, title: 'PUT /echo?x=put' });
    expect(head).toMatchObject({ ok: true, title: null, bytes: 0 });
  });

  it('takes a request\'s own timeoutMs and retries over the run\'s', async () => {
    const [slow, once, twice] = await fetchAll(
      [
        { url: `${server.url}/hang?t=own`, timeoutMs: 150 },
        { url: `${server.url}/status?code=503&r=0`, retries: 0 },
        { url: `${server.url}/status?code=503&r=1`, retries: 1 },
      ],
      { ...fast, timeoutMs: 20_000, retries: 3 },
    );
    expect(slow).toMatchObject({ ok: false, error: { code: 'TIMEOUT', message: expect.stringContaining('150 ms') } });
    expect(once).toMatchObject({ status: 503, attempts: 1 });
    expect(twice).toMatchObject({ status: 503, attempts: 2 });
  });
});

describe('meta', () => {
  it('comes back untouched on its own item\'s result, failed ones included', async () => {
    const metas = [{ id: 1, tags: ['a', 'b'] }, 'two', 3, null, [4], { nested: { deep: true } }];
    const port = await closedPort();
    const items: VolleyRequest[] = [
      { url: `${server.url}/echo?m=0`, method: 'POST', json: { n: 0 }, meta: metas[0] },
      { url: `${server.url}/echo?m=1`, meta: metas[1] },
      { url: `${server.url}/status?code=404&m=2`, meta: metas[2] },
      { url: `http://127.0.0.1:${port}/`, meta: metas[3] },
      { url: 'not a url', meta: metas[4] },
      { url: `${server.url}/echo`, method: 'FETCH' as Method, meta: metas[5] },
    ];
    const results = await fetchAll([...items, `${server.url}/echo?m=none`], fast);
    results.slice(0, 6).forEach((r, i) => expect(r.meta).toBe(metas[i]));
    expect(results.map((r) => r.error?.code ?? null)).toEqual([null, null, 'HTTP_STATUS', 'CONNECT', 'INVALID_URL', 'INVALID_REQUEST', null]);
    // Right after url, where a JSON row shows it; absent for a URL string.
    expect(Object.keys(results[0]!).slice(0, 2)).toEqual(['url', 'meta']);
    expect('meta' in results[6]!).toBe(false);
  });

  it('comes back with each result of fetchEach, in completion order', async () => {
    const ids: unknown[] = [];
    for await (const r of fetchEach([0, 1, 2].map((i) => ({ url: `${server.url}/echo?each=${i}`, meta: { i } })), fast)) ids.push(r.meta);
    expect(ids).toHaveLength(3);
    expect(new Set(ids.map((m) => (m as { i: number }).i))).toEqual(new Set([0, 1, 2]));
  });
});

describe('malformed request objects', () => {
  it('are INVALID_REQUEST results naming the field, and the run goes on', async () => {
    const results = await fetchAll(
      [
        {} as VolleyRequest,
        { url: `${server.url}/echo?bad=1`, method: 'POST', body: 'x', json: 1 },
        { url: `${server.url}/echo?bad=2`, method: 'GET', body: 'x' },
        { url: `${server.url}/echo?bad=3`, metod: 'POST' } as unknown as VolleyRequest,
        42 as unknown as string,
        `${server.url}/echo?good`,
      ],
      fast,
    );
    expect(results.map((r) => r.error?.code ?? 'ok')).toEqual(['INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST', 'ok']);
    expect(results.map((r) => r.error?.message ?? '')).toEqual([
      '`url` is missing',
      '`body` and `json` are both given: send one of them',
      '`method` GET cannot carry a `body`: set `method` to POST, PUT or PATCH',
      expect.stringMatching(/^unknown field "metod"/),
      'a request must be a URL string or an object with a `url`, got `42` (number)',
      '',
    ]);
    expect(results.slice(0, 5).every((r) => r.attempts === 0)).toBe(true);
    expect(server.received.filter((r) => r.path.startsWith('/echo?bad'))).toHaveLength(0);
  });

  it('never de-duplicates requests that carry a body, headers or meta', async () => {
    const url = `${server.url}/echo?dedupe`;
    const results = await fetchAll(
      [url, url, { url, method: 'POST', json: 1 }, { url, method: 'POST', json: 1 }, { url, meta: 'a' }, { url, headers: { 'x-t': '1' } }, { url, method: 'HEAD' }],
      { ...fast, dedupe: true },
    );
    expect(results).toHaveLength(6);
    // The second bare GET was the only repeat.
    expect(server.at('/echo?dedupe').map((r) => r.method).sort()).toEqual(['GET', 'GET', 'GET', 'HEAD', 'POST', 'POST']);
  });
});

describe('retries follow RFC 9110 §9.2.2 (counted at the server)', () => {
  const retrying = { ...fast, retries: 2, timeoutMs: 300 };

  it('makes a POST that timed out after the server read it once; a PUT is retried', async () => {
    const [post, put] = await fetchAll(
      [
        { url: `${server.url}/hang?m=post`, method: 'POST', json: { order: 1 } },
        { url: `${server.url}/hang?m=put`, method: 'PUT', json: { order: 1 } },
      ],
      retrying,
    );
    expect(post).toMatchObject({ ok: false, error: { code: 'TIMEOUT' }, attempts: 1 });
    expect(server.at('/hang?m=post')).toHaveLength(1);
    expect(server.at('/hang?m=post')[0]!.body.toString()).toBe('{"order":1}');
    expect(put).toMatchObject({ ok: false, error: { code: 'TIMEOUT' }, attempts: 3 });
    expect(server.at('/hang?m=put')).toHaveLength(3);
  });

  it('makes a PATCH whose connection broke after the server read it once', async () => {
    const [r] = await fetchAll([{ url: `${server.url}/drop?m=patch`, method: 'PATCH', body: 'x' }], retrying);
    expect(r).toMatchObject({ ok: false, error: { code: 'RESET' }, attempts: 1 });
    expect(server.at('/drop?m=patch')).toHaveLength(1);
  });

  it('retries a POST refused at connect, and the server gets it once', async () => {
    // The first connection goes to a port that refuses it (a real ECONNREFUSED); the next ones reach the server.
    const refusing = await closedPort();
    const connect = buildConnector({});
    let connects = 0;
    const dispatcher = new Agent({
      connect: (options, callback) => connect(connects++ === 0 ? { ...options, port: String(refusing) } : options, callback),
    });
    try {
      const [r] = await fetchAll([{ url: `${server.url}/echo?m=refused-once`, method: 'POST', json: { id: 9 } }], { ...retrying, dispatcher });
      expect(r).toMatchObject({ ok: true, status: 200, attempts: 2 });
      expect(server.at('/echo?m=refused-once')).toHaveLength(1);
      expect(server.at('/echo?m=refused-once')[0]!.body.toString()).toBe('{"id":9}');
    } finally {
      await dispatcher.destroy();
    }
  });

  it('retries a POST to a port that keeps refusing up to the retry count', async () => {
    const [r] = await fetchAll([{ url: `http://127.0.0.1:${await closedPort()}/`, method: 'POST', body: 'x' }], retrying);
    expect(r).toMatchObject({ ok: false, error: { code: 'CONNECT' }, attempts: 3 });
  });

  it('retries a POST the server refused with 429 or 503 and a Retry-After; not without one, nor a 500', async () => {
    const post = (path: string): VolleyRequest => ({ url: `${server.url}${path}`, method: 'POST', json: { path } });
    const [r429, r503, bare, r500, put500] = await fetchAll(
      [
        post('/refuse-once?k=429'),
        post('/refuse-once?k=503&s=503'),
        post('/refuse-once?k=bare&s=503&bare'),
        post('/status?code=500&m=post'),
        { url: `${server.url}/status?code=500&m=put`, method: 'PUT', body: 'x' },
      ],
      retrying,
    );
    expect(r429).toMatchObject({ ok: true, attempts: 2 });
    expect(server.at('/refuse-once?k=429')).toHaveLength(2);
    expect(r503).toMatchObject({ ok: true, attempts: 2 });
    expect(bare).toMatchObject({ ok: false, status: 503, attempts: 1 });
    expect(server.at('/refuse-once?k=bare&s=503&bare')).toHaveLength(1);
    expect(r500).toMatchObject({ ok: false, status: 500, attempts: 1 });
    expect(put500).toMatchObject({ ok: false, status: 500, attempts: 3 });
  });

  it('retries a POST like a GET with retryUnsafe (dangerous: the server got it three times)', async () => {
    const [r] = await fetchAll([{ url: `${server.url}/hang?m=unsafe`, method: 'POST', body: 'x' }], { ...retrying, retryUnsafe: true });
    expect(r).toMatchObject({ error: { code: 'TIMEOUT' }, attempts: 3 });
    expect(server.at('/hang?m=unsafe')).toHaveLength(3);
  });
});

describe('redirects per the Fetch standard (method and body at the next hop)', () => {
  // [status, method sent, method at the target, body kept]
  it.each<[number, Method, Method, boolean]>([
    [301, 'POST', 'GET', false],
    [302, 'POST', 'GET', false],
    [303, 'POST', 'GET', false],
    [307, 'POST', 'POST', true],
    [308, 'POST', 'POST', true],
    [301, 'PUT', 'PUT', true],
    [302, 'PATCH', 'PATCH', true],
    [303, 'PUT', 'GET', false],
    [303, 'DELETE', 'GET', false],
    [303, 'HEAD', 'HEAD', false],
    [307, 'PATCH', 'PATCH', true],
    [308, 'PUT', 'PUT', true],
  ])('%i: %s arrives as %s (body kept: %s)', async (status, method, after, kept) => {
    const target = `/echo?redirected=${status}-${method}`;
    const body = method === 'HEAD' ? undefined : `{"s":${status}}`;
    const request: VolleyRequest = { url: `${server.url}/to?s=${status}&u=${encodeURIComponent(target)}`, method, headers: { 'x-keep': 'yes' } };
    if (body !== undefined) Object.assign(request, { body, headers: { 'x-keep': 'yes', 'content-type': 'application/json' } });
    const [r] = await fetchAll([request], fast);
    expect(r).toMatchObject({ ok: true, status: 200, redirects: 1, finalUrl: `${server.url}${target}` });
    const got = one(target);
    expect(got.method).toBe(after);
    expect(got.headers['x-keep']).toBe('yes');
    if (kept) {
      expect(got.body.toString()).toBe(body);
      expect(got.headers['content-type']).toBe('application/json');
    } else {
      expect(got.body).toHaveLength(0);
      expect(got.headers['content-type']).toBeUndefined();
      expect(got.headers['content-length'] ?? '0').toBe('0');
    }
  });
});
