import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchAll, type FetchResult } from '../src/index.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';
import { findNginx, NGINX_MISSING, startNginx, type NginxServer } from './fixtures/nginx.js';

// Issue 14: second runs that cost little (conditional re-fetch), dead hosts that cost little (circuit breaker),
// statuses the user accepts.

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const nginx = findNginx();
if (!nginx) console.warn(`skipping the nginx cases of test/unattended.test.ts: ${NGINX_MISSING}`);

function run(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

const rows = (path: string): FetchResult[] => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FetchResult);
const validatorsOf = (results: FetchResult[]) => new Map(results.map((r) => [r.url, { etag: r.etag, lastModified: r.lastModified }]));

describe.skipIf(!nginx)('conditional re-fetch against nginx, which does validators itself', () => {
  let server: NginxServer;
  let dir: string;
  const names = Array.from({ length: 6 }, (_, i) => `p${i}.html`);

  beforeAll(async () => {
    server = await startNginx({ files: Object.fromEntries(names.map((n) => [n, htmlPage(n)])) });
    dir = mkdtempSync(join(tmpdir(), 'volley-since-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('first run 200 with validators; second run all 304 and nothing parsed; touched files come back 200 with new ones', async () => {
    const urls = names.map((n) => `${server.url}/${n}`);
    const first = await fetchAll(urls);
    for (const r of first) {
      expect(r).toMatchObject({ ok: true, status: 200 });
      expect(r.etag).toMatch(/^"/);
      expect(r.lastModified).toMatch(/GMT$/);
      expect(r.title).toMatch(/^p\d\.html$/);
    }

    const second = await fetchAll(urls, { validators: validatorsOf(first) });
    for (const [i, r] of second.entries()) {
      expect(r).toMatchObject({ ok: true, status: 304, notModified: true, bytes: 0, title: null, etag: first[i]?.etag, lastModified: first[i]?.lastModified });
    }

    // Touch two files a minute into the future: exactly those change.
    const later = new Date(Date.now() + 60_000);
    for (const n of [names[1], names[4]]) utimesSync(join(server.root, n as string), later, later);
    const third = await fetchAll(urls, { validators: validatorsOf(second) });
    const changed = third.filter((r) => r.status === 200).map((r) => r.url);
    expect(changed).toEqual([urls[1], urls[4]]);
    for (const i of [1, 4]) {
      expect(third[i]?.etag).not.toBe(first[i]?.etag);
      expect(third[i]?.title).toBe(names[i]);
    }
    expect(third.filter((r) => r.notModified).length).toBe(4);
  });

  it('--since FILE: the CLI sends what the last run wrote, counts "not modified", and its output feeds the next run', async () => {
    const list = join(dir, 'list.txt');
    const fs = await import('node:fs');
    fs.writeFileSync(list, names.map((n) => `${server.url}/${n}`).join('\n'));
    const night1 = join(dir, 'night1.jsonl');
    const night2 = join(dir, 'night2.jsonl');
    const night3 = join(dir, 'night3.jsonl');
    expect((await run([list, '-o', night1, '-q'])).code).toBe(0);
    const second = await run([list, '-o', night2, '--since', night1]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`not modified: ${names.length}`);
    expect(rows(night2).every((r) => r.notModified && r.etag)).toBe(true);
    // Tonight's output is tomorrow's --since: the validators carried on.
    const third = await run([list, '-o', night3, '--since', night2, '-q']);
    expect(third.code).toBe(0);
    expect(rows(night3).every((r) => r.status === 304)).toBe(true);
  });
});

describe('validators at the fixture server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({
      '/v': (req, res) => {
        const etag = '"v1"';
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag });
          return void res.end();
        }
        res.writeHead(200, { 'content-type': 'text/html', etag, 'last-modified': 'Sun, 06 Nov 1994 08:49:37 GMT' });
        res.end(htmlPage('v'));
      },
      // A 304 that leaves the validators out: the stored ones carry on.
      '/bare-304': (_req, res) => {
        res.writeHead(304);
        res.end();
      },
    });
  });
  afterAll(() => server.close());

  it('sends If-None-Match and If-Modified-Since on the URL they were stored for, and none on a redirect hop', async () => {
    const start = `${server.url}/to?u=${encodeURIComponent('/v?hop=1')}`;
    const validators = new Map([
      [`${server.url}/v`, { etag: '"v1"', lastModified: 'Sun, 06 Nov 1994 08:49:37 GMT' }],
      [start, { etag: '"v1"' }],
    ]);
    const [direct, viaRedirect] = await fetchAll([`${server.url}/v`, start], { validators });
    expect(direct).toMatchObject({ ok: true, status: 304, notModified: true });
    const sent = server.log.requests.find((r) => r.path === '/v');
    expect(sent?.headers['if-none-match']).toBe('"v1"');
    expect(sent?.headers['if-modified-since']).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    // The redirect's target is another URL: asked without validators, so it answers 200 in full.
    expect(viaRedirect).toMatchObject({ ok: true, status: 200, title: 'v', redirects: 1 });
    expect(server.log.requests.find((r) => r.path === '/v?hop=1')?.headers['if-none-match']).toBeUndefined();
  });

  it('carries the stored validators into a 304 that omits them', async () => {
    const url = `${server.url}/bare-304`;
    const [r] = await fetchAll([url], { validators: new Map([[url, { etag: '"e"', lastModified: 'Mon, 07 Nov 1994 08:00:00 GMT' }]]) });
    expect(r).toMatchObject({ ok: true, notModified: true, etag: '"e"', lastModified: 'Mon, 07 Nov 1994 08:00:00 GMT' });
  });

  it('treats a 304 nobody asked for as the status it is', async () => {
    const [r] = await fetchAll([`${server.url}/bare-304`]);
    expect(r).toMatchObject({ ok: false, status: 304, error: { code: 'HTTP_STATUS' } });
    expect(r?.notModified).toBeUndefined();
  });

  it('accept: statuses the user counts as ok', async () => {
    const [notFound, teapot] = await fetchAll([`${server.url}/status?code=404`, `${server.url}/status?code=418`], { accept: '200..299,404' });
    expect(notFound).toMatchObject({ ok: true, status: 404, error: null });
    expect(teapot).toMatchObject({ ok: false, status: 418, error: { code: 'HTTP_STATUS' } });
    await expect(fetchAll([], { accept: '2xx' })).rejects.toThrow(/accept/);
  });
});

