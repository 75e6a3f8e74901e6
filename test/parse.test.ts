import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fetchAll, fetchEach } from '../src/index.js';
import { decodeHtml, decodeHtmlPieces } from '../src/parse/decode.js';
import { extract, extractBody } from '../src/parse/extract.js';
import { extractFromDom } from '../src/parse/extract-dom.js';
import { scanPage } from '../src/parse/stream.js';
import { canonicalHttp } from '../src/parse/links.js';
import { normalizeExtract, parseSelector, type NormalizedExtract } from '../src/parse/spec.js';
import { ParsePool } from '../src/parse/pool.js';
import type { Page } from '../src/parse/types.js';
import parsePages from '../src/parse/worker.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('decoding follows the WHATWG order: BOM, Content-Type charset, <meta> prescan, windows-1252', () => {
  it('reads Shift_JIS declared only in <meta charset>', () => {
    const html = decodeHtml(bytes('<meta charset="shift_jis"><title>', [0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea], '</title>'), 'text/html');
    expect(html).toContain('日本語');
  });

  it('reads windows-1251 declared only in the header', () => {
    expect(decodeHtml(bytes('<title>', [0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2], '</title>'), 'text/html; charset=windows-1251')).toContain('Привет');
  });

  it('lets a BOM win over the header (scrapy#5601)', () => {
    expect(decodeHtml(bytes([0xef, 0xbb, 0xbf], 'caf', [0xc3, 0xa9]), 'text/html; charset=windows-1251')).toBe('café');
  });

  it('lets the header win over <meta>', () => {
    const html = decodeHtml(bytes('<meta charset="shift_jis">', [0xcf, 0xf0]), 'text/html; charset=windows-1251');
    expect(html).toContain('Пр');
  });

  it('reads http-equiv Content-Type in the prescan', () => {
    const html = decodeHtml(bytes('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">', [0xcf]), null);
    expect(html).toContain('П');
  });

  it('never fails over an unknown label (crawlee#2901): it sniffs on', () => {
    expect(decodeHtml(bytes('<meta charset="utf-8">caf', [0xc3, 0xa9]), 'text/html; charset=no-such-charset')).toContain('café');
  });

  it('treats the latin1 label as windows-1252, as the Encoding Standard maps it', () => {
    expect(decodeHtml(bytes([0x80]), 'text/html; charset=iso-8859-1')).toBe('€');
  });

  it('falls back to windows-1252 with no declaration at all', () => {
    expect(decodeHtml(bytes('caf', [0xe9]), 'text/html')).toBe('café');
  });

  it('decodes UTF-16LE with a BOM', () => {
    expect(decodeHtml(bytes([0xff, 0xfe], [0x68, 0x00, 0x69, 0x00]), 'text/html')).toBe('hi');
  });

  it('gives the same text in pieces as whole, split anywhere, valid or not, in every encoding it sniffs, page after page', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    // Bytes that make UTF-8 and the multi-byte encodings interesting: lead and continuation bytes, surrogates,
    // overlongs, BOMs, and ASCII in between.
    const alphabet = [0x41, 0x3c, 0x20, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0xff, 0xfe, 0xef, 0xbb, 0x81, 0x93, 0xfa, 0x00];
    const prefixes = [[], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], [...Buffer.from('<meta charset="shift_jis">')], [...Buffer.from('<meta charset=euc-kr>')]];
    const types = [null, 'text/html', 'text/html; charset=utf-8', 'text/html; charset=windows-1251', 'text/html; charset=gb18030', 'text/html; charset=utf-16le', 'text/html; charset=nonsense'];
    for (let n = 0; n < 600; n++) {
      const body = Uint8Array.from([...(prefixes[n % prefixes.length] as number[]), ...Array.from({ length: Math.floor(rand() * 60) }, () => alphabet[Math.floor(rand() * alphabet.length)] as number)]);
      const type = types[Math.floor(rand() * types.length)] as string | null;
      const whole = decodeHtml(body, type);
      // [most bytes a piece, first piece's bytes]: fixed pieces, and pieces that double from a small first one
      // (a scan that may stop in the head, extract.ts).
      for (const [size, first] of [[1, 1], [2, 2], [3, 3], [5, 5], [64, 64], [64, 1], [40, 3]] as const) {
        // Decoders are reused page after page: one left early (the scan had its fields) or by a throw must not
        // hand the next page the half of a character.
        decodeHtmlPieces(body, type, () => false, size, first);
        const failing = (): void => decodeHtmlPieces(body, type, () => { throw new Error('the parser failed'); }, size, first);
        if (whole === '') failing();
        else expect(failing).toThrow('the parser failed');
        const pieces: string[] = [];
        decodeHtmlPieces(body, type, (p) => pieces.push(p) > 0, size, first);
        expect({ n, type, size, first, text: pieces.join('') }).toEqual({ n, type, size, first, text: whole });
      }
    }
  });
});

