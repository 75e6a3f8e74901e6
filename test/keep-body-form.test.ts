import { describe, expect, it } from 'vitest';
import { isJsonType, isTextual, keepBody, parseJsonBody, serialisedBody } from '../src/keep/body-form.js';
import { jsonErrorOffset, lineAndColumn } from '../src/keep/json-error.js';
import { decodeText } from '../src/parse/decode.js';
import { FetchError } from '../src/errors.js';
import { CP1251_TITLE_BYTES, SJIS_TITLE_BYTES } from './fixtures/server.js';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

function parseError(fn: () => unknown): FetchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).code).toBe('PARSE');
    return err as FetchError;
  }
  throw new Error('expected a PARSE error');
}

describe("body: 'text'", () => {
  it('decodes Shift_JIS HTML declared only by <meta charset>', () => {
    const page = Buffer.concat([ascii('<html><head><meta charset="shift_jis"><title>'), Buffer.from(SJIS_TITLE_BYTES), ascii('</title></head></html>')]);
    const { body } = keepBody(page, 'text/html', 'text');
    expect(body).toBe('<html><head><meta charset="shift_jis"><title>日本語</title></head></html>');
  });

  it('decodes windows-1251 HTML declared only in the Content-Type header', () => {
    const page = Buffer.concat([ascii('<title>'), Buffer.from(CP1251_TITLE_BYTES), ascii('</title>')]);
    expect(keepBody(page, 'text/html; charset=windows-1251', 'text').body).toBe('<title>Привет</title>');
  });

  it('falls back to windows-1252 for unlabelled HTML, and lets a BOM win over the header', () => {
    expect(keepBody(Buffer.from([0x3c, 0x70, 0x3e, 0xe9]), 'text/html', 'text').body).toBe('<p>é');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('<p>é')]);
    expect(keepBody(bom, 'text/html; charset=windows-1251', 'text').body).toBe('<p>é');
  });

  it('reads JSON and other text as UTF-8 by default, never windows-1252', () => {
    expect(keepBody(utf8('{"name":"Zoë"}'), 'application/json', 'text').body).toBe('{"name":"Zoë"}');
    expect(keepBody(utf8('naïve'), 'text/plain', 'text').body).toBe('naïve');
    expect(keepBody(utf8('let s = "ü"'), 'text/javascript', 'text').body).toBe('let s = "ü"');
  });

  it('does not let a <meta> inside a JSON string change how JSON is read', () => {
    const json = utf8('{"html":"<meta charset=\\"windows-1251\\">","name":"Zoë"}');
    expect(decodeText(json, 'application/json')).toBe('{"html":"<meta charset=\\"windows-1251\\">","name":"Zoë"}');
  });

  it('honours a charset label on a non-HTML type, and skips an unknown one', () => {
    expect(decodeText(Buffer.from(CP1251_TITLE_BYTES), 'text/plain; charset=windows-1251')).toBe('Привет');
    expect(decodeText(utf8('ü'), 'text/plain; charset=no-such-thing')).toBe('ü');
  });

  it('honours an XML declaration, with UTF-8 as the XML default', () => {
    const xml = Buffer.concat([ascii('<?xml version="1.0" encoding="windows-1251"?><t>'), Buffer.from(CP1251_TITLE_BYTES), ascii('</t>')]);
    expect(decodeText(xml, 'application/xml')).toBe('<?xml version="1.0" encoding="windows-1251"?><t>Привет</t>');
    expect(decodeText(utf8('<t>ü</t>'), 'application/rss+xml')).toBe('<t>ü</t>');
  });

  it('decodes UTF-16 by its BOM', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":"ü"}', 'utf16le')]);
    expect(decodeText(le, 'application/json')).toBe('{"a":"ü"}');
  });

  it('gives an empty string for an empty body', () => {
    expect(keepBody(new Uint8Array(0), 'text/html', 'text').body).toBe('');
    expect(keepBody(new Uint8Array(0), null, 'text').body).toBe('');
  });
});

describe("body: 'bytes'", () => {
  it('keeps a binary body byte for byte, without copying', () => {
    const bin = new Uint8Array(256).map((_, i) => i);
    const { body } = keepBody(bin, 'application/octet-stream', 'bytes');
    expect(body).toBe(bin);
    expect([...body]).toEqual([...Array(256).keys()]);
  });

  it('keeps an empty body as an empty array', () => {
    expect(keepBody(new Uint8Array(0), null, 'bytes').body).toHaveLength(0);
  });
});

