// Bodies, headers and validators in results (issue 13), against a real loopback server: each body checked byte for
// byte or character for character.
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAll, fetchEach, type VolleyOptions } from '../src/index.js';
import { normalizeOptions } from '../src/options.js';
import { runPipeline } from '../src/pipeline.js';
import { ByteBudget } from '../src/schedule/byte-budget.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

/** Shift_JIS HTML declared only by `<meta charset>`: 日本語のページ */
const SJIS_TEXT = '日本語のページ';
const SJIS_BYTES = Buffer.concat([
  Buffer.from('<html><head><meta charset="Shift_JIS"><title>'),
  Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x82, 0xcc, 0x83, 0x79, 0x81, 0x5b, 0x83, 0x57]),
  Buffer.from('</title></head><body>x</body></html>'),
]);
/** windows-1251 HTML declared only in the Content-Type: Привет, мир */
const CP1251_BYTES = Buffer.concat([
  Buffer.from('<html><head><title>'),
  Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x2c, 0x20, 0xec, 0xe8, 0xf0]),
  Buffer.from('</title></head></html>'),
]);
const JSON_VALUE = { name: 'Zoë', emoji: '🦊', list: [1, 2, 3], nested: { ok: true } };
const JSON_BYTES = Buffer.from(JSON.stringify(JSON_VALUE), 'utf8');
const TEXT = `plain text ${'é'.repeat(100)} ${'z'.repeat(5000)}\n`;
const BINARY = randomBytes(1024 * 1024);

let server: TestServer;
beforeAll(async () => {
  const send = (type: string | null, body: Buffer, extra: Record<string, string | string[]> = {}) =>
    (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { ...(type ? { 'content-type': type } : {}), 'content-length': body.length, ...extra });
      res.end(body);
    };
  server = await createTestServer({
    '/sjis': send('text/html', SJIS_BYTES),
    '/cp1251': send('text/html; charset=windows-1251', CP1251_BYTES),
    '/json-charset': send('application/json; charset=utf-8', JSON_BYTES),
    '/json-plain': send('application/json', JSON_BYTES),
    '/problem': send('application/problem+json', Buffer.from('{"title":"bad"}')),
    '/json-broken': send('application/json', Buffer.from('{"a": 1,\n "b": }')),
    '/text-gzip': (_req, res) => {
      const body = gzipSync(TEXT);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip', 'content-length': body.length });
      res.end(body);
    },
    '/json-br': (_req, res) => {
      const body = brotliCompressSync(JSON_BYTES);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
      res.end(body);
    },
    '/binary': send('application/octet-stream', BINARY),
    '/empty': (_req, res) => {
      res.writeHead(204, { etag: '"e"' });
      res.end();
    },
    '/validators': send('text/plain', Buffer.from('v'), {
      etag: 'W/"abc"',
      'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
      'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'],
      'x-one': 'single',
    }),
    '/page': send('text/html; charset=utf-8', Buffer.from(htmlPage('Kept and parsed', '<p>' + 'x'.repeat(40_000) + '</p>'))),
  });
});
afterAll(async () => {
  await server.close();
});

const one = async <const O extends VolleyOptions>(path: string, options: O) => {
  const [r] = await fetchAll([`${server.url}${path}`], { retries: 0, ...options });
  return r!;
};

describe("body: 'text'", () => {
  it('decodes Shift_JIS HTML by its <meta charset>', async () => {
    const r = await one('/sjis', { body: 'text' });
    expect(r.ok).toBe(true);
    expect(r.body).toBe(new TextDecoder('shift_jis').decode(SJIS_BYTES));
    expect(r.body).toContain(SJIS_TEXT);
    expect(r.title).toBe(SJIS_TEXT);
  });

  it('decodes windows-1251 HTML by the Content-Type charset', async () => {
    const r = await one('/cp1251', { body: 'text' });
    expect(r.body).toBe(new TextDecoder('windows-1251').decode(CP1251_BYTES));
    expect(r.body).toContain('Привет, мир');
  });

  it('decodes JSON as UTF-8 with and without a charset', async () => {
    for (const path of ['/json-charset', '/json-plain']) {
      const r = await one(path, { body: 'text' });
      expect(r.body).toBe(JSON_BYTES.toString('utf8'));
    }
  });

  it('undoes gzip and br before keeping the body', async () => {
    expect((await one('/text-gzip', { body: 'text' })).body).toBe(TEXT);
    expect((await one('/json-br', { body: 'text' })).body).toBe(JSON_BYTES.toString('utf8'));
  });

  it('keeps an empty 204 as an empty string', async () => {
    const r = await one('/empty', { body: 'text' });
    expect(r).toMatchObject({ ok: true, status: 204, body: '', bytes: 0, etag: '"e"' });
  });
});