describe('extraction', () => {
  const all = normalizeExtract({ title: true, description: true, canonical: true, lang: true, links: true });

  it('decodes entities and collapses whitespace in titles', () => {
    const f = extract('<title>\n  Tom &amp; Jerry &lt;3 &eacute;t&#233;  </title>', 'http://a.test/', all);
    expect(f.title).toBe('Tom & Jerry <3 été');
  });

  it('resolves links against the page URL, de-duplicated, in document order, http(s) only', () => {
    const html = '<a href="b">1</a><a href="/c#x">2</a><a href="b">dup</a><a href="mailto:x@y">m</a><a href="javascript:0">j</a>' +
      '<a href="https://other.test/d?q=1">3</a><a href=" /c ">4</a><a>no href</a>';
    expect(extract(html, 'http://a.test/dir/page', all).links).toEqual(['http://a.test/dir/b', 'http://a.test/c', 'https://other.test/d?q=1']);
  });

  it('resolves links against <base href>, itself relative to the page', () => {
    const html = '<head><base href="/root/"><link rel="canonical" href="canon"></head><a href="x">x</a><a href="../y">y</a>';
    const f = extract(html, 'http://a.test/dir/page', all);
    expect(f.links).toEqual(['http://a.test/root/x', 'http://a.test/y']);
    expect(f.canonical).toBe('http://a.test/root/canon');
  });

  it('reads description, canonical and lang', () => {
    const f = extract('<html lang="de-AT"><meta name="Description" content=" Hallo  Welt "><link rel="alternate canonical" href="/c">', 'http://a.test/', all);
    expect(f).toMatchObject({ description: 'Hallo Welt', canonical: 'http://a.test/c', lang: 'de-AT', title: null });
  });

  it('gives named selectors: first match text, an attribute, and every match', () => {
    const spec = normalizeExtract({ title: false, description: false, select: { h: 'h2', next: 'a.next@href', 'items[]': 'li', 'ids[]': 'li@id', none: '.nothing' } });
    const f = extract('<h2> One </h2><h2>Two</h2><ul><li id="a">x</li><li>y</li></ul><a class="next" href="/p2">n</a>', 'http://a.test/', spec);
    expect(f.data).toEqual({ h: 'One', next: '/p2', items: ['x', 'y'], ids: ['a'], none: null });
  });

  it('runs user selectors from the page root, jQuery extensions included, and reads text across pages', () => {
    const spec = normalizeExtract({ title: false, description: false, select: { second: 'li:eq(1)', 'odd[]': 'li:odd', top: ':root@lang' } });
    const one = extract('<html lang="x"><ul><li>a</li><li>b <b>c</b></li><li>d</li><li>e</li></ul>', 'http://a.test/', spec);
    const two = extract('<ul><li>z</li></ul>', 'http://a.test/', spec);
    expect(one.data).toEqual({ second: 'b c', odd: ['b c', 'e'], top: 'x' });
    expect(two.data).toEqual({ second: null, odd: [], top: null });
  });

  it('parses the short selector forms', () => {
    expect(parseSelector('n', 'a.b@data-x')).toEqual({ name: 'n', css: 'a.b', attr: 'data-x', all: false });
    expect(parseSelector('n[]', 'div > p')).toEqual({ name: 'n', css: 'div > p', attr: null, all: true });
    expect(() => parseSelector('bad', 'p:nosuchpseudo')).toThrow('Invalid CSS selector for `bad`: `p:nosuchpseudo`');
  });

  it('extracts a large page with a few hundred links', () => {
    const links = Array.from({ length: 300 }, (_, i) => `<li><a href="/p/${i}">${i}</a></li>`).join('');
    const f = extract(htmlPage('Big', `<ul>${links}</ul>`.repeat(2)), 'http://a.test/', all);
    expect(f.links).toHaveLength(300);
    expect(f.links?.[299]).toBe('http://a.test/p/299');
  });
});

describe('a scan for head fields only decodes pieces that start small and double', () => {
  // Titles that straddle the first pieces' ends (1 KiB, then 3, 7, 15, 31 and 63 KiB into the page) by a few bytes,
  // in UTF-8 (3-byte characters) and Shift_JIS (2-byte ones: 日本語 is 93 FA 96 7B 8C EA), with a description after
  // them and a body of ~100 KB, found as the whole page's parse finds them.
  const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];
  const titles = {
    'utf-8': { bytes: [...new TextEncoder().encode('日本語のタイトル — ünïcödé')], text: '日本語のタイトル — ünïcödé' },
    shift_jis: { bytes: [0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, ...ascii(' title'), 0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea], text: '日本語 title日本語' },
  };
  for (const [charset, { bytes, text }] of Object.entries(titles)) {
    it(`in ${charset}`, () => {
      const spec = normalizeExtract({ title: true, description: true });
      for (const boundary of [1024, 3072, 7168, 15360, 31744, 64512]) {
        for (const offset of [-7, -2, -1, 0, 1, 2]) {
          const start = `<html><head><meta charset="${charset}"><meta name="x" content="`;
          const filler = 'a'.repeat(boundary + offset - start.length - '"><title>'.length);
          const body = Uint8Array.from([
            ...ascii(`${start}${filler}"><title>`), ...bytes, ...ascii('</title><meta name="description" content="'), ...bytes,
            ...ascii(`"></head><body>${'<p>text</p>'.repeat(9000)}</body></html>`),
          ]);
          const whole = extract(decodeHtml(body, 'text/html'), 'http://a.test/', spec);
          expect(whole).toMatchObject({ title: text, description: text });
          expect({ boundary, offset, fields: extractBody(body, 'text/html', 'http://a.test/', spec) }).toEqual({ boundary, offset, fields: whole });
        }
      }
    });
  }
});

