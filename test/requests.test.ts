import { describe, expect, it } from 'vitest';
import {
  FORM_CONTENT_TYPE,
  mergeHeaders,
  parseRequestLine,
  toRequestItem,
  type RequestItem,
} from '../src/source/requests.js';

const text = (item: RequestItem): string | null => (item.body === null ? null : new TextDecoder().decode(item.body));

describe('toRequestItem: valid requests', () => {
  it('takes a URL string as a GET of that URL, as a URL list does', () => {
    const item = toRequestItem('  https://example.com/a#frag ', 3);
    expect(item).toMatchObject({ index: 3, input: 'https://example.com/a#frag', error: null, method: 'GET', headers: {}, body: null, contentType: null });
    expect(item.url?.href).toBe('https://example.com/a');
    expect(item.meta).toBeUndefined();
    expect('timeoutMs' in item || 'retries' in item).toBe(false);
  });

  it('gives a string or an object without a method the run\'s method', () => {
    expect(toRequestItem('https://example.com/', 0, { method: 'HEAD' }).method).toBe('HEAD');
    expect(toRequestItem({ url: 'https://example.com/' }, 0, { method: 'DELETE' }).method).toBe('DELETE');
    expect(toRequestItem({ url: 'https://example.com/', method: 'PUT' }, 0, { method: 'DELETE' }).method).toBe('PUT');
  });

  const meta = { id: 7, tags: ['a'], at: new Date(0) };
  it.each<[string, Record<string, unknown>, Partial<RequestItem>, string | null]>([
    ['a bare object', { url: 'https://x.test/' }, { method: 'GET', body: null, contentType: null, headers: {} }, null],
    ['a method in any case', { url: 'https://x.test/', method: 'delete' }, { method: 'DELETE' }, null],
    ['a string body: no content type of its own', { url: 'https://x.test/', method: 'POST', body: 'héllo' }, { method: 'POST', contentType: null, headers: {} }, 'héllo'],
    [
      'a string body with the user\'s content type',
      { url: 'https://x.test/', method: 'POST', body: 'a,b', headers: { 'Content-Type': 'text/csv' } },
      { contentType: 'text/csv', headers: { 'content-type': 'text/csv' } },
      'a,b',
    ],
    [
      'URLSearchParams, form-encoded',
      { url: 'https://x.test/', method: 'POST', body: new URLSearchParams({ q: 'a b', n: 'é' }) },
      { contentType: FORM_CONTENT_TYPE, headers: { 'content-type': FORM_CONTENT_TYPE } },
      'q=a+b&n=%C3%A9',
    ],
    [
      'json, serialised with application/json',
      { url: 'https://x.test/', method: 'PATCH', json: { a: [1, null, 'x'] } },
      { method: 'PATCH', contentType: 'application/json', headers: { 'content-type': 'application/json' } },
      '{"a":[1,null,"x"]}',
    ],
    ['json null is a value', { url: 'https://x.test/', method: 'PUT', json: null }, { contentType: 'application/json' }, 'null'],
    [
      'json under the user\'s own JSON type',
      { url: 'https://x.test/', method: 'POST', json: 1, headers: { 'content-type': 'application/vnd.api+json' } },
      { contentType: 'application/vnd.api+json' },
      '1',
    ],
    ['body: null is no body', { url: 'https://x.test/', body: null }, { method: 'GET', body: null, contentType: null }, null],
    ['a body on DELETE', { url: 'https://x.test/', method: 'DELETE', body: 'x' }, { method: 'DELETE' }, 'x'],
    [
      'headers, names lower-cased',
      { url: 'https://x.test/', headers: { Authorization: 'Bearer t', 'X-Tenant': 'a' } },
      { headers: { authorization: 'Bearer t', 'x-tenant': 'a' } },
      null,
    ],
    ['meta, untouched', { url: 'https://x.test/', meta }, { meta }, null],
    ['own timeoutMs and retries', { url: 'https://x.test/', timeoutMs: 1500, retries: 0 }, { timeoutMs: 1500, retries: 0 }, null],
  ])('accepts %s', (_name, raw, expected, body) => {
    const item = toRequestItem(raw, 1);
    expect(item.error).toBeNull();
    expect(item.url?.href).toBe('https://x.test/');
    expect(item.input).toBe('https://x.test/');
    expect(item).toMatchObject(expected);
    expect(text(item)).toBe(body);
  });

  it('keeps meta as the same object and bytes as the same bytes', () => {
    const bytes = new Uint8Array([0, 255, 1]);
    const item = toRequestItem({ url: 'https://x.test/', method: 'POST', body: bytes, meta }, 0);
    expect(item.meta).toBe(meta);
    expect(item.body).toBe(bytes);
    expect(item.contentType).toBeNull();
  });
});

