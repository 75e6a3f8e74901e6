// `save: { dir }` end to end against a loopback server: what is written, under which names, and that nothing a
// server sends (URLs, redirects) can make volley write outside the directory.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchAll, type FetchResult } from '../src/index.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** What the server sends for a path: its own bytes, so each file can be checked against the request it answered. */
const bodyOf = (path: string): Buffer => Buffer.from(`served ${path}\n${'-'.repeat(path.length * 7)}\n`);

const TYPES: Record<string, string> = {
  '/': 'text/html',
  '/docs/': 'text/html',
  '/list': 'application/json',
  '/a/b.txt': 'text/plain',
  '/img': 'image/png',
  '/d': 'text/html',
  '/d.html': 'text/html',
};

let server: Server;
let base: string;
let host: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/to') {
      // A redirect to whatever Location the test asks for, sent as is.
      res.writeHead(302, { location: url.searchParams.get('u') ?? '/' });
      return void res.end();
    }
    const body = bodyOf(req.url ?? '/');
    if (url.pathname === '/gz') {
      const zipped = gzipSync(body);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': zipped.length });
      return void res.end(zipped);
    }
    res.writeHead(200, { 'content-type': TYPES[url.pathname] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  host = `127.0.0.1_${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
});

let parent: string;
let dir: string;
let outside: string;
beforeEach(async () => {
  parent = await realpath(await mkdtemp(join(tmpdir(), 'volley-save-')));
  dir = join(parent, 'save');
  outside = join(parent, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'victim.txt'), 'untouched');
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** Every path under `root`, relative, sorted (links listed, not followed). */
async function listTree(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).map((e) => e.split(sep).join('/')).sort();
}

/** Every saved row's file exists under DIR, holds what the server sent for the row's final URL, and has its sha256. */
async function expectSavedFiles(results: FetchResult[]): Promise<void> {
  for (const r of results.filter((x) => x.savedAs !== undefined)) {
    const file = resolve(dir, r.savedAs!);
    expect(file.startsWith(dir + sep)).toBe(true);
    expect(await realpath(file)).toBe(file);
    const bytes = await readFile(file);
    // The request-target as sent: an empty query stays (`/d?` is asked for as `/d?`, as browsers do).
    const target = r.finalUrl!.slice(new URL(r.finalUrl!).origin.length);
    expect(bytes.equals(bodyOf(target))).toBe(true);
    expect(r.sha256).toBe(sha(bytes));
  }
}

describe('save', () => {
  it('writes every 2xx body under DIR with its sha256, gzip decoded; error statuses are not saved', async () => {
    const paths = ['/', '/docs/', '/a/b.txt', '/gz', '/img', '/to?u=/a/b.txt'];
    const results = await fetchAll(paths.map((p) => base + p), { retries: 0, save: { dir } });
    expect(results.every((r) => r.ok)).toBe(true);
    await expectSavedFiles(results);
    // A redirect saves the body it led to, under the final URL's name.
    expect(results[5]!.savedAs).toBe(`${host}/a/b.txt`);
    const failed = await fetchAll([`${base}/to?u=${encodeURIComponent('http://127.0.0.1:1/')}`], { retries: 0, save: { dir } });
    expect(failed[0]!.savedAs).toBeUndefined();
  });

  it('names files by the default template', async () => {
    const expected: [string, string][] = [
      ['/', `${host}/index.html`],
      ['/docs/', `${host}/docs/index.html`],
      ['/list?page=2', `${host}/list@page=2.json`],
      ['/a/b.txt', `${host}/a/b.txt`],
      ['/img', `${host}/img.png`],
    ];
    const results = await fetchAll(expected.map(([p]) => base + p), { retries: 0, concurrency: 1, save: { dir } });
    expect(results.map((r) => r.savedAs)).toEqual(expected.map(([, name]) => name));
    await expectSavedFiles(results);
  });

  it('names files by a template of its own', async () => {
    const results = await fetchAll([`${base}/img`, `${base}/a/b.txt`], { retries: 0, save: { dir, name: 'by-index/{index}.{ext}' } });
    expect(results.map((r) => r.savedAs)).toEqual(['by-index/0.png', 'by-index/1.txt']);
    const hashed = await fetchAll([`${base}/img`], { retries: 0, save: { dir, name: '{sha256}' } });
    expect(hashed[0]!.savedAs).toBe(sha(bodyOf('/img')));
  });

  it('never lets two URLs that map to one name overwrite each other', async () => {
    // /d (HTML, no extension) and /d.html are both d.html; /Case and /case meet on case-insensitive file systems.
    const paths = ['/d', '/d.html', '/Case', '/case', '/d?'];
    const results = await fetchAll(paths.map((p) => base + p), { retries: 0, save: { dir } });
    const names = results.map((r) => r.savedAs);
    expect(new Set(names.map((n) => n?.toLowerCase())).size).toBe(paths.length);
    expect(names.filter((n) => /\/d(-\d)?\.html$/.test(n ?? ''))).toHaveLength(3);
    expect(names.some((n) => n!.endsWith('-1.html') || n!.endsWith('-1.bin') || n!.endsWith('-1'))).toBe(true);
    await expectSavedFiles(results);
  });

  it('never gives a resumed run the names an earlier run saved', async () => {
    const first = await fetchAll([`${base}/d`], { retries: 0, save: { dir } });
    const second = await fetchAll([`${base}/d.html`], { retries: 0, save: { dir, existing: [first[0]!.savedAs!] } });
    expect(second[0]!.savedAs).toBe(`${host}/d-1.html`);
    await expectSavedFiles([...first, ...second]);
  });

  it('refuses a template that could leave DIR, at start-up', async () => {
    await expect(fetchAll([], { save: { dir, name: '../{path}' } })).rejects.toThrow(/may not contain `\.` or `\.\.` segments/);
    await expect(fetchAll([], { save: { dir, name: '/abs/{path}' } })).rejects.toThrow(/relative to the save directory/);
    await expect(fetchAll([], { save: { dir, name: '{nope}' } })).rejects.toThrow(/Unknown placeholder `\{nope\}`/);
  });
});

describe('nothing escapes DIR', () => {
  const attempts = [
    '/%2e%2e/%2e%2e/escape-dots',
    '/.%2E/.%2e/escape-mixed-dots',
    '/a%2f..%2f..%2fescape-slash',
    '/a%2F..%2F..%2F..%2Foutside%2Fvictim.txt',
    '/..%5c..%5cescape-backslash',
    '/a\\..\\..\\escape-raw-backslash',
    '/nul%00byte',
    '/con',
    '/COM1.txt',
    '/aux.tar.gz',
    '/.volley-tmp-0123456789abcdef',
    '/trailing.%20.',
    `/${'long'.repeat(100)}`,
    '/%2e%2e',
  ];
  const redirects = [
    '/%2e%2e/%2e%2e/redirect-dots',
    '../../../../redirect-relative',
    '..%2F..%2Fredirect-slash',
    '/x%5C..%5C..%5Credirect-backslash',
    '/%252e%252e/redirect-double-encoded',
  ].map((location) => `/to?u=${encodeURIComponent(location)}`);

  it('keeps each attempt, sent as a URL and as a redirect, inside DIR', async () => {
    const before = await listTree(parent);
    const results = await fetchAll([...attempts, ...redirects].map((p) => base + p), { retries: 0, save: { dir } });
    const after = await listTree(parent);
    // Everything new is inside DIR; nothing outside it changed.
    expect(after.filter((p) => p !== 'save' && !p.startsWith('save/'))).toEqual(before.filter((p) => p !== 'save' && !p.startsWith('save/')));
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.savedAs !== undefined)).toHaveLength(results.length);
    await expectSavedFiles(results);
    // Every name is one the writer's own check accepts: no `..`, no separators inside a part, no device names.
    for (const r of results) {
      for (const part of r.savedAs!.split('/')) {
        expect(part).not.toMatch(/^\.\.?$|[\\\0:]|^(con|aux|nul|com\d)(\.|$)/i);
        expect(part.startsWith('.volley-tmp-')).toBe(false);
        expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255);
      }
    }
  });

  it('does not follow a symbolic link already inside DIR: that URL fails with WRITE, the run goes on', async () => {
    await mkdir(join(dir, host), { recursive: true });
    await symlink(outside, join(dir, host, 'linked'));
    const before = await listTree(outside);
    const results = await fetchAll([`${base}/linked/victim.txt`, `${base}/a/b.txt`], { retries: 0, save: { dir } });
    expect(results[0]).toMatchObject({ ok: false, status: 200, error: { code: 'WRITE' } });
    expect(results[0]!.error!.message).toMatch(/ELOOP/);
    expect(results[0]!.savedAs).toBeUndefined();
    expect(results[1]).toMatchObject({ ok: true, savedAs: `${host}/a/b.txt` });
    expect(await listTree(outside)).toEqual(before);
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
  });
});

describe('writeFileAtomic with checkedDirs', () => {
  it('remembers the directories it made, and never one that failed the check', async () => {
    const { writeFileAtomic } = await import('../src/keep/atomic-write.js');
    const checked = new Set<string>();
    await writeFileAtomic(dir, 'h/a/one.txt', new Uint8Array([1]), checked);
    await writeFileAtomic(dir, 'h/a/two.txt', new Uint8Array([2]), checked);
    expect([...checked]).toEqual(['h/a']);
    expect(await listTree(dir)).toEqual(['h', 'h/a', 'h/a/one.txt', 'h/a/two.txt']);
    await symlink(outside, join(dir, 'h', 'link'));
    await expect(writeFileAtomic(dir, 'h/link/x.txt', new Uint8Array([3]), checked)).rejects.toMatchObject({ code: 'WRITE' });
    expect(checked.has('h/link')).toBe(false);
    expect(await listTree(outside)).toEqual(['victim.txt']);
  });
});