describe('the built-in fields without a DOM give the whole DOM\'s answers', () => {
  // The scan (stream.ts) against extractFromDom(): the whole page's DOM, css-select and cheerio's text(), as
  // every run did before the scan. Every spec below, every case, compared field by field.
  const SPECS: Record<string, NormalizedExtract> = {
    'head fields (the scan stops early)': normalizeExtract({ title: true, description: true, lang: true }),
    'the default (title, description)': normalizeExtract({}),
    'title only': normalizeExtract({ title: true, description: false }),
    'description only': normalizeExtract({ title: false, description: true }),
    'lang only': normalizeExtract({ title: false, description: false, lang: true }),
    'canonical only': normalizeExtract({ title: false, description: false, canonical: true }),
    'links only': normalizeExtract({ title: false, description: false, links: true }),
    'title and links (W3)': normalizeExtract({ title: true, description: false, links: true }),
    'meta robots only': normalizeExtract({ title: false, description: false, metaRobots: true }),
    'head fields and meta robots (no early stop)': normalizeExtract({ title: true, description: true, lang: true, metaRobots: true }),
    'every built-in field': normalizeExtract({ title: true, description: true, canonical: true, lang: true, links: true, metaRobots: true }),
  };
  const PAGE = 'http://a.test/dir/page?q=1';
  const utf8 = new TextEncoder();
  const same = (html: string, url = PAGE, pieces: number[] = [3, 4096]): void => {
    const body = utf8.encode(html);
    for (const [name, spec] of Object.entries(SPECS)) {
      const reference = extractFromDom(html, url, spec);
      expect({ spec: name, fields: extract(html, url, spec) }).toEqual({ spec: name, fields: reference });
      // As the parse threads run it: from the bytes, decoded and parsed in pieces (split anywhere, even inside
      // a character, a tag, an entity or `</title`).
      for (const size of pieces) {
        expect({ spec: name, size, fields: extractBody(body, 'text/html; charset=utf-8', url, spec, size) }).toEqual({ spec: name, size, fields: reference });
      }
    }
  };

  const cases: Record<string, string> = {
    'an empty page': '',
    'all three at the top': '<html lang="fr"><head><meta name="description" content="d"><title>T</title></head><body><p>x</p>',
    'title in the body, after content': '<p>before</p><div><title>Late</title></div><meta name=description content=late>',
    'two titles: the first wins': '<title>One</title><title>Two</title>',
    'an <svg><title> before the real one': '<svg><title>icon</title></svg><title>Page</title>',
    'an <svg><title> with elements inside': '<svg><title>a<b>b</b>c<!-- d -->e</title></svg><title>Page</title>',
    'a self-closed <title/> (HTML keeps it open)': '<title/>x<b>y</b>z</title><title>second</title>',
    'a self-closed <title/> in svg (closed there)': '<svg><title/>x</svg><title>real</title>',
    'no title at all': '<html lang="en"><meta name="description" content="d"><p>only text</p>',
    'an unclosed title': '<title>runs to the end <p>still title text',
    'a title cut off inside its end tag': '<title>abc</tit',
    'title inside a script string is not a title': '<script>var s = "<title>no</title>";</script><title>yes</title>',
    'markup inside style, textarea and xmp is text': '<style><a href="/s"></style><textarea><a href="/t"><title>no</title></textarea><xmp><a href="/x"></xmp><a href="/y">',
    'description after the title': '<title>T</title><p>body</p><meta NAME="DESCRIPTION" content=" late  one ">',
    'entities and whitespace': '<title>\n A &amp; B &eacute; &amp &lt </title><meta name="description" content="x &lt; y &amp z">',
    'references split by markup, and in the names that are matched': '<title/>a&am<!-- x -->p;b&#x4<b>1;</b>&noti<?pi?>n;</title><meta name="&#100;escription" content="&#x41;&amp;B"><html lang="&#101;n"><link rel="c&#97;nonical" href="/c?a=1&amp;b=2&copy=3">',
    'a reference in the title split across every piece boundary': '<title>A&amp;B&#x263a;&eacute;&NotNestedGreaterGreater;&notin;&notit;</title>',
    'lang on a late <html> tag': '<!-- c --><title>T</title><meta name=description content=d><html lang="de">',
    'two <html> tags': '<html><html lang="fr"><title>T</title>',
    'lang of blanks': '<html lang="  "><title>T</title>',
    'an empty title': '<title></title><meta name="description">',
    'a title split by a comment': '<title>a<!-- x -->b</title>',
    'a description without content, then one with': '<meta name="description"><meta name="description" content="second">',
    'a description whose name only looks like it': '<meta name="descriptions" content="no"><meta name=" description" content="no"><meta name="DescriptioN" content="yes">',
    'duplicate attributes: the first wins': '<meta name="description" content="one" content="two"><a href="/1" href="/2">x</a><html lang="a" lang="b">',
    'upper-case tags and attributes': '<HTML LANG="EN"><TITLE>Up</TITLE><META NAME="description" CONTENT="c"><LINK REL="Canonical" HREF="/c"><A HREF="/a">a</A><AREA HREF="/ar">',
    'canonical: rel lists and odd spacing': '<link rel="canonical-ish" href="/no"><link rel="x\tcanonical\nnext" href="/yes"><link rel="canonical">',
    'canonical: a non-ASCII space separates rel tokens (css-select uses \\s)': '<link rel="x\u00a0canonical" href="/nbsp">',
    'canonical without href, then with': '<link rel=canonical><link rel=canonical href="/second">',
    'canonical out of http(s)': '<link rel=canonical href="mailto:x@y">',
    'base without href, then with': '<base target=_top><base href="/b/"><base href="/c/"><a href="x">x</a>',
    'a bad base is ignored': '<base href="http://[bad"><a href="x">x</a><link rel=canonical href=c>',
    'a base in another scheme': '<base href="data:text/html,x"><a href="x">x</a><a href="https://o.test/">o</a>',
    'empty, blank and odd hrefs': '<a href>e</a><a href="">e2</a><a href="  ">b</a><a href="?q=2">q</a><a href="#top">f</a><a href="//other.test/p">s</a><a href="HTTP://UP.TEST/A">u</a>',
    'hrefs with entities, spaces and non-ASCII': '<a href="/a?x=1&amp;y=2">1</a><a href="/b?x=1&y=2&copy">2</a><a href=" /c d ">3</a><a href="/é?ü#ö">4</a><a href="http://ex\u00e4mple.test/">5</a>',
    'links that are not links': '<a name="x">n</a><link href="/l"><img href="/i"><div href="/d"></div><area nohref>',
    'links, base and canonical among text and comments':
      '<!-- <a href="/commented"> --><p>text <a href="one">1</a></p><base href="/b/"><link rel=canonical href=c>' +
      '<textarea><a href="/not-a-link"></textarea><a href="two#frag">2</a><area href="/three">',
    'CDATA is a comment in HTML': '<![CDATA[<a href="/cdata"><title>no</title>]]><title>yes</title><svg><![CDATA[x]]></svg>',
    'a start tag cut off by the end of the page': '<title>T</title><a href="/whole">w</a><a href="/cut"',
    'a link tag complete at the very end': '<title>T</title><a href="/last">',
    'a base cut off by the end of the page': '<a href="x">x</a><base href="/b/"',
    'implied end tags and </br> </p>': '<p><title>x</p>y</title></br></p><li><a href=/1><li><a href=/2></ul>',
    'deeply nested, closing out of order': '<div><span><title>a<i>b</div>c</title><a href="/n">',
    'processing instructions and doctype': '<?xml version="1.0"?><!DOCTYPE html><html lang=en><title>PI</title>',
    'NUL and control characters': '<title>a\u0000b\u0001c</title><a href="/x\u0000y">x</a>',
    'an unclosed comment swallows the rest': '<title>T</title><!-- <a href="/no">',
    'math and foreign content': '<math><mi><a href="/m">m</a></mi></math><svg><a href="/s"/><a xlink:href="/x">x</a></svg>',
    'robots metas: several, anywhere, odd names and blank contents':
      '<meta name="robots" content=" noindex "><p>x</p><meta NAME="Robots" content="NOFOLLOW"><meta name=" robots\n" content=none>' +
      '<meta name="robotss" content=no><meta name="googlebot" content=no><meta name=robots><meta name=robots content="  "><meta content=x name=ROBOTS>',
    'robots after every head field': '<html lang=en><title>T</title><meta name=description content=d><body><p>late</p><meta name=robots content="noindex, nofollow">',
    'robots in foreign content, a textarea and a comment': '<svg><meta name=robots content=svg></svg><textarea><meta name=robots content=no></textarea><!-- <meta name=robots content=no> --><math><meta name=robots content=math>',
    'robots with entities and duplicate attributes': '<meta name="robots" content="no&amp;index" content="x"><meta name="rob&#111;ts" content="e">',
  };
  for (const [name, html] of Object.entries(cases)) it(name, () => same(html, PAGE, [1, 2, 3, 5, 7, 32 * 1024]));

  it('a page with a few hundred links', () => {
    const links = Array.from({ length: 300 }, (_, i) => `<li><a href="/p/${i % 250}#s${i}">${i}</a></li>`).join('');
    same(htmlPage('Big', `<ul>${links}</ul>`.repeat(2)));
  });

  it('with a page URL that is an IP, an IDN host or has credentials and a port', () => {
    const html = '<a href="x">x</a><a href="/y">y</a><a href="../z?a#b">z</a><link rel=canonical href="c">';
    for (const url of ['http://10.0.0.1:8080/a/b', 'https://bücher.example/ä/', 'http://u:p@a.test:81/dir/', 'https://a.test']) same(html, url);
  });

  it('on 3,000 random pages of tag soup built from the tricky parts above', () => {
    // Deterministic (mulberry32): the same pages every run. Pieces are the constructs the fields depend on,
    // in random order, nesting and cut-off points. More of them: FUZZ_SEED=7 FUZZ_N=20000 npx vitest run test/parse.test.ts
    let seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const names = ['title', 'TITLE', 'a', 'A', 'area', 'base', 'link', 'meta', 'html', 'head', 'body', 'p', 'div', 'li', 'svg', 'math', 'script', 'style', 'textarea', 'xmp', 'br', 'b', 'table', 'td', 'select', 'option'];
    const attrNames = ['href', 'HREF', 'rel', 'name', 'content', 'lang', 'id'];
    const values = ['', ' ', 'x', '/p', '../q#f', 'https://o.test/z', 'canonical', 'Canonical next', 'description', 'DESCRIPTION', 'en', ' fr ', 'a&amp;b', 'a&ampb', 'mailto:m@x', 'javascript:0', '#frag', '//h.test/p', 'http://[::1]/', 'http://[bad',
      'robots', 'ROBOTS', ' robots ', 'noindex, nofollow',
      // Character references the tokenizer leaves in place and the scan decodes (stream.ts OPTIONS): in names that
      // then match, cut short, numeric, and the attribute-mode rule for a legacy name followed by `=`.
      '&#100;escription', 'can&#x6f;nical', '&#x72;obots', 'x&am', 'p;', '&#', '&#x41', 'a&copy=1', 'a&copy;b', '&notin;&noti'];
    const attr = (): string => {
      const v = pick(values);
      const q = pick(['"', "'", '']);
      return rand() < 0.1 ? ` ${pick(attrNames)}` : ` ${pick(attrNames)}=${q}${q === '' ? v.replace(/\s/g, '') : v}${q}`;
    };
    const piece = (): string => {
      const r = rand();
      if (r < 0.45) return `<${pick(names)}${Array.from({ length: Math.floor(rand() * 4) }, attr).join('')}${rand() < 0.1 ? '/' : ''}>`;
      if (r < 0.7) return `</${pick(names)}>`;
      // References whole and in halves, so that random neighbours join (or markup splits) them.
      if (r < 0.85) return pick(['text', ' ', '\n', '&amp;', '&lt;', '&eacute;', '&nbsp', 'é', '<', '>', '&', '&am', 'p;', '&#x4', '1;', '&#', 'nbsp;', '&noti', 'n;']);
      if (r < 0.92) return pick(['<!-- c -->', '<!--', '-->', '<![CDATA[d]]>', '<!DOCTYPE html>', '<?pi x?>']);
      if (r < 0.96) return `<${pick(['a', 'title', 'base', 'link', 'meta'])} ${pick(attrNames)}="${pick(values)}"`;
      // Robots metas, which accumulate: content before or after the name (or neither), names that only look right.
      const content = (q: string): string => (rand() < 0.5 ? ` content=${q}${pick(values)}${q}` : '');
      return `<meta${content('"')} name=${pick(['robots', 'ROBOTS', '" robots "', 'robotsx', 'description'])}${content("'")}>`;
    };
    for (let n = 0; n < Number(process.env.FUZZ_N ?? 3000); n++) {
      const html = Array.from({ length: 1 + Math.floor(rand() * 40) }, piece).join('');
      try {
        same(html);
      } catch (err) {
        throw new Error(`page ${n} differs: ${JSON.stringify(html)}\n${(err as Error).message}`);
      }
    }
  });

  it('stops at the head fields when every asked-for field is one of them, and reads the whole page otherwise', () => {
    const html = '<html lang="en"><title>T</title><meta name="description" content="d"><a href="/after">x</a>';
    expect(scanPage(html, SPECS['head fields (the scan stops early)'] as NormalizedExtract).hrefs).toEqual([]);
    expect(scanPage(html, SPECS['every built-in field'] as NormalizedExtract).hrefs).toEqual(['/after']);
    // A field that is absent keeps the scan going to the end.
    expect(scanPage('<title>T</title><meta name="description" content="d"><a href="/after">x</a>', SPECS['head fields (the scan stops early)'] as NormalizedExtract).hrefs).toEqual(['/after']);
  });

  it('with user selectors, a DOM parsed in pieces is the DOM parsed whole', () => {
    const spec = normalizeExtract({ title: true, links: true, select: { 'p[]': 'p', t: 'title', 'hrefs[]': 'a@href', c: '.c' } });
    const html = `<title>T &amp; é</title>${Array.from({ length: 50 }, (_, i) => `<p class="${i % 3 ? 'c' : ''}">para ${i} &eacute;&amp;<a href="/p/${i}">l</a> text — ü</p>`).join('\n')}`;
    const whole = extract(html, PAGE, spec);
    for (const size of [1, 2, 7, 100, 32 * 1024]) expect(extractBody(utf8.encode(html), 'text/html; charset=utf-8', PAGE, spec, size)).toEqual(whole);
  });

  it('with user selectors, builds the DOM: the built-in fields still come out the same', () => {
    const spec = normalizeExtract({ title: true, description: true, canonical: true, lang: true, links: true, metaRobots: true, select: { h: 'h1' } });
    const html = '<html lang=en><title>T</title><base href="/b/"><h1>H</h1><a href="x">x</a><link rel=canonical href=c>';
    const { data, ...fields } = extract(html, PAGE, spec);
    expect(data).toEqual({ h: 'H' });
    expect(fields).toEqual(extract(html, PAGE, SPECS['every built-in field'] as NormalizedExtract));
  });
});