describe('toRequestItem: malformed requests are INVALID_REQUEST items naming the field', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each<[string, unknown, RegExp]>([
    ['a number', 42, /URL string or an object with a `url`/],
    ['an array', ['https://x.test/'], /URL string or an object/],
    ['a URL object', new URL('https://x.test/'), /URL object \(pass its href\)/],
    ['no url', { method: 'POST' }, /^`url` is missing$/],
    ['no url, a typo instead', { ulr: 'https://x.test/' }, /`url` is missing \(and unknown field "ulr"/],
    ['a url that is not a string', { url: 5 }, /`url` must be a string, got `5` \(number\)/],
    ['an unknown field', { url: 'https://x.test/', metod: 'POST' }, /unknown field "metod": a request has url, method, headers/],
    ['an unknown method', { url: 'https://x.test/', method: 'FETCH' }, /`method` must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got `FETCH`/],
    ['a method that is not a string', { url: 'https://x.test/', method: 1 }, /`method` must be one of/],
    ['headers that are not an object', { url: 'https://x.test/', headers: 'a: b' }, /`headers` must be an object of strings/],
    ['a header that is not a string', { url: 'https://x.test/', headers: { 'x-n': 1 } }, /header `x-n` must be a string, got a number/],
    ['an invalid header name', { url: 'https://x.test/', headers: { 'bad name': 'x' } }, /invalid header name `bad name`/],
    ['a CR/LF in a header value', { url: 'https://x.test/', headers: { 'x-a': 'a\r\nx-b: b' } }, /header `x-a` has a control character/],
    ['a framing header', { url: 'https://x.test/', method: 'POST', body: 'x', headers: { 'Content-Length': '1' } }, /`Content-Length` cannot be set per request/],
    ['one header twice', { url: 'https://x.test/', headers: { 'X-A': '1', 'x-a': '2' } }, /`X-A` and `x-a` are the same header/],
    ['body and json', { url: 'https://x.test/', method: 'POST', body: 'x', json: {} }, /`body` and `json` are both given/],
    ['a body on GET', { url: 'https://x.test/', body: 'x' }, /`method` GET cannot carry a `body`: set `method` to POST/],
    ['json on HEAD', { url: 'https://x.test/', method: 'HEAD', json: {} }, /`method` HEAD cannot carry a `json`/],
    ['a body of another type', { url: 'https://x.test/', method: 'POST', body: { a: 1 } }, /`body` must be a string, a Uint8Array or URLSearchParams.*use `json`/],
    ['json that is not JSON', { url: 'https://x.test/', method: 'POST', json: { n: 1n } }, /`json` must be a JSON value: json\.n is a bigint/],
    ['json undefined in an array', { url: 'https://x.test/', method: 'POST', json: [1, undefined] }, /json\[1\] is undefined/],
    ['meta with a function', { url: 'https://x.test/', meta: { f: () => 1 } }, /`meta` must be JSON-serialisable: meta\.f is a function/],
    ['meta with a cycle', { url: 'https://x.test/', meta: cyclic }, /meta\.self refers to itself/],
    ['meta with NaN', { url: 'https://x.test/', meta: { 'a-b': Number.NaN } }, /meta\["a-b"\] is NaN/],
    ['meta that is a Map', { url: 'https://x.test/', meta: new Map() }, /meta is a Map/],
    ['a timeoutMs of 0', { url: 'https://x.test/', timeoutMs: 0 }, /`timeoutMs` must be an integer from 1 to 2147483647, got `0` \(number\)/],
    ['a timeoutMs as a string', { url: 'https://x.test/', timeoutMs: '5s' }, /`timeoutMs` must be an integer.*`5s` \(string\)/],
    ['negative retries', { url: 'https://x.test/', retries: -1 }, /`retries` must be an integer from 0 to 100, got `-1`/],
    ['fractional retries', { url: 'https://x.test/', retries: 1.5 }, /`retries` must be an integer/],
  ])('rejects %s', (_name, raw, message) => {
    const item = toRequestItem(raw, 9);
    expect(item).toMatchObject({ index: 9, url: null, body: null, error: { code: 'INVALID_REQUEST' } });
    expect(item.error?.message).toMatch(message);
  });

  it('keeps the url as input and a valid meta on a failed item, so the row names its record', () => {
    const item = toRequestItem({ url: ' https://x.test/p ', method: 'FETCH', meta: { id: 12 } }, 0);
    expect(item).toMatchObject({ input: 'https://x.test/p', meta: { id: 12 }, error: { code: 'INVALID_REQUEST' } });
  });

  it('never echoes header values, which carry tokens', () => {
    const item = toRequestItem({ url: 'https://x.test/', headers: { authorization: 'Bearer s3cret\n' } }, 0);
    expect(item.error?.message).not.toContain('s3cret');
  });

  it('checks the URL as a URL list does: INVALID_URL and UNSUPPORTED_SCHEME keep their codes', () => {
    expect(toRequestItem({ url: 'not a url' }, 0).error?.code).toBe('INVALID_URL');
    expect(toRequestItem({ url: 'ftp://x.test/f', meta: 1 }, 0)).toMatchObject({ error: { code: 'UNSUPPORTED_SCHEME' }, url: null, meta: 1 });
    expect(toRequestItem('mailto:a@b.c', 0).error?.code).toBe('UNSUPPORTED_SCHEME');
  });
});

