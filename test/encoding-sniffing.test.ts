import { describe, expect, it } from 'vitest';
import { decodeHtml } from '../src/parse/decode.js';

// The <meta> prescan (WHATWG HTML "prescan a byte stream to determine its encoding"), with cases written from
// what html5lib-tests' encoding suite pins. Each page ends in byte 0xB1: 'ą' in ISO-8859-2, '±' in windows-1252
// (the fallback), U+FFFD in UTF-8.
const cases: [string, string, string][] = [
  ['<meta charset>', '<meta charset="iso8859-2">', 'ą'],
  ['http-equiv Content-Type', '<!DOCTYPE HTML>\n<meta http-equiv="Content-Type" content="text/html; charset=iso8859-2">', 'ą'],
  ['content before http-equiv', '<meta content="text/html; charset=ISO-8859-2" http-equiv="content-type">', 'ą'],
  ['http-equiv whose content has no charset', '<meta http-equiv="Content-Type" content="text/html">', '±'],
  ['content without http-equiv is ignored', '<meta content="text/html; charset=iso8859-2">', '±'],
  ['utf-16 in <meta> means UTF-8', '<meta charset="utf-16">', '\ufffd'],
  ['x-user-defined in <meta> means windows-1252', '<meta charset="x-user-defined">', '±'],
  ['a <meta> inside a comment is ignored', '<!-- <meta charset="iso8859-2"> -->', '±'],
  ['a <meta> after a comment counts', '<!-- x --><meta charset="iso8859-2">', 'ą'],
  ['a <meta> past the first 1024 bytes is not seen', `<!-- ${'x'.repeat(1025)} --><meta charset="iso8859-2">`, '±'],
  ['unquoted value', '<meta charset=iso8859-2>', 'ą'],
  ['quoted charset inside content', "<meta http-equiv='content-type' content='text/html; charset=\"iso8859-2\"'>", 'ą'],
  ['the first <meta> wins', '<meta charset="iso8859-2"><meta charset="windows-1251">', 'ą'],
  ['upper-case names', '<META CHARSET="ISO8859-2">', 'ą'],
  ['inside <title> the prescan still sees it', '<title><meta charset="iso8859-2"></title>', 'ą'],
];

describe('<meta> prescan (html5lib-tests encoding cases)', () => {
  it.each(cases)('%s', (_name, html, last) => {
    const bytes = Buffer.concat([Buffer.from(html, 'latin1'), Buffer.from([0xb1])]);
    expect(decodeHtml(bytes, 'text/html').at(-1)).toBe(last);
  });
});
