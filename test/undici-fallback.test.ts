import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import * as undici from 'undici';
import { loadUndiciParts } from '../src/fetch/undici.js';
import type { ClientSettings } from '../src/fetch/client.js';
import { createTestServer, type TestServer } from './fixtures/server.js';

// src/fetch/undici.ts loads undici's files by path, which are not undici's API. When a release moves them
// (MODULE_NOT_FOUND), hides them behind an `exports` map (ERR_PACKAGE_PATH_NOT_EXPORTED) or changes what they
// export, volley must still run, from undici's public entry: these tests take the paths away and send requests.

const realRequire = createRequire(import.meta.url);

/** A require in which undici's files below lib/ are not there, the way `code` says; everything else loads. */
function requireWithout(code: string): (id: string) => unknown {
  return (id) => {
    if (id.startsWith('undici/lib/')) throw Object.assign(new Error(`Cannot find module '${id}'`), { code });
    return realRequire(id);
  };
}

describe('undici by path, with the paths gone (loadUndiciParts)', () => {
  it.each(['MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED'])("falls back to undici's public entry on %s", (code) => {
    const parts = loadUndiciParts(requireWithout(code));
    expect(parts.from).toBe('entry');
    expect(parts.Agent).toBe(undici.Agent);
    expect(parts.Pool).toBe(undici.Pool);
    expect(parts.parseHeaders).toBe(undici.util.parseHeaders);
  });

  it('falls back when a file is there but no longer exports what it did', () => {
    const parts = loadUndiciParts((id) => (id === 'undici/lib/core/util.js' ? { parseHeadersV2: () => ({}) } : realRequire(id)));
    expect(parts.from).toBe('entry');
    expect(parts.parseHeaders).toBe(undici.util.parseHeaders);
  });

  it('takes the paths when they are there', () => {
    expect(loadUndiciParts(realRequire).from).toBe('paths');
  });

  it('throws any other load error: a broken undici is not a moved file', () => {
    const broken = (id: string): unknown => {
      if (id.startsWith('undici/lib/')) throw new SyntaxError('Unexpected token');
      return realRequire(id);
    };
    expect(() => loadUndiciParts(broken)).toThrow(SyntaxError);
  });

  it("parses a raw header list with the public entry's parseHeaders as with the file's", () => {
    const raw = ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2'].map((s) => Buffer.from(s));
    const { parseHeaders } = loadUndiciParts(requireWithout('MODULE_NOT_FOUND'));
    expect(parseHeaders(raw)).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });
});

// The whole fetch path in a module graph where undici.ts found none of its paths: node:module's createRequire
// gives it a require without undici's lib/ files, so its Agent and the parseHeaders that fetch/client.ts reads
// every response with come from the public entry.
describe('a request sent with the fallback in place', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({
      '/echo': (req, res, url) => {
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${url.pathname}${url.search} ${req.headers['x-test'] ?? ''}`);
      },
    });
  });
  afterAll(async () => {
    vi.doUnmock('node:module');
    vi.resetModules();
    await server.close();
  });

  it("sends a request to a loopback server and reads its response with undici's public entry alone", async () => {
    vi.resetModules();
    vi.doMock('node:module', async (importOriginal) => {
      const real = await importOriginal<typeof import('node:module')>();
      const without = (url: string | URL) => {
        const load = real.createRequire(url);
        return Object.assign((id: string) => {
          if (id.startsWith('undici/lib/')) throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
          return load(id);
        }, load);
      };
      return { ...real, default: { ...real, createRequire: without }, createRequire: without };
    });
    const { Agent, undiciLoadedFrom } = await import('../src/fetch/undici.js');
    const { fetchOnce } = await import('../src/fetch/client.js');
    expect(undiciLoadedFrom).toBe('entry');
    const settings: ClientSettings = { timeoutMs: 10_000, maxBytes: 1_000_000, headers: {} };
    const dispatcher = new Agent();
    try {
      const res = await fetchOnce(dispatcher, new URL(`${server.url}/echo?a=1`), 'GET', true, settings, new AbortController().signal, { 'x-test': 'yes' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(Buffer.from(res.body ?? new Uint8Array()).toString()).toBe('GET /echo?a=1 yes');
    } finally {
      await dispatcher.close();
    }
  });
});
