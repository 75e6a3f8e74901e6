// The main thread's head fields for a run that asks for nothing else (parse/head-fields.ts) against the scan a
// parse thread runs (extractBody): wherever headFields answers, its answer must be the scan's, exactly. Pages are
// generated from a seeded grammar of what a head may hold, hostile cases included (quotes holding `>`, comments
// ending oddly, end tags that are not ends, repeated and odd attributes, invalid UTF-8, BOMs, charsets); a failing
// case replays from its seed.
import { describe, expect, it } from 'vitest';
import { HEAD_MAX_BYTES, headFields, loadSniffer } from '../src/parse/head-fields.js';
import { headOnly } from '../src/parse/needs-dom.js';
import { extractBody } from '../src/parse/extract.js';
import { normalizeExtract, type NormalizedExtract } from '../src/parse/spec.js';
import { rng } from './fixtures/rng.mjs';

const TITLE_ONLY = normalizeExtract({ title: true, description: false });
const DEFAULT = normalizeExtract(undefined);
const SPECS: NormalizedExtract[] = [
  TITLE_ONLY,
  DEFAULT,
  normalizeExtract({ title: false, description: true }),
  normalizeExtract({ title: false, description: false, lang: true }),
  normalizeExtract({ title: true, description: true, lang: true }),
];
const UTF8 = 'text/html; charset=utf-8';
const URL_ = 'http://127.0.0.1/page';

const headTitle = (body: Uint8Array, contentType: string | null): string | null | undefined => headFields(body, contentType, TITLE_ONLY)?.title;