describe('links already in serialised form skip new URL()', () => {
  const viaUrl = (href: string): string | null => {
    try {
      const u = new URL(href, 'http://base.test/x/y');
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
      const hash = u.href.indexOf('#');
      return hash === -1 ? u.href : u.href.slice(0, hash);
    } catch {
      return null;
    }
  };

  it('takes the common case and gives exactly what new URL() gives', () => {
    for (const href of ['https://site3.example/p/1/2?q=5', 'http://a.example.com', 'http://a.example.com?x=1#f', 'https://x-y.org/a;b=c/@:!$&()*+,~', 'https://a.bc/%41%zz?a?b/c']) {
      expect(canonicalHttp(href)).not.toBeNull();
      expect(canonicalHttp(href)).toBe(viaUrl(href));
    }
  });

  it('leaves anything in doubt to new URL(): case, ports, IPs, punycode, dot segments, characters the parser encodes', () => {
    for (const href of ['HTTP://a.com/', 'http://A.com/', 'http://a.com:80/', 'http://1.2.3.4/', 'http://a.123/', 'http://xn--nxasmq6b.com/', 'http://u@a.com/',
      'http://a.com/./b', 'http://a.com/a/..', 'http://a.com/%2e/', 'http://a.com/a b', 'http://a.com/é', "http://a.com/?a'b", 'http://a.com/a\\b', 'http://a.com/a`b', 'http://host/', '//a.com/', '/a']) {
      expect(canonicalHttp(href)).toBeNull();
    }
  });

  it('agrees with new URL() on 400,000 generated hrefs wherever it answers', () => {
    let seed = 7;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const chars = [...'abcXYZ019-._~!$&()*+,;=:@%/', "'", '"', '<', '>', '`', '{', '}', '|', '^', '\\', ' ', '\t', 'é', '?', '#', '[', ']', '%2e', '%2E', '%41', '.', '..', '%zz', '\u0000', '\u007f'];
    const hosts = ['a.com', 'A.com', 'xn--a.com', 'a--b.com', 'a-b.com', '1.2.3.4', 'a.b.c.museum', 'host', '0x1.com', 'a_b.com', '.a.com', 'a..com', 'a.com.', 'münchen.de', 'a.123', 'a.0x1f', 'u:p@a.com', 'a.com:', 'a.com:80', 'a.com:8080', 'site12.example', 'a.b-', 'a.c'];
    const run = (n: number): string => Array.from({ length: Math.floor(rand() * n) }, () => pick(chars)).join('');
    let answered = 0;
    for (let i = 0; i < 400_000; i++) {
      const href = pick(['http://', 'https://', 'HTTP://', 'http:/', 'ftp://']) + pick(hosts) + (rand() < 0.8 ? `/${run(14)}` : '') + (rand() < 0.4 ? `?${run(10)}` : '') + (rand() < 0.2 ? `#${run(5)}` : '');
      const fast = canonicalHttp(href);
      if (fast === null) continue;
      answered++;
      if (fast !== viaUrl(href)) expect({ href, fast }).toEqual({ href, fast: viaUrl(href) });
    }
    expect(answered).toBeGreaterThan(5_000);
  });
});