describe("body: 'bytes'", () => {
  it('keeps a 1 MiB binary body byte for byte', async () => {
    const r = await one('/binary', { body: 'bytes' });
    expect(r.body).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(r.body!).equals(BINARY)).toBe(true);
    expect(r.bytes).toBe(BINARY.length);
  });

  it('keeps the decoded bytes of a gzip and a br body, and the raw bytes of a Shift_JIS page', async () => {
    expect(Buffer.from((await one('/text-gzip', { body: 'bytes' })).body!).equals(Buffer.from(TEXT))).toBe(true);
    expect(Buffer.from((await one('/json-br', { body: 'bytes' })).body!).equals(JSON_BYTES)).toBe(true);
    expect(Buffer.from((await one('/sjis', { body: 'bytes' })).body!).equals(SJIS_BYTES)).toBe(true);
  });

  it('keeps an empty 204 as zero bytes', async () => {
    const r = await one('/empty', { body: 'bytes' });
    expect(r.body).toEqual(new Uint8Array(0));
  });

  it('keeps no body past maxBytes: the result fails with TOO_LARGE', async () => {
    const r = await one('/binary', { body: 'bytes', maxBytes: 100_000 });
    expect(r).toMatchObject({ ok: false, status: 200, error: { code: 'TOO_LARGE' } });
    expect(r.body).toBeUndefined();
  });

  it('gives the page to the parser and keeps the bytes too', async () => {
    const r = await one('/page', { body: 'bytes' });
    expect(r.title).toBe('Kept and parsed');
    expect(Buffer.from(r.body!).toString('utf8')).toBe(htmlPage('Kept and parsed', '<p>' + 'x'.repeat(40_000) + '</p>'));
  });
});

describe("body: 'json'", () => {
  it('parses JSON with and without a charset, and +json types', async () => {
    expect((await one('/json-charset', { body: 'json' })).json).toEqual(JSON_VALUE);
    expect((await one('/json-plain', { body: 'json' })).json).toEqual(JSON_VALUE);
    expect((await one('/json-br', { body: 'json' })).json).toEqual(JSON_VALUE);
    expect((await one('/problem', { body: 'json' })).json).toEqual({ title: 'bad' });
  });

  it('fails a JSON body that does not parse with PARSE, naming the error and where it is', async () => {
    const r = await one('/json-broken', { body: 'json' });
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('PARSE');
    expect(r.error?.message).toMatch(/not valid JSON: .* at offset 15 \(line 2, column 7\)/);
  });

  it('gives json: null for a body that is not JSON, and stays ok', async () => {
    const r = await one('/page', { body: 'json' });
    expect(r).toMatchObject({ ok: true, json: null, title: 'Kept and parsed' });
  });
});

describe('headers and validators', () => {
  it('always has etag and lastModified, right after contentType', async () => {
    const r = await one('/validators', {});
    expect(r.etag).toBe('W/"abc"');
    expect(r.lastModified).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(r.headers).toBeUndefined();
    const keys = Object.keys(r);
    expect(keys.slice(keys.indexOf('contentType'), keys.indexOf('contentType') + 3)).toEqual(['contentType', 'etag', 'lastModified']);
    expect((await one('/ok', {})).etag).toBeNull();
  });

  it('has null validators and no headers when no response arrived', async () => {
    const [r] = await fetchAll(['http://127.0.0.1:1/'], { retries: 0, responseHeaders: true });
    expect(r).toMatchObject({ ok: false, etag: null, lastModified: null });
    expect(r!.headers).toBeUndefined();
  });

  it('adds the response headers with responseHeaders: names lower-cased, set-cookie as an array', async () => {
    const r = await one('/validators', { responseHeaders: true });
    expect(r.headers).toMatchObject({
      etag: 'W/"abc"',
      'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'],
      'x-one': 'single',
      'content-type': 'text/plain',
    });
  });

  it('adds the headers of an error status too', async () => {
    const r = await one('/status?code=404', { responseHeaders: true, body: 'text' });
    expect(r).toMatchObject({ ok: false, status: 404, headers: { 'content-type': 'text/plain' } });
    expect(r.body).toBeUndefined();
  });
});

describe('byte budget', () => {
  it('counts a kept body until the consumer takes its result, and nothing when no body is kept', async () => {
    const urls = ['/binary?a', '/binary?b', '/binary?c'].map((p) => `${server.url}${p}`);
    for (const [body, expected] of [['bytes', 2 * BINARY.length], [undefined, 0]] as const) {
      const budget = new ByteBudget(64 * 1024 * 1024);
      let done = 0;
      const options = normalizeOptions({ retries: 0, ...(body ? { body } : {}), onProgress: (p) => (done = p.done) });
      let heldWhileWaiting = -1;
      for await (const _entry of runPipeline(urls, options, { budget })) {
        if (heldWhileWaiting !== -1) continue;
        // The other two results are finished and wait for this consumer.
        while (done < 3) await new Promise((resolve) => setTimeout(resolve, 10));
        heldWhileWaiting = budget.held;
      }
      expect(heldWhileWaiting).toBe(expected);
      expect(budget.held).toBe(0);
    }
  });
});

describe('library types at run time', () => {
  it('yields bodies from fetchEach as it does from fetchAll', async () => {
    const seen: number[] = [];
    for await (const r of fetchEach([`${server.url}/binary`], { body: 'bytes', retries: 0 })) seen.push(r.body?.byteLength ?? -1);
    expect(seen).toEqual([BINARY.length]);
  });

  it('refuses a body form it does not know, naming the option', async () => {
    // @ts-expect-error not a body form
    await expect(fetchAll([], { body: 'base64' })).rejects.toThrow(/Expected `body` to be 'text', 'bytes' or 'json', got `base64` \(string\)/);
  });
});
