// What a crawler (--follow, issue 20) needs from the parser: meta robots and the links a selector picks to follow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAll } from '../src/index.js';
import { normalizeOptions } from '../src/options.js';
import { extract, extractBody } from '../src/parse/extract.js';
import { extractFromDom } from '../src/parse/extract-dom.js';
import { robotsNofollow } from '../src/parse/meta-robots.js';
import { ParsePool } from '../src/parse/pool.js';
import { unpackFields } from '../src/parse/protocol.js';
import { normalizeExtract, type ExtractSpec } from '../src/parse/spec.js';
import { createParseStage } from '../src/parse/stage.js';
import type { Page } from '../src/parse/types.js';
import parsePages from '../src/parse/worker.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

const PAGE = 'http://a.test/dir/sub/page?x=1';
const utf8 = new TextEncoder();

/** Every way a page can be parsed gives `fields`: the scan (when no DOM is needed), the DOM, and bytes in pieces. */
function fieldsOf(html: string, spec: ExtractSpec, url = PAGE): ReturnType<typeof extract> {
  const normalized = normalizeExtract(spec);
  const fields = extract(html, url, normalized);
  expect(extractFromDom(html, url, normalized)).toEqual(fields);
  for (const size of [1, 3, 4096]) expect(extractBody(utf8.encode(html), 'text/html; charset=utf-8', url, normalized, size)).toEqual(fields);
  return fields;
}

describe('metaRobots: the content of <meta name="robots">', () => {
  const robots = (html: string, spec: ExtractSpec = { metaRobots: true }): string | null | undefined => fieldsOf(html, spec).metaRobots;

  it.each([
    ['<meta name="robots" content="NOFOLLOW">', 'NOFOLLOW'],
    ['<meta name="robots" content="noindex, nofollow">', 'noindex, nofollow'],
    ['<meta name="robots" content="none">', 'none'],
    ['<meta name="robots" content="noindex">', 'noindex'],
    ['<meta name="Robots" content="nofollow">', 'nofollow'],
    ['<META NAME="ROBOTS" CONTENT="index">', 'index'],
    ['<meta content="  noindex\n " name=robots>', 'noindex'],
    ['<meta name=" robots " content="x">', 'x'],
  ])('reads %j', (html, expected) => {
    expect(robots(`<html><head><title>T</title>${html}</head><body><p>x</p></body></html>`)).toBe(expected);
  });

  it('joins several with ", ": robots directives accumulate', () => {
    expect(robots('<meta name="robots" content="noindex"><meta name="ROBOTS" content=" nofollow ">')).toBe('noindex, nofollow');
  });

  it('accepts one anywhere in the page, the body included, even after every head field', () => {
    const html = '<html lang="en"><head><title>T</title><meta name="description" content="d"></head><body><p>text</p><meta name="robots" content="nofollow"></body>';
    expect(robots(html)).toBe('nofollow');
    // The head-only early stop would have ended the scan at the description: with metaRobots it reads on.
    expect(fieldsOf(html, { title: true, description: true, lang: true, metaRobots: true })).toEqual({ title: 'T', description: 'd', lang: 'en', metaRobots: 'nofollow' });
  });

  it('is null without one, or with only blank or missing contents, and ignores other names', () => {
    expect(robots(htmlPage('none here'))).toBeNull();
    expect(robots('<meta name="robots"><meta name="robots" content=" \t"><meta name="googlebot" content="nofollow"><meta name="robotsx" content="nofollow"><meta property="robots" content="nofollow">')).toBeNull();
    expect(robots('')).toBeNull();
  });

  it('leaves blank ones out of the join', () => {
    expect(robots('<meta name="robots" content=""><meta name="robots" content="noarchive"><meta name="robots"><meta name="robots" content="nofollow">')).toBe('noarchive, nofollow');
  });

  it('is only there when asked for', () => {
    const f = fieldsOf('<meta name="robots" content="nofollow">', {});
    expect('metaRobots' in f).toBe(false);
    expect(normalizeExtract({}).metaRobots).toBe(false);
    expect(normalizeExtract(undefined).metaRobots).toBe(false);
  });

  it('rejects a metaRobots that is not a boolean', () => {
    expect(() => normalizeExtract({ metaRobots: 'yes' as unknown as boolean })).toThrow(new TypeError('Expected `metaRobots` to be a boolean, got `yes` (string)'));
  });
});