describe('the parse pool', () => {
  let server: TestServer;
  beforeAll(async () => {
    const nested = `<html><body>${'<div>'.repeat(200_000)}deep</body></html>`;
    server = await createTestServer({
      '/nested': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(nested);
      },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('parses off the main thread: the worker reports its threadId', async () => {
    const pool = new ParsePool(normalizeExtract({}), 2, 10_000);
    try {
      // Big (≥ 32 KiB): a big body the page owns crosses with its own buffer (a small one is copied, pool.ts crossing).
      const body = new TextEncoder().encode(htmlPage('threaded', 'x'.repeat(40_000)));
      const fields = await pool.parse({ body, owned: true, contentType: 'text/html', url: 'http://a.test/' }, new AbortController().signal);
      expect(fields.title).toBe('threaded');
      expect([...pool.threadIds].length).toBeGreaterThan(0);
      expect(pool.threadIds.has(0)).toBe(false);
      // Transferred, not copied: the main thread no longer holds it.
      expect(body.byteLength).toBe(0);
    } finally {
      await pool.destroy();
    }
  });

  describe.runIf(process.platform === 'linux')('runs its threads below the event loop\'s priority', () => {
    /** Nice value by thread id: field 19 of stat (the fields after the command name's closing parenthesis start at 3). */
    const niceOfThreads = (): Map<string, number> =>
      new Map(
        readdirSync('/proc/self/task').flatMap((tid): [string, number][] => {
          try {
            const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
            return [[tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])]];
          } catch {
            return []; // gone meanwhile
          }
        }),
      );
    const startedSince = (before: Map<string, number>): number[] => [...niceOfThreads()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
    const bigPage = (title: string): Page => ({ body: new TextEncoder().encode(htmlPage(title, 'x'.repeat(40_000))), owned: true, contentType: 'text/html', url: 'http://a.test/' });

    it('and leaves the caller\'s as it was', async () => {
      const own = os.getPriority(0);
      const expected = Math.min(19, own + 10);
      const before = [...niceOfThreads().values()].filter((n) => n === expected).length;
      const pool = new ParsePool(normalizeExtract({}), 2, 10_000);
      try {
        const fields = await pool.parse(
          { body: new TextEncoder().encode(htmlPage('niced')), owned: true, contentType: 'text/html', url: 'http://a.test/' },
          new AbortController().signal,
        );
        expect(fields.title).toBe('niced');
        expect([...niceOfThreads().values()].filter((n) => n === expected).length).toBeGreaterThanOrEqual(before + pool.threadIds.size);
        expect(os.getPriority(0)).toBe(own);
      } finally {
        await pool.destroy();
      }
    });

    it('from the moment each thread starts, before it boots Node and the parser', async () => {
      const expected = Math.min(19, os.getPriority(0) + 10);
      const signal = new AbortController().signal;
      const before = niceOfThreads();
      // Read synchronously after the calls that start threads: no thread can have run its entry file by then.
      const pool = new ParsePool(normalizeExtract({}), 2, 10_000);
      try {
        const first = startedSince(before);
        expect(first.length).toBe(1);
        expect(first).toEqual([expected]);
        // Big pages widen the pool; the second, with the first thread busy, makes piscina start the other thread.
        const seen = niceOfThreads();
        const parsed = [pool.parse(bigPage('b0'), signal), pool.parse(bigPage('b1'), signal)];
        expect(startedSince(seen)).toEqual([expected]);
        expect((await Promise.all(parsed)).map((f) => f.title)).toEqual(['b0', 'b1']);
        expect(pool.threadCount).toBe(2);
      } finally {
        await pool.destroy();
      }
    });
  });

  describe('starts one thread and widens to all of them when one is not enough', () => {
    const page = (title: string, extra = ''): Page => ({ body: new TextEncoder().encode(htmlPage(title, extra)), owned: true, contentType: 'text/html', url: 'http://a.test/' });
    /** Runs `use` with a pool and a signal that never aborts; the pool is destroyed however `use` ends. */
    const withPool = async (spec: NormalizedExtract, threads: number, parseTimeoutMs: number, use: (pool: ParsePool, signal: AbortSignal) => Promise<void>): Promise<void> => {
      const pool = new ParsePool(spec, threads, parseTimeoutMs);
      try {
        await use(pool, new AbortController().signal);
      } finally {
        await pool.destroy();
      }
    };

    it('keeps to one thread while small pages keep it idle most of the time', async () => {
      await withPool(normalizeExtract({}), 2, 10_000, async (pool, signal) => {
        // Rounds spread over several of the pool's windows, each a burst the one thread parses at once.
        for (let round = 0; round < 6; round++) {
          const fields = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.parse(page(`r${round}p${i}`), signal)));
          expect(fields.map((f) => f.title)).toEqual(Array.from({ length: 40 }, (_, i) => `r${round}p${i}`));
          await delay(100);
        }
        expect(pool.threadCount).toBe(1);
        expect(pool.threadIds.size).toBe(1);
      });
    });

    it('widens at once for big pages, where parsing is the run\'s work', async () => {
      await withPool(normalizeExtract({}), 2, 10_000, async (pool, signal) => {
        expect((await pool.parse(page('small'), signal)).title).toBe('small');
        expect(pool.threadCount).toBe(1);
        const big = Array.from({ length: 4 }, (_, i) => pool.parse(page(`big${i}`, 'x'.repeat(40_000)), signal));
        // The tasks that wait for a thread make piscina start the second one, before any is answered.
        expect(pool.threadCount).toBe(2);
        expect((await Promise.all(big)).map((f) => f.title)).toEqual(['big0', 'big1', 'big2', 'big3']);
      });
    });

    it('sends big pages that wait behind busy threads together, each with its own answer', async () => {
      await withPool(normalizeExtract({ links: true }), 1, 10_000, async (pool, signal) => {
        // A lone thread takes two tasks at a time: the first two pages leave alone, the six behind them together.
        const parsed = Array.from({ length: 8 }, (_, i) => pool.parse(page(`big${i}`, `<a href="/${i}">${i}</a>${'x'.repeat(40_000)}`), signal));
        const fields = await Promise.all(parsed);
        expect(fields.map((f) => [f.title, f.links])).toEqual(Array.from({ length: 8 }, (_, i) => [`big${i}`, [`http://a.test/${i}`]]));
        expect(pool.tasksDone).toBe(3);
      });
    });

    it('widens when small pages keep the one thread busy', async () => {
      // Under 32 KiB, but slow to parse: hundreds of links each.
      const links = Array.from({ length: 600 }, (_, i) => `<a href="/p/${i}?q=${i}">${i}</a>`).join('');
      await withPool(normalizeExtract({ links: true }), 2, 10_000, async (pool, signal) => {
        // The thread always has pages waiting, so it is busy nearly all of every window: the pool widens within
        // a window or two of the first answer, however fast the machine is.
        for (let round = 0; round < 200 && pool.threadCount === 1; round++) {
          const fields = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.parse(page(`h${i}`, links), signal)));
          expect(fields[49]?.links).toHaveLength(600);
        }
        expect(pool.threadCount).toBe(2);
      });
    });

    it('widens when pages wait behind a page that is slow to parse, so that one page does not hold up the rest', async () => {
      // Small, but a selector whose matching is cubic in its 450 siblings: a second or more here.
      const slowSpec = normalizeExtract({ select: { x: 'p:has(~ p:has(~ q))' } });
      await withPool(slowSpec, 2, 120_000, async (pool, signal) => {
        let slowDone = false;
        const slow = pool.parse(page('slow', '<p>x</p>'.repeat(450)), signal).then((fields) => {
          slowDone = true;
          return fields;
        });
        // Small pages keep arriving while it parses, as a run's responses do: one is answered before it.
        let quickFirst = false;
        while (!slowDone && !quickFirst) {
          const quick = pool.parse(page('quick'), signal).then(() => 'quick' as const);
          quickFirst = (await Promise.race([quick, delay(50).then(() => 'waited' as const)])) === 'quick' && !slowDone;
        }
        expect(quickFirst).toBe(true);
        expect(pool.threadCount).toBe(2);
        expect((await slow).title).toBe('slow');
      });
    });

    it('a pool of one thread runs two tasks on it from the start', async () => {
      await withPool(normalizeExtract({}), 1, 10_000, async (pool, signal) => {
        const big = await Promise.all(Array.from({ length: 3 }, (_, i) => pool.parse(page(`b${i}`, 'x'.repeat(40_000)), signal)));
        expect(big.map((f) => f.title)).toEqual(['b0', 'b1', 'b2']);
        expect(pool.threadCount).toBe(1);
      });
    });
  });

  it('copies a body it does not own, views into one shared buffer included, and leaves the caller its bytes', async () => {
    const pool = new ParsePool(normalizeExtract({}), 2, 10_000);
    try {
      const signal = new AbortController().signal;
      // As undici hands bodies over: views at odd offsets of one larger buffer (a socket read), beside pages that
      // own their buffer and a big page, all in flight at once so that batches mix them.
      const htmls = Array.from({ length: 60 }, (_, i) => htmlPage(`p${i}`, i % 7 === 0 ? 'x'.repeat(40_000) : ''));
      const encoded = htmls.map((html) => new TextEncoder().encode(html));
      const shared = new Uint8Array(encoded.reduce((n, b) => n + b.byteLength + 3, 0));
      let offset = 0;
      const bodies = encoded.map((b, i) => {
        if (i % 3 === 0) return { body: b, owned: true };
        offset += 3;
        shared.set(b, offset);
        const view = shared.subarray(offset, (offset += b.byteLength));
        return { body: view, owned: false };
      });
      const before = shared.slice();
      const fields = await Promise.all(bodies.map(({ body, owned }) => pool.parse({ body, owned, contentType: 'text/html', url: 'http://a.test/' }, signal)));
      expect(fields.map((f) => f.title)).toEqual(htmls.map((_, i) => `p${i}`));
      expect(shared).toEqual(before);
      // Only a big body the page owns crosses with its own buffer; a small one is copied, and stays.
      bodies.forEach(({ body, owned }, i) => expect(body.byteLength === 0).toBe(owned && i % 7 === 0));
      // An empty page that is a view of someone else's buffer, alone in its batch: nothing to copy, nothing taken.
      const empty = shared.subarray(5, 5);
      expect(await pool.parse({ body: empty, owned: false, contentType: 'text/html', url: 'http://a.test/' }, signal)).toMatchObject({ title: null });
      expect(shared).toEqual(before);
    } finally {
      await pool.destroy();
    }
  });

  it('batches small pages and parses each one right', async () => {
    const pool = new ParsePool(normalizeExtract({}), 2, 10_000);
    try {
      const signal = new AbortController().signal;
      const titles = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          pool.parse({ body: new TextEncoder().encode(htmlPage(`p${i}`)), contentType: 'text/html', url: 'http://a.test/' }, signal),
        ),
      );
      expect(titles.map((f) => f.title)).toEqual(Array.from({ length: 100 }, (_, i) => `p${i}`));
    } finally {
      await pool.destroy();
    }
  });

  it('keeps a page that makes the parser throw to itself: its neighbours in the batch still parse', () => {
    // 15,000 nested elements overflow the stack of cheerio's recursive text(): a real page that throws.
    const page = (html: string) => ({ body: new TextEncoder().encode(html), contentType: 'text/html', url: 'http://a.test/' });
    const reply = parsePages({
      pages: [page(`<body>${'<div>'.repeat(15_000)}deep</body>`), page('<title>fine</title>')],
      spec: normalizeExtract({ select: { body: 'body' } }),
    });
    expect(reply.outcomes[0]).toEqual({ ok: false, message: 'Maximum call stack size exceeded' });
    expect(reply.outcomes[1]).toMatchObject({ ok: true, fields: { title: 'fine' } });
  });

  it('fails a parse that runs past parseTimeoutMs with PARSE, and the run goes on with a fresh worker', async () => {
    // 200,000 nested divs cost htmlparser2 about a minute (its open-element stack grows by unshift):
    // exactly the page the parse deadline is for.
    const results = await fetchAll([`${server.url}/nested`, `${server.url}/ok?t=after`], { extract: { links: true }, parseTimeoutMs: 500, threads: 1, retries: 0 });
    expect(results[0]).toMatchObject({ ok: false, status: 200, error: { code: 'PARSE' } });
    expect(results[0]?.error?.message).toContain('parseTimeoutMs');
    expect(results[1]).toMatchObject({ ok: true, title: 'after' });
  });

  it('does not parse non-HTML responses', async () => {
    const [r] = await fetchAll([`${server.url}/json`]);
    expect(r).toMatchObject({ ok: true, title: null, contentType: 'application/json' });
  });

  it('reads Shift_JIS and windows-1251 pages end to end', async () => {
    const results = await fetchAll([`${server.url}/sjis`, `${server.url}/cp1251`, `${server.url}/bad-label`]);
    expect(results.map((r) => r.title)).toEqual(['日本語', 'Привет', 'unknown label']);
  });

  it('drops queued parse work on abort: those URLs come back CANCELLED', async () => {
    const controller = new AbortController();
    const urls = Array.from({ length: 6 }, (_, i) => `${server.url}/nested?i=${i}`);
    const results = [];
    setTimeout(() => controller.abort(), 300);
    for await (const r of fetchEach(urls, { signal: controller.signal, threads: 1, extract: { select: { body: 'body' } } })) results.push(r);
    expect(results).toHaveLength(6);
    expect(results.some((r) => r.error?.code === 'CANCELLED')).toBe(true);
    expect(results.every((r) => r.error?.code === 'CANCELLED' || r.error?.code === 'PARSE')).toBe(true);
  });

  it('starts and stops pools back to back without crashing a thread (piscina loads a CommonJS entry)', async () => {
    // Regression: piscina require()d the ES-module worker, and on Node 20.19+ two racing loads of it crashed the
    // process ("v8::Module::IsGraphAsync must be used on an instantiated module") about once in 200 pool starts.
    // A crash here kills the test process, which fails the run.
    const spec = normalizeExtract({ title: true });
    for (let i = 0; i < 25; i++) {
      const pool = new ParsePool(spec, 2, 10_000);
      const pages = [0, 1, 2].map((k) => ({ body: new TextEncoder().encode(`<title>p${k}</title>`), contentType: 'text/html', url: 'http://a.test/' }));
      const fields = await Promise.all(pages.map((page) => pool.parse(page, new AbortController().signal)));
      expect(fields.map((f) => f.title)).toEqual(['p0', 'p1', 'p2']);
      await pool.destroy();
    }
  }, 60_000);

  it('leaves no live threads after two consecutive runs', async () => {
    const threadsBefore = (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    for (let run = 0; run < 2; run++) {
      const results = await fetchAll([`${server.url}/ok?t=run${run}`], { threads: 2 });
      expect(results[0]?.title).toBe(`run${run}`);
    }
    await delay(50);
    const threadsAfter = (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    expect(threadsAfter).toBeLessThanOrEqual(threadsBefore);
  });
});