describe('mergeHeaders', () => {
  it('puts a request\'s headers over the run\'s, case-insensitively, names lower-cased', () => {
    const run = { 'user-agent': 'volley/1', Accept: 'text/html', 'x-run': 'r' };
    expect(mergeHeaders(run, { accept: 'application/json', 'x-own': 'o' })).toEqual({
      'user-agent': 'volley/1',
      accept: 'application/json',
      'x-run': 'r',
      'x-own': 'o',
    });
    expect(run).toEqual({ 'user-agent': 'volley/1', Accept: 'text/html', 'x-run': 'r' });
  });

  it('returns the run\'s own object when the request has no headers (no copy per request)', () => {
    const run = { 'user-agent': 'volley/1' };
    expect(mergeHeaders(run, toRequestItem('https://x.test/', 0).headers)).toBe(run);
  });
});

describe('parseRequestLine (--requests JSONL)', () => {
  it('reads a request object', () => {
    const item = parseRequestLine('{"url":"https://x.test/u","method":"POST","json":{"id":1},"meta":{"row":4}}', 2);
    expect(item).toMatchObject({ index: 2, error: null, method: 'POST', contentType: 'application/json', meta: { row: 4 } });
    expect(text(item)).toBe('{"id":1}');
  });

  it('ignores a byte order mark at the start of the file', () => {
    expect(parseRequestLine('\uFEFF{"url":"https://x.test/"}', 0).error).toBeNull();
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', 'https://x.test/', /^line is not JSON \(.*\): "https:\/\/x\.test\/"$/],
    ['cut JSON', '{"url":"https://x.test/"', /^line is not JSON/],
    ['a JSON string', '"https://x.test/"', /^line is JSON but a string, not a request object/],
    ['a JSON array', '[{"url":"https://x.test/"}]', /^line is JSON but an array, not a request object/],
    ['JSON null', 'null', /^line is JSON but null/],
    ['a number', '42', /^line is JSON but a number/],
  ])('makes a line that is %s an INVALID_REQUEST item saying which', (_name, line, message) => {
    const item = parseRequestLine(line, 5);
    expect(item).toMatchObject({ index: 5, url: null, error: { code: 'INVALID_REQUEST' } });
    expect(item.error?.message).toMatch(message);
  });

  it('echoes at most 200 characters of a bad line, credentials stripped', () => {
    const line = `not json https://user:pw@x.test/ ${'y'.repeat(5000)}`;
    const message = parseRequestLine(line, 0).error?.message ?? '';
    expect(message).not.toContain('pw@');
    expect(message).not.toContain('y'.repeat(201));
    expect(message.length).toBeLessThan(400);
  });

  it('checks the object like any request', () => {
    expect(parseRequestLine('{"url":"https://x.test/","body":"x"}', 0).error?.message).toMatch(/GET cannot carry a `body`/);
  });
});