function scanTitle(body: Uint8Array, contentType: string | null): string | null {
  return extractBody(body, contentType, URL_, TITLE_ONLY).title;
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('headFields (the main thread head fields of a run that asks for nothing else)', () => {
  // First: the sniffer is loaded only once a page needs it, and until then such a page goes to a thread.
  it('reads a page served as bare text/html once the scan\'s sniffer is loaded, if its bytes make it UTF-8', async () => {
    const page = bytes('<!doctype html><html><head><meta charset="utf-8"><title>Sniffed</title></head>');
    expect(headTitle(page, 'text/html')).toBeUndefined();
    await loadSniffer();
    expect(headTitle(page, 'text/html')).toBe('Sniffed');
    expect(headTitle(page, 'TEXT/HTML ')).toBe('Sniffed');
    // The prescan's answers, not the tokenizer's: a <meta> inside a script still counts for it, and no <meta> is
    // windows-1252.
    expect(headTitle(bytes('<script>"<meta charset=iso-8859-2>"</script><meta charset=utf-8><title>x</title>'), 'text/html')).toBeUndefined();
    expect(headTitle(bytes('<title>no meta</title>'), 'text/html')).toBeUndefined();
    expect(headTitle(bytes('<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><title>equiv</title>'), 'text/html')).toBe('equiv');
    for (const html of ['<meta charset="utf-8"><title>a</title>', '<meta charset=utf-16><title>b</title>', '<meta charset="windows-1252"><title>c</title>']) {
      const answer = headTitle(bytes(html), 'text/html');
      if (answer !== undefined) expect(answer).toBe(scanTitle(bytes(html), 'text/html'));
    }
  });

  it('answers only for specs of head fields', () => {
    for (const spec of SPECS) expect(headOnly(spec)).toBe(true);
    for (const extra of [{ links: true }, { canonical: true }, { metaRobots: true }, { select: { h: 'h1' } }, { followSelect: 'a' }]) {
      expect(headOnly(normalizeExtract(extra)), JSON.stringify(extra)).toBe(false);
    }
  });

  it('reads the default fields (title, description) and lang of an ordinary head', () => {
    const page = bytes('<!doctype html><html lang=" en "><head><meta charset="utf-8"><title>T</title><meta name="Description" content=" About\n  it "></head><body>');
    expect(headFields(page, UTF8, DEFAULT)).toEqual({ title: 'T', description: 'About it' });
    expect(headFields(page, UTF8, SPECS[4] as NormalizedExtract)).toEqual({ title: 'T', description: 'About it', lang: 'en' });
    for (const spec of SPECS) expect(headFields(page, UTF8, spec)).toEqual(extractBody(page, UTF8, URL_, spec));
    // No description in the head: it may be anywhere in the page, so the scan must read on.
    expect(headFields(bytes('<html><head><title>T</title></head><body><p>x</p><meta name=description content=late>'), UTF8, DEFAULT)).toBeUndefined();
  });

  it('reads the title of an ordinary head, as the scan does', () => {
    const page = bytes('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Small  page\n 7</title></head><body><p>x</p></body></html>');
    expect(headTitle(page, UTF8)).toBe('Small page 7');
    expect(headTitle(page, UTF8)).toBe(scanTitle(page, UTF8));
  });

  it('steps over comments, scripts and styles, and quoted values that hold markup', () => {
    const page = bytes(
      '\uFEFF<!DOCTYPE html>\n<!-- <title>not this</title> --><html><head><meta name="x" content="a > <title>b</title>">' +
        "<script>var t = '<title>no</title>'; if (a</b) {}</script ><STYLE media=all>p{}</style><link rel=icon href=/i>" +
        '<title data-x="1>2">Réal — 日本</title>',
    );
    expect(headTitle(page, UTF8)).toBe('Réal — 日本');
    expect(headTitle(page, UTF8)).toBe(scanTitle(page, UTF8));
  });

  it('leaves to the scan what it cannot be sure of', () => {
    const cases: [string, string | null][] = [
      ['<title>Tom &amp; Jerry</title>', UTF8], // a character reference
      ['<title>x</title>', 'text/html'], // no charset: the <meta> prescan decides
      ['<title>x</title>', 'text/html; charset=windows-1252'],
      ['<title>x</title>', 'text/html; charset=utf-8; x=y'],
      ['<title>x</title>', null],
      ['<body><title>x</title>', UTF8], // an element outside the accepted set
      ['<noscript><title>x</title></noscript>', UTF8],
      ['<svg><title>x</title></svg>', UTF8],
      ['</head><title>x</title>', UTF8],
      ['<title/>x</title>', UTF8], // self-closing: not the title's text state
      ['<title>unclosed', UTF8],
      ['<![CDATA[x]]><title>x</title>', UTF8],
      ['<script>never closed <title>x</title>', UTF8],
    ];
    for (const [html, contentType] of cases) expect(headTitle(bytes(html), contentType), html).toBeUndefined();
    // A head that runs past HEAD_MAX_BYTES (here a script) is not read on the main thread, a head within it is.
    const script = (n: number): string => `<script>${'x'.repeat(n)}</script>`;
    expect(headTitle(bytes(`${script(HEAD_MAX_BYTES)}<title>late</title>`), UTF8)).toBeUndefined();
    expect(headTitle(bytes(`${script(HEAD_MAX_BYTES - 100)}<title>early</title>${'y'.repeat(HEAD_MAX_BYTES)}`), UTF8)).toBe('early');
    // A UTF-16 byte order mark outranks the Content-Type.
    expect(headTitle(new Uint8Array([0xff, 0xfe, ...bytes('<title>x</title>')]), UTF8)).toBeUndefined();
  });

  it('answers as the scan does on generated heads (seeded fuzz)', async () => {
    await loadSniffer();
    for (const seed of [20261208, 7, 4242]) {
      const { answered, declined } = fuzz(seed, 5000);
      // Both ways must be exercised, or the comparison proves nothing.
      expect(answered, `seed ${seed}`).toBeGreaterThan(400);
      expect(declined, `seed ${seed}`).toBeGreaterThan(400);
    }
  });
});

/** Generates `count` pages from `seed` and compares every answer with the scan's; returns how many it answered. */
function fuzz(seed: number, count: number): { answered: number; declined: number } {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const some = (make: () => string, max: number): string => Array.from({ length: Math.floor(random() * (max + 1)) }, make).join('');

  const attrName = (): string => pick(['a', 'charset', 'content', 'name', 'HREF', 'data-x', '"q"', "'", '=x', 'a/b', 'x<y']);
  const attrValue = (): string =>
    pick(['', '=v', '=a>b', '="a > b"', "='it\"s'", '= "spaced"', '="<title>x</title>"', "='/>'", '=/', '=', '="unclosed', '=x/']);
  const attrs = (): string => some(() => pick([' ', '\n', '\t', '/', ' / ']) + attrName() + attrValue(), 3) + pick(['', ' ', '/', ' /', '\f']);
  const htmlTag = (): string =>
    `<${pick(['html', 'HTML'])}${pick(['', ' lang=en', ' LANG="fr-CA"', " lang=' de '", ' lang', ' lang=""', ' lang="a&amp;b"', ' lang=x lang=y', ' xml:lang=z', ' lang="日本"'])}${pick(['', ' dir=ltr', '/'])}>`;
  const descriptionMeta = (): string =>
    `<meta${pick([' name=description', ' NAME="DESCRIPTION"', " name='description '", ' name=descriptions', ' name="desc&amp;"', ' name=robots', ' name=description name=x', ' content=first name=description'])}${pick([
      ' content="About it"',
      ' content=" a\n b "',
      ' content',
      '',
      ' content="x &amp; y"',
      ' CONTENT=\'<b>"\'',
      ' content="é 日本"',
      ' content=one content=two',
    ])}${pick(['', '/', ' /'])}>`;
  const rawContent = (name: string): string =>
    some(() => pick(['x', ' ', `</${name}x>`, `</${name}`, '<title>t</title>', '<', '</', `</${name.toUpperCase()}/`, '<!--', '\u001c', '"', 'é']), 5);
  const rawEnd = (name: string): string => pick([`</${name}>`, `</${name.toUpperCase()} >`, `</${name}\n x>`, `</${name}/>`, `</${name}`, '']);

  // Half the pages are calm (what most heads hold), so that both ways are well exercised; the others draw from all.
  let calm = false;
  const before = (): string =>
    calm
      ? pick([
          () => pick([' ', '\n', '<!doctype html>', '<!-- c -->', '<html lang="en">', '<meta name="description" content="About">', '<meta charset="utf-8">', '<meta charset="utf-8">']),
          () => `<${pick(['html', 'head', 'meta', 'link'])}${pick(['', ' charset="utf-8"', ' name=viewport content="width=device-width"', ' rel=stylesheet href="/s.css"'])}>`,
          () => `<script${pick(['', ' src="/a.js"', ' type="application/ld+json"'])}>${pick(['', 'var a = 1 < 2;', '{"x": "</scr"}'])}</script>`,
          () => `<style>${pick(['', 'p > a { color: red }'])}</style>`,
        ])()
      : pick([
      () => pick([' ', '\n', 'hello', 'a < b', '<3', '&amp;', '<', '< title>', 'é']),
      () => pick(['<!doctype html>', '<!DOCTYPE html PUBLIC "-//W3C//DTD" "x>y">', '<!>', '<!x>', '<!', '<?xml version="1.0"?>', '<?>']),
      () => pick(['<!---->', '<!-->', '<!--->', '<!-- a -- b -->', '<!-- <title>fake</title> -->', '<!-x>', '<!-- --!>', '<!-- unclosed', '<![CDATA[x]]>']),
      () => `<${pick(['html', 'HEAD', 'meta', 'Link', 'base', 'head'])}${attrs()}>`,
      () => htmlTag(),
      () => descriptionMeta(),
      () => {
        const name = pick(['script', 'style', 'SCRIPT']);
        return `<${name}${attrs()}>${rawContent(name.toLowerCase())}${rawEnd(name.toLowerCase())}`;
      },
      () => `<${pick(['body', 'p', 'svg', 'noscript', 'textarea', 'titlex', 'xmp', 'div', 'metas'])}${attrs()}>`,
      () => pick(['</head>', '</p>', '</ >']),
      () =>
        pick([
          '<meta charset="utf-8">',
          '<meta charset=UTF8>',
          "<meta charset='latin1'>",
          '<meta charset=utf-16le>',
          '<meta http-equiv="content-type" content="text/html; charset=utf-8">',
          '<meta content="text/html;charset=shift_jis" http-equiv=Content-Type>',
          '<script>"<meta charset=iso-8859-2>"</script>',
          '<meta name=x content="<meta charset=koi8-r>">',
          '<!-- <meta charset=gbk> -->',
        ]),
    ])();

  const titleText = (): string =>
    calm
      ? some(() => pick(['Title', ' ', '\n  ', 'x', 'héllo 日本', '—', '|', 'Small page 7']), 6)
      : some(
      () =>
        pick([
          'Title',
          ' ',
          '  ',
          '\n',
          '\t',
          '\r\n',
          'x',
          '&amp;',
          '<b>',
          '</titlex>',
          '</title/>',
          '</tit',
          'héllo 日本',
          '\u00a0',
          '\u0000',
          '\u001c/title>',
          '\u000f',
          '<',
          '</',
        ]),
      6,
    );
  const titleStart = (): string => pick(['<title>', '<TITLE>', '<title lang="x>y">', '<title/>', '<title / >', '<title a=b/>', '<Title\n>', '<title']);
  const titleEnd = (): string => pick(['</title>', '</TITLE >', '</title\n>', '</title\t/x>', '</title/>', '']);
  const rest = (): string =>
    some(() => pick(['</head><body><p>x</p></body></html>', '', '<meta name=description content=d>', '<title>second</title>', descriptionMeta(), htmlTag(), '<script>x</script>', '<!-- c -->']), 3);

  const contentTypes = [UTF8, 'text/html;charset=UTF-8', 'text/html; charset="utf8"', 'TEXT/HTML; CHARSET=UNICODE-1-1-UTF-8', 'text/html', 'text/html', 'text/html; charset=iso-8859-1', 'text/html; charset=bogus', null];
  const invalid = [[0xff], [0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf]];

  let answered = 0;
  let declined = 0;
  for (let i = 0; i < count; i++) {
    const parts: Uint8Array[] = [];
    calm = random() < 0.5;
    const bom = random();
    if (bom < 0.05) parts.push(new Uint8Array([0xef, 0xbb, 0xbf]));
    else if (bom < 0.07) parts.push(new Uint8Array([0xff, 0xfe]));
    parts.push(bytes(some(before, 5) + titleStart()));
    // Title text, with invalid UTF-8 now and then (the decoder's replacement characters must match).
    for (let k = Math.floor(random() * 3); k >= 0; k--) {
      parts.push(bytes(titleText()));
      if (random() < 0.2) parts.push(new Uint8Array(pick(invalid)));
    }
    parts.push(bytes(titleEnd() + rest()));
    const body = new Uint8Array(Buffer.concat(parts));
    const contentType = random() < 0.6 ? UTF8 : pick(contentTypes);
    const spec = pick(SPECS);
    const fast = headFields(body, contentType, spec);
    if (fast === undefined) {
      declined++;
      continue;
    }
    answered++;
    const expected = extractBody(body, contentType, URL_, spec);
    if (JSON.stringify(fast) !== JSON.stringify(expected)) {
      throw new Error(
        `seed ${seed}, case ${i}, spec ${JSON.stringify(spec)}: headFields gave ${JSON.stringify(fast)}, the scan ${JSON.stringify(expected)} for ${contentType} ${JSON.stringify(Buffer.from(body).toString('latin1'))}`,
      );
    }
  }
  return { answered, declined };
}
