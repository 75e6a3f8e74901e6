// Reading --requests files (source/request-lines.ts) and the pieces of the CLI that key and show request work.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { FetchError } from '../src/errors.js';
import { MAX_REQUEST_LINE_BYTES, readRequestLines, RequestLine } from '../src/source/request-lines.js';
import { toRequestItem } from '../src/source/requests.js';
import { OverlongLine } from '../src/source/url-input.js';
import { noteFinished, workKey } from '../src/cli/resume.js';
import { csvEncoder } from '../src/sink/csv.js';
import type { FetchResult } from '../src/result.js';

async function linesOf(text: string | Buffer[]): Promise<RequestLine[]> {
  const out: RequestLine[] = [];
  for await (const line of readRequestLines(Readable.from(typeof text === 'string' ? [Buffer.from(text)] : text))) out.push(line);
  return out;
}

describe('readRequestLines', () => {
  it('yields one RequestLine per line, skipping blank lines and # comments, CRLF or LF', async () => {
    const lines = await linesOf('{"url":"http://a/1"}\r\n\r\n# note\n  \n{"url":" http://a/2 ","meta":{"k":[1]}}\nnot json\n{"url":"http://a/3"}');
    expect(lines.map((l) => l.url)).toEqual(['http://a/1', 'http://a/2', null, 'http://a/3']);
    expect(lines[1]!.meta).toEqual({ k: [1] });
    expect(lines[2]!.value).toBeInstanceOf(FetchError);
    expect((lines[2]!.value as FetchError).code).toBe('INVALID_REQUEST');
  });

  it('joins a line split across chunks and ignores a byte order mark', async () => {
    const lines = await linesOf([Buffer.from('\uFEFF{"url":"http:'), Buffer.from('//a/x","method":"POST","json":{"a":1}}\n')]);
    expect(lines).toHaveLength(1);
    expect(toRequestItem(lines[0], 0)).toMatchObject({ error: null, method: 'POST', contentType: 'application/json' });
  });

  it('takes lines far longer than a URL (a request carries its body), up to 16 MiB', async () => {
    const body = 'x'.repeat(200_000);
    const [line] = await linesOf(`${JSON.stringify({ url: 'http://a/big', method: 'POST', body })}\n`);
    const item = toRequestItem(line, 0);
    expect(item.error).toBeNull();
    expect(item.body?.byteLength).toBe(200_000);
  });

  it('makes a line over the limit an INVALID_REQUEST that echoes only its start', () => {
    const line = new RequestLine(new OverlongLine(`{"url":"http://a/","body":"${'y'.repeat(300)}`, MAX_REQUEST_LINE_BYTES + 5));
    const item = toRequestItem(line, 4);
    expect(item).toMatchObject({ index: 4, url: null, error: { code: 'INVALID_REQUEST' } });
    expect(item.error!.message).toMatch(/^line is 16777221 bytes, over the 16 MiB limit of a request line: "\{\\"url\\"/);
    expect(item.error!.message.length).toBeLessThan(320);
  });
});

describe('toRequestItem takes what the line readers yield', () => {
  it('an overlong URL line is INVALID_URL, as in a URL list', () => {
    expect(toRequestItem(new OverlongLine('http://a/', 70_000), 0)).toMatchObject({ error: { code: 'INVALID_URL' }, method: 'GET', meta: undefined });
  });

  it('a request line is checked as the object it holds, its meta kept even when it fails', () => {
    const item = toRequestItem(new RequestLine('{"url":"http://a/","method":"FETCH","meta":{"row":3}}'), 1);
    expect(item).toMatchObject({ index: 1, input: 'http://a/', error: { code: 'INVALID_REQUEST' }, meta: { row: 3 } });
  });
});

describe('--resume keys', () => {
  it('keys work by url alone without meta (as before), by url and meta with it', () => {
    expect(workKey('http://a/', undefined)).toBe('http://a/');
    expect(workKey('http://a/', { id: 1 })).not.toBe(workKey('http://a/', { id: 2 }));
    expect(workKey('http://a/', null)).not.toBe(workKey('http://a/', undefined));
  });

  it('matches a row written from a request line to that line, and skips rows that are not final', () => {
    const line = new RequestLine('{"url":"http://a/","method":"POST","json":{},"meta":{"id":1,"tags":["x"],"n":1.5}}');
    const done = new Set<string>();
    const result = { url: 'http://a/', meta: line.meta, ok: true, error: null };
    noteFinished(done, JSON.parse(JSON.stringify(result)) as { url: string });
    noteFinished(done, { url: 'http://a/', meta: { id: 2 }, error: { code: 'CANCELLED' } });
    expect(done).toEqual(new Set([workKey(line.url!, line.meta)]));
  });
});

describe('CSV meta column', () => {
  const row = (meta: unknown): FetchResult =>
    ({ url: 'http://h/', ...(meta === undefined ? {} : { meta }), finalUrl: null, ok: false, status: null, error: null, contentType: null, bytes: 0, elapsedMs: 0, attempts: 0, redirects: 0, title: null, description: null }) as FetchResult;

  it('comes right after url, holding the meta as JSON (a number as itself, none empty)', () => {
    const enc = csvEncoder({ meta: true, canonical: false, lang: false, links: false, select: [] });
    expect(enc.header().split(',').slice(0, 3)).toEqual(['url', 'meta', 'finalUrl']);
    expect(enc.record(row({ id: 1, s: 'a,b' }), true)).toMatch(/^http:\/\/h\/,"\{""id"":1,""s"":""a,b""\}",/);
    expect(enc.record(row(-3), false)).toMatch(/^http:\/\/h\/,-3,/);
    // A JSON string starts with its quote, never with a formula's first character.
    expect(enc.record(row('=cmd'), false)).toMatch(/^http:\/\/h\/,"""=cmd""",/);
    expect(enc.record(row(undefined), false)).toMatch(/^http:\/\/h\/,,/);
  });

  it('is absent unless asked for', () => {
    expect(csvEncoder({ canonical: false, lang: false, links: false, select: [] }).header()).not.toContain('meta');
  });
});