describe('robotsNofollow', () => {
  it.each<[string | null, boolean]>([
    [null, false],
    ['', false],
    ['nofollow', true],
    ['NOFOLLOW', true],
    ['NoFollow', true],
    ['none', true],
    ['NONE', true],
    ['noindex', false],
    ['noindex, nofollow', true],
    ['noindex,nofollow', true],
    ['noindex nofollow', true],
    ['noindex\n\tnofollow', true],
    [' , nofollow , ', true],
    ['index, follow', false],
    ['all', false],
    ['max-snippet:-1, none', true],
    ['nofollowed', false],
    ['no-follow', false],
    ['nonexistent', false],
    ['"nofollow"', false],
  ])('%j -> %s', (content, expected) => {
    expect(robotsNofollow(content)).toBe(expected);
  });
});

describe('followSelect: the links to follow', () => {
  const follow = (html: string, followSelect: string, url = PAGE): string[] | undefined => fieldsOf(html, { followSelect }, url).followLinks;

  it('takes the links a selector matches: a[rel~=next]', () => {
    const html = '<link rel="next" href="/head-next"><a rel="prev" href="p1">prev</a><a href="p3">3</a><a rel="nofollow next" href="p2">next</a><a rel="next">no href</a>';
    expect(follow(html, 'a[rel~=next]')).toEqual(['http://a.test/dir/sub/p2']);
  });

  it('takes the links inside a matched container: .pagination', () => {
    const html = '<a href="/before">b</a><nav class="pagination"><a href="?page=1">1</a><span><a href="?page=2">2</a></span><b>3</b><a href="?page=3">3</a></nav><a href="/after">a</a>';
    expect(follow(html, '.pagination')).toEqual(['http://a.test/dir/sub/page?page=1', 'http://a.test/dir/sub/page?page=2', 'http://a.test/dir/sub/page?page=3']);
  });

  it('takes <area href>, matched or inside a match', () => {
    const html = '<img usemap="#m"><map name="m"><area href="/region-1" shape="rect"><area nohref><area href="/region-2"></map><a href="/not">x</a>';
    expect(follow(html, 'map')).toEqual(['http://a.test/region-1', 'http://a.test/region-2']);
    expect(follow(html, 'area')).toEqual(['http://a.test/region-1', 'http://a.test/region-2']);
  });

  it('resolves relative, ../ and scheme-relative hrefs against the page URL', () => {
    const html = '<div id="f"><a href="same">1</a><a href="../up">2</a><a href="../../../../top">3</a><a href="/root">4</a><a href="//o.test/x">5</a><a href="?q">6</a><a href=" spaced ">7</a></div>';
    expect(follow(html, '#f')).toEqual([
      'http://a.test/dir/sub/same',
      'http://a.test/dir/up',
      'http://a.test/top',
      'http://a.test/root',
      'http://o.test/x',
      'http://a.test/dir/sub/page?q',
      'http://a.test/dir/sub/spaced',
    ]);
  });

  it('resolves against <base href> (itself relative to the page), the first one only', () => {
    const html = '<head><base target="_top"><base href="../base/"><base href="/ignored/"></head><a class="f" href="x">x</a><a class="f" href="/abs">y</a>';
    expect(follow(html, '.f')).toEqual(['http://a.test/dir/base/x', 'http://a.test/abs']);
    expect(follow('<base href="https://cdn.test/b/"><a href="p">p</a>', 'a')).toEqual(['https://cdn.test/b/p']);
  });

  it('drops fragments, and with them the duplicates they made', () => {
    const html = '<a href="p2#comments">1</a><a href="p2">2</a><a href="p2#top">3</a><a href="#here">4</a>';
    // `#here` is this page itself, as `links` has it.
    expect(follow(html, 'a')).toEqual(['http://a.test/dir/sub/p2', 'http://a.test/dir/sub/page?x=1']);
  });

  it('drops every scheme but http(s), and hrefs that do not parse', () => {
    const html = '<a href="mailto:m@x.test">m</a><a href="javascript:void(0)">j</a><a href="tel:1">t</a><a href="ftp://f.test/">f</a><a href="data:text/html,x">d</a><a href="http://[bad">b</a><a href="HTTPS://UP.TEST/A">u</a>';
    expect(follow(html, 'a')).toEqual(['https://up.test/A']);
  });

  it('gives each link once, in document order, however the selector matches it', () => {
    const html = '<nav class="p"><a class="n" href="/2">2</a><a href="/3">3</a></nav><a class="n" href="/1">1</a><a class="n" href="/2">2 again</a>';
    // A link matched itself and through its container, and a selector list whose order is not the page's.
    expect(follow(html, '.n, .p, .p a')).toEqual(['http://a.test/2', 'http://a.test/3', 'http://a.test/1']);
    // jQuery extensions, as in -s selectors.
    expect(follow(html, 'a:last')).toEqual(['http://a.test/2']);
    expect(follow(html, 'a:first')).toEqual(['http://a.test/2']);
  });

  it('gives [] when nothing matches, or nothing matched holds a link', () => {
    expect(follow('<a href="/x">x</a>', '.pagination')).toEqual([]);
    expect(follow('<nav class="pagination"><span>1</span><a>2</a><link href="/l"></nav>', '.pagination')).toEqual([]);
    expect(follow('', 'a')).toEqual([]);
  });

  it('with `*`, gives exactly `links` (the same canonicalisation), on tricky pages', () => {
    const pages = [
      '<!-- <a href="/commented"> --><p>text <a href="one">1</a></p><base href="/b/"><textarea><a href="/not-a-link"></textarea><a href="two#frag">2</a><area href="/three">',
      '<a href>e</a><a href="">e2</a><a href="  ">b</a><a href="?q=2">q</a><a href="#top">f</a><a href="//other.test/p">s</a><a href="HTTP://UP.TEST/A">u</a>',
      '<a href="/a?x=1&amp;y=2">1</a><a href="/b?x=1&y=2&copy">2</a><a href=" /c d ">3</a><a href="/é?ü#ö">4</a><a href="http://ex\u00e4mple.test/">5</a>',
      '<math><mi><a href="/m">m</a></mi></math><svg><a href="/s"/><a xlink:href="/x">x</a></svg><a href="/whole">w</a><a href="/cut"',
      '<li><a href=/1><li><a href=/2></ul><a href="https://site.example/p/1">x</a><a href="https://site.example/p/1#f">y</a>',
    ];
    for (const html of pages) {
      const f = fieldsOf(html, { title: false, description: false, links: true, followSelect: '*' });
      expect(f.followLinks).toEqual(f.links);
    }
  });

  it('on 1,000 random pages, gives what a plain selector for those links gives, resolved by new URL()', () => {
    // The oracle: the links matched or enclosed, as one css-select selector list (css-select matches a list in
    // document order), their hrefs through `-s`-style extraction, then resolved, cleaned and de-duplicated here.
    let seed = 0xf011;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const hrefs = ['', ' ', 'x', '/p', '../q#f', 'https://o.test/z', 'HTTPS://O.TEST/z#y', 'mailto:m@x', 'javascript:0', '#frag', '//h.test/p', 'http://[bad', '?page=2', 'a&amp;b', '/é'];
    const piece = (): string => {
      const r = rand();
      const cls = rand() < 0.3 ? ' class="p"' : '';
      if (r < 0.3) return `<${pick(['a', 'area', 'A'])}${cls}${rand() < 0.9 ? ` href="${pick(hrefs)}"` : ''}>`;
      if (r < 0.5) return `<${pick(['div', 'nav', 'span', 'p', 'li', 'ul', 'svg', 'map', 'table', 'td'])}${cls}>`;
      if (r < 0.7) return `</${pick(['a', 'div', 'nav', 'span', 'p', 'li', 'ul', 'svg', 'map', 'table'])}>`;
      if (r < 0.75) return `<base href="${pick(['/b/', 'https://c.test/d/', 'http://[bad'])}">`;
      if (r < 0.8) return pick(['<!-- <a class="p" href="/c"> -->', '<textarea><a class=p href="/t"></textarea>', '<script>"<a class=p href=/s>"</script>']);
      return pick(['text', ' ', '&amp;', '<', '>']);
    };
    const oracle = normalizeExtract({ title: false, description: false, select: { 'hrefs[]': '.p a[href], .p area[href], a.p[href], area.p[href]@href', base: 'base[href]@href' } });
    const spec = normalizeExtract({ title: false, description: false, followSelect: '.p' });
    let withLinks = 0;
    for (let n = 0; n < 1000; n++) {
      const html = Array.from({ length: 1 + Math.floor(rand() * 30) }, piece).join('');
      const { data } = extract(html, PAGE, oracle);
      let base: URL;
      try {
        base = new URL(((data?.base as string | null) ?? PAGE).trim(), PAGE);
      } catch {
        base = new URL(PAGE);
      }
      const want = new Set<string>();
      for (const href of data?.hrefs as string[]) {
        try {
          const u = new URL(href.trim(), base);
          if (u.protocol === 'http:' || u.protocol === 'https:') want.add(u.href.replace(/#.*$/s, ''));
        } catch {
          // Not a URL: not followed.
        }
      }
      const got = extract(html, PAGE, spec).followLinks;
      if (JSON.stringify(got) !== JSON.stringify([...want])) expect({ n, html, got }).toEqual({ n, html, got: [...want] });
      if (want.size > 1) withLinks++;
    }
    // The pages are not mostly empty: most have several links to follow.
    expect(withLinks).toBeGreaterThan(400);
  });

  it('leaves the other fields as the scan gives them, and works beside user selectors', () => {
    const html = '<html lang="en"><title>T</title><meta name="robots" content="noindex"><h1>H</h1><a href="/a">a</a><nav><a href="/n">n</a></nav><link rel="canonical" href="/c">';
    const builtIn: ExtractSpec = { title: true, description: true, canonical: true, lang: true, links: true, metaRobots: true };
    const { followLinks, data, ...rest } = fieldsOf(html, { ...builtIn, followSelect: 'nav', select: { h: 'h1' } });
    expect(followLinks).toEqual(['http://a.test/n']);
    expect(data).toEqual({ h: 'H' });
    expect(rest).toEqual(fieldsOf(html, builtIn));
  });

  it('walks a page nested deeper than the call stack', () => {
    const html = `<body class="pagination">${'<div>'.repeat(15_000)}<a href="/deep">deep</a></body>`;
    expect(extract(html, PAGE, normalizeExtract({ title: false, description: false, followSelect: '.pagination' })).followLinks).toEqual(['http://a.test/deep']);
  });

  it('is trimmed, null by default, and checked where the spec is given', () => {
    expect(normalizeExtract({ followSelect: '  a[rel~=next] ' }).followSelect).toBe('a[rel~=next]');
    expect(normalizeExtract({}).followSelect).toBeNull();
    expect(normalizeExtract({ followSelect: null }).followSelect).toBeNull();
    expect(normalizeExtract(undefined).followSelect).toBeNull();
    expect('followLinks' in fieldsOf('<a href="/x">x</a>', {})).toBe(false);
  });

  it('rejects an invalid selector with a TypeError naming followSelect and the value', () => {
    for (const bad of ['a[', 'a:nosuchpseudo', '', '   ', '>>']) {
      expect(() => normalizeExtract({ followSelect: bad })).toThrow(TypeError);
      expect(() => normalizeExtract({ followSelect: bad })).toThrow(`Invalid CSS selector for \`followSelect\`: \`${bad.trim()}\``);
    }
    expect(() => normalizeExtract({ followSelect: 5 as unknown as string })).toThrow(new TypeError('Expected `followSelect` to be a CSS selector string or null, got `5` (number)'));
    // At the library's edge, the option that failed is `extract`.
    expect(() => normalizeOptions({ extract: { followSelect: 'a[' } })).toThrow(expect.objectContaining({ name: 'TypeError', option: 'extract', message: expect.stringContaining('`followSelect`: `a[`') }));
  });
});

describe('metaRobots and followLinks off the main thread and end to end', () => {
  const spec = normalizeExtract({ links: true, metaRobots: true, followSelect: '.pagination' });
  const html = htmlPage('Listing', '<meta name="robots" content="noindex"><a href="/item/1">1</a><nav class="pagination"><a href="?page=2">2</a><a href="?page=3#list">3</a></nav>');
  const expected = {
    title: 'Listing',
    metaRobots: 'noindex',
    followLinks: ['http://a.test/list?page=2', 'http://a.test/list?page=3'],
  };
  const page = (body = html): Page => ({ body: utf8.encode(body), contentType: 'text/html; charset=utf-8', url: 'http://a.test/list' });

  it('a parse thread gives the fields the main thread gives', async () => {
    const pool = new ParsePool(spec, 1, 10_000);
    try {
      const fields = await pool.parse(page(), new AbortController().signal);
      expect(fields).toMatchObject(expected);
      expect(fields).toEqual(extract(html, 'http://a.test/list', spec));
      expect(pool.threadIds.has(0)).toBe(false);
      const none = await pool.parse(page('<title>no pagination</title>'), new AbortController().signal);
      expect(none).toMatchObject({ metaRobots: null, followLinks: [], links: [] });
    } finally {
      await pool.destroy();
    }
  });

  it('packs follow links for the trip and unpacks them whole, an empty list included', () => {
    const reply = parsePages({ pages: [page(), page('<p>x</p>')], spec });
    const [full, empty] = reply.outcomes;
    expect(full).toMatchObject({ ok: true, followLinks: 'http://a.test/list?page=2\nhttp://a.test/list?page=3' });
    expect(empty).toMatchObject({ ok: true, followLinks: '' });
    if (full?.ok !== true || empty?.ok !== true) throw new Error('a page failed');
    expect(unpackFields(full)).toMatchObject(expected);
    expect(unpackFields(empty)).toMatchObject({ followLinks: [], links: [] });
  });

  it('the parse stage gives them too, from a thread even for a small first page (a selector is not run on the main thread)', async () => {
    const stage = createParseStage({ extract: spec, threads: 1, parseTimeoutMs: 10_000 });
    try {
      expect(await stage.parse(page(), new AbortController().signal)).toMatchObject(expected);
      expect(stage.stats).toEqual({ threadsStarted: true, parsedInline: 0, headPages: 0 });
    } finally {
      await stage.destroy();
    }
  });

  describe('through fetchAll', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await createTestServer({
        '/listing': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(html);
        },
      });
    });
    afterAll(() => server.close());

    it('one URL (parsed inline) and many (parsed on threads)', async () => {
      const extractSpec = { metaRobots: true, followSelect: '.pagination a' };
      const want = (url: string) => ({ ok: true, title: 'Listing', metaRobots: 'noindex', followLinks: [`${url}?page=2`, `${url}?page=3`] });
      const [one] = await fetchAll([`${server.url}/listing`], { extract: extractSpec });
      expect(one).toMatchObject(want(`${server.url}/listing`));
      const many = await fetchAll(Array.from({ length: 6 }, (_, i) => `${server.url}/listing?i=${i}`), { extract: extractSpec, threads: 2 });
      for (const r of many) expect(r).toMatchObject(want(`${server.url}/listing`));
    });
  });
});
