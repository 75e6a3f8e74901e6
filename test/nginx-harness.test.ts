import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNginx, NGINX_MISSING, startNginx, type NginxServer } from './fixtures/nginx.js';

const nginx = findNginx();
if (!nginx) console.warn(`skipping test/nginx-harness.test.ts: ${NGINX_MISSING}`);

describe.skipIf(!nginx)('nginx harness: a real server that does validators itself', () => {
  let server: NginxServer;
  const dispatcher = new Agent();

  beforeAll(async () => {
    server = await startNginx({ files: { 'a.html': '<title>a</title>', 'b.txt': 'bee', 'sub/c.html': '<title>c</title>' } });
  });
  afterAll(async () => {
    await dispatcher.close();
    await server?.stop();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${server.url}${path}`, { dispatcher, headers });
    const body = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body };
  };

  it('serves the files with ETag and Last-Modified', async () => {
    const a = await get('/a.html');
    expect(a.status).toBe(200);
    expect(a.body).toBe('<title>a</title>');
    expect(a.headers['content-type']).toMatch(/^text\/html/);
    expect(a.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(a.headers['last-modified']).toMatch(/GMT$/);
    expect((await get('/sub/c.html')).status).toBe(200);
    expect((await get('/missing.html')).status).toBe(404);
  });

  it('answers 304 to If-None-Match with the ETag, and to If-Modified-Since with the Last-Modified', async () => {
    const first = await get('/b.txt');
    const byTag = await get('/b.txt', { 'if-none-match': String(first.headers.etag) });
    expect(byTag.status).toBe(304);
    expect(byTag.body).toBe('');
    const byDate = await get('/b.txt', { 'if-modified-since': String(first.headers['last-modified']) });
    expect(byDate.status).toBe(304);
  });

  it('answers 200 with new validators after the file is touched', async () => {
    const before = await get('/a.html');
    const later = new Date(Date.parse(String(before.headers['last-modified'])) + 3600_000);
    utimesSync(join(server.root, 'a.html'), later, later);
    const after = await get('/a.html', {
      'if-none-match': String(before.headers.etag),
      'if-modified-since': String(before.headers['last-modified']),
    });
    expect(after.status).toBe(200);
    expect(after.body).toBe('<title>a</title>');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.headers['last-modified']).toBe(later.toUTCString());
    expect((await get('/a.html', { 'if-none-match': String(after.headers.etag) })).status).toBe(304);
  });

  it('stop() ends nginx and removes its folder: the port refuses connections', async () => {
    const other = await startNginx({ files: { 'x.txt': 'x' } });
    const probe = new Agent();
    try {
      const res = await request(`${other.url}/x.txt`, { dispatcher: probe });
      expect(await res.body.text()).toBe('x');
      await other.stop();
      expect(existsSync(other.root)).toBe(false);
      await expect(request(`${other.url}/x.txt`, { dispatcher: probe })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await probe.close();
      await other.stop();
    }
  });
});