describe("body: 'json'", () => {
  it('parses JSON without a charset', () => {
    expect(keepBody(utf8('{"a":[1,2],"b":"Zoë"}'), 'application/json', 'json')).toEqual({ json: { a: [1, 2], b: 'Zoë' } });
  });

  it('parses JSON with a charset, and +json types', () => {
    expect(keepBody(utf8('{"ok":true}'), 'application/json; charset=utf-8', 'json').json).toEqual({ ok: true });
    expect(keepBody(utf8('{"title":"Not Found"}'), 'application/problem+json', 'json').json).toEqual({ title: 'Not Found' });
    expect(keepBody(Buffer.from([0x22, ...CP1251_TITLE_BYTES, 0x22]), 'application/json; charset=windows-1251', 'json').json).toBe('Привет');
  });

  it('parses JSON that starts with a BOM', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('[1,"ü"]')]);
    expect(keepBody(body, 'application/json', 'json').json).toEqual([1, 'ü']);
  });

  it('gives json: null for a type that is not JSON, and stays quiet about the body', () => {
    expect(keepBody(utf8('<html>not json'), 'text/html', 'json')).toEqual({ json: null });
    expect(keepBody(utf8('{"looks":"like json"}'), 'text/plain', 'json')).toEqual({ json: null });
    expect(keepBody(utf8('{}'), null, 'json')).toEqual({ json: null });
  });

  it('gives json: null for an empty JSON body (a 204)', () => {
    expect(keepBody(new Uint8Array(0), 'application/json', 'json')).toEqual({ json: null });
  });

  it('fails with PARSE naming the error and its offset, line and column', () => {
    expect(parseError(() => parseJsonBody(utf8('{"a":}'), 'application/json')).message).toBe(
      "the body is not valid JSON: Unexpected token '}' at offset 5 (line 1, column 6)",
    );
    expect(parseError(() => parseJsonBody(utf8('{\n  "a": 1,\n  "b": tru\n}'), 'application/json')).message).toBe(
      "the body is not valid JSON: Unexpected token '\\n' at offset 22 (line 3, column 11)",
    );
    expect(parseError(() => parseJsonBody(utf8('{"a":1'), 'application/json')).message).toBe(
      "the body is not valid JSON: Expected ',' or '}' after property value at offset 6 (line 1, column 7)",
    );
    expect(parseError(() => parseJsonBody(utf8('[1] x'), 'application/json')).message).toBe(
      'the body is not valid JSON: Unexpected non-whitespace character after JSON at offset 4 (line 1, column 5)',
    );
    expect(parseError(() => parseJsonBody(utf8('<html>'), 'application/json')).message).toBe(
      "the body is not valid JSON: Unexpected token '<' at offset 0 (line 1, column 1)",
    );
    expect(parseError(() => parseJsonBody(utf8('{"a":"'), 'application/json')).message).toMatch(/^the body is not valid JSON: .* at offset 6 \(line 1, column 7\)$/);
  });

  it('does not echo a long body into the message', () => {
    const big = `{"a":"${'x'.repeat(5000)}",}`;
    const { message } = parseError(() => parseJsonBody(utf8(big), 'application/json'));
    expect(message.length).toBeLessThan(200);
    expect(message).toContain(`at offset ${big.length - 1}`);
  });
});