describe('the dead-host circuit breaker', () => {
  /** Accepts connections, reads requests, never answers: the host that costs hours without a breaker. */
  let silent: Server;
  let port: number;
  let requests = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.on('data', (d) => (requests += d.toString('latin1').split('\r\n\r\n').length - 1));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('skips a host after N consecutive timeouts: its other URLs end as HOST_SKIPPED, never requested', async () => {
    requests = 0;
    const urls = Array.from({ length: 300 }, (_, i) => `http://127.0.0.1:${port}/p${i}`);
    const results = await fetchAll(urls, { timeoutMs: 300, retries: 2, retryBaseMs: 1, maxHostErrors: 10, perHost: 4, extract: false });
    expect(results).toHaveLength(300);
    const skipped = results.filter((r) => r.error?.code === 'HOST_SKIPPED');
    expect(skipped.length).toBeGreaterThan(250);
    expect(skipped[0]?.error?.message).toMatch(/skipped after 10 consecutive failures \(last: TIMEOUT\)/);
    // Most were never requested; the few with attempts were on the wire, or waiting for a retry, when it tripped.
    expect(skipped.filter((r) => r.attempts === 0).length).toBeGreaterThan(250);
    // About N attempts' worth (plus those already on the wire), not 300 × 3.
    expect(requests).toBeLessThanOrEqual(10 + 4);
  });

  it('with 0, never skips', async () => {
    requests = 0;
    const urls = Array.from({ length: 12 }, (_, i) => `http://127.0.0.1:${port}/q${i}`);
    const results = await fetchAll(urls, { timeoutMs: 200, retries: 0, maxHostErrors: 0, extract: false });
    expect(results.every((r) => r.error?.code === 'TIMEOUT')).toBe(true);
    expect(requests).toBe(12);
  });

  it('a response resets the count: a host that recovers is fetched normally', async () => {
    const healthy = await createTestServer();
    try {
      const urls = Array.from({ length: 30 }, (_, i) => (i % 5 === 0 ? `${healthy.url}/hang?i=${i}` : `${healthy.url}/ok?i=${i}`));
      const results = await fetchAll(urls, { timeoutMs: 200, retries: 0, maxHostErrors: 2, concurrency: 1, extract: false });
      expect(results.filter((r) => r.error?.code === 'HOST_SKIPPED')).toHaveLength(0);
    } finally {
      await healthy.close();
    }
  });

  it('the CLI lists skipped hosts in the summary', async () => {
    const urls = Array.from({ length: 20 }, (_, i) => `http://127.0.0.1:${port}/c${i}`);
    const { code, stderr, stdout } = await run([...urls, '-t', '200ms', '--retries', '0', '--max-host-errors', '3', '--no-extract']);
    expect(code).toBe(1);
    expect(stdout.trim().split('\n')).toHaveLength(20);
    expect(stderr).toContain(`skipped hosts (--max-host-errors): 127.0.0.1:${port}`);
    expect(stderr).toContain('HOST_SKIPPED');
  });
});