describe('jsonErrorOffset', () => {
  it('agrees with JSON.parse on validity, and with its position wherever V8 gives one', () => {
    const seeds = ['{"a":[1,2,{"b":null}],"c":"x\\u00e9\\n","d":-1.5e+3,"e":true,"f":false}', '[]', '{}', '"s"', '0', '[[[]]]', ' {"k" : [ 1 , 2 ] } '];
    const alphabet = '{}[]",:-+.eE0123456789tfnulrs \\\n\u0001a';
    let state = 42;
    const random = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 5000; k++) {
      let s = seeds[Math.floor(random() * seeds.length)]!;
      for (let e = 0; e < 1 + Math.floor(random() * 3); e++) {
        const p = Math.floor(random() * (s.length + 1));
        const ch = alphabet[Math.floor(random() * alphabet.length)]!;
        const op = random();
        s = op < 0.33 ? s.slice(0, p) + ch + s.slice(p) : op < 0.66 ? s.slice(0, p) + s.slice(p + 1) : s.slice(0, p) + ch + s.slice(p + 1);
      }
      let v8: string | null = null;
      try {
        JSON.parse(s);
      } catch (err) {
        v8 = (err as Error).message;
      }
      const offset = jsonErrorOffset(s);
      expect(offset === null, s).toBe(v8 === null);
      const position = v8 === null ? null : /at position (\d+)/.exec(v8);
      if (position) expect(offset, s).toBe(Number(position[1]));
    }
  });

  it('survives deep nesting', () => {
    expect(jsonErrorOffset('['.repeat(100_000) + ']'.repeat(100_000))).toBeNull();
    expect(jsonErrorOffset('['.repeat(100_000))).toBe(100_000);
  });

  it('counts lines and columns from 1', () => {
    expect(lineAndColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('isTextual and isJsonType', () => {
  it.each([
    ['text/html; charset=utf-8', true],
    ['text/plain', true],
    ['text/csv', true],
    ['application/json', true],
    ['application/ld+json', true],
    ['application/xml', true],
    ['application/atom+xml', true],
    ['image/svg+xml', true],
    ['application/javascript', true],
    ['text/javascript', true],
    ['application/xhtml+xml', true],
    ['application/octet-stream', false],
    ['image/png', false],
    ['application/pdf', false],
    ['application/zip', false],
    [null, false],
    ['garbage', false],
  ])('isTextual(%j) is %s', (type, expected) => {
    expect(isTextual(type)).toBe(expected);
  });

  it('knows JSON types', () => {
    expect(isJsonType('application/json')).toBe(true);
    expect(isJsonType('Application/JSON; charset=UTF-8')).toBe(true);
    expect(isJsonType('application/vnd.api+json')).toBe(true);
    expect(isJsonType('text/json')).toBe(true);
    expect(isJsonType('application/jsonp')).toBe(false);
    expect(isJsonType(null)).toBe(false);
  });
});

describe('serialisedBody (JSONL rows)', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

  it('text: a textual body is a string, anything else base64 with bodyEncoding', () => {
    expect(serialisedBody(utf8('<p>hé</p>'), 'text/html; charset=utf-8', 'text')).toEqual({ body: '<p>hé</p>' });
    expect(serialisedBody(utf8('{"a":1}'), 'application/json', 'text')).toEqual({ body: '{"a":1}' });
    expect(serialisedBody(png, 'image/png', 'text')).toEqual({ body: Buffer.from(png).toString('base64'), bodyEncoding: 'base64' });
    expect(serialisedBody(png, null, 'text')).toEqual({ body: 'iVBORw0KGgoA/w==', bodyEncoding: 'base64' });
  });

  it('base64: always base64, and round-trips byte for byte', () => {
    const out = serialisedBody(utf8('plain text'), 'text/plain', 'base64');
    expect(out.bodyEncoding).toBe('base64');
    expect(Buffer.from(out.body!, 'base64').toString('utf8')).toBe('plain text');
    const view = new Uint8Array(png.buffer, 2, 4);
    expect(Buffer.from(serialisedBody(view, 'image/png', 'base64').body!, 'base64')).toEqual(Buffer.from([0x4e, 0x47, 0x0d, 0x0a]));
  });

  it('json: the parsed value, null for other types, PARSE for a broken JSON body', () => {
    expect(serialisedBody(utf8('[1]'), 'application/json', 'json')).toEqual({ json: [1] });
    expect(serialisedBody(png, 'image/png', 'json')).toEqual({ json: null });
    parseError(() => serialisedBody(utf8('[1,'), 'application/json', 'json'));
  });

  it('empty body: an empty string, or empty base64', () => {
    expect(serialisedBody(new Uint8Array(0), 'text/plain', 'text')).toEqual({ body: '' });
    expect(serialisedBody(new Uint8Array(0), 'image/gif', 'text')).toEqual({ body: '', bodyEncoding: 'base64' });
  });

  it('refuses an unknown mode, echoing it', () => {
    expect(() => serialisedBody(png, null, 'hex' as 'text')).toThrow("got `hex` (string)");
    expect(() => keepBody(png, null, 'blob' as 'text')).toThrow("got `blob` (string)");
  });
});
