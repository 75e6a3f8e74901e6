import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  parseLastmod,
  readSitemap,
  SitemapError,
  SitemapParser,
  sitemapsInRobots,
  type SitemapEvent,
  type SitemapOptions,
  type SitemapSummary,
} from '../src/crawl/sitemap.js';
import { rng as random } from './fixtures/rng.mjs';

const NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

interface Outcome {
  events: SitemapEvent[];
  summary?: SitemapSummary;
  error?: SitemapError;
}

/** Feeds bytes to the push parser split at the given offsets; asserts it settles exactly once and never throws. */
function parse(bytes: Uint8Array, splits: number[] = [], options?: SitemapOptions): Outcome {
  const outcome: Outcome = { events: [] };
  let settlements = 0;
  const parser = new SitemapParser(
    {
      entry: (entry) => {
        if (settlements > 0) throw new Error('entry after settling');
        outcome.events.push(entry);
      },
      warning: (warning) => {
        if (settlements > 0) throw new Error('warning after settling');
        outcome.events.push(warning);
      },
      end: (summary) => {
        settlements += 1;
        outcome.summary = summary;
      },
      error: (error) => {
        settlements += 1;
        outcome.error = error;
      },
    },
    options,
  );
  let at = 0;
  for (const split of [...splits, bytes.length]) {
    parser.write(bytes.subarray(at, split));
    at = split;
  }
  parser.end();
  parser.end();
  parser.write(encode('<late/>'));
  if (settlements !== 1) throw new Error(`settled ${settlements} times`);
  return outcome;
}

async function* chunks(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

/** Reads through readSitemap(); asserts it returns or throws a SitemapError, once. */
async function read(source: AsyncIterable<Uint8Array>, options?: SitemapOptions): Promise<Outcome> {
  const outcome: Outcome = { events: [] };
  const reader = readSitemap(source, options);
  try {
    for (;;) {
      const next = await reader.next();
      if (next.done) {
        outcome.summary = next.value;
        break;
      }
      outcome.events.push(next.value);
    }
  } catch (error) {
    if (!(error instanceof SitemapError)) throw error;
    outcome.error = error;
  }
  return outcome;
}

const pieces = (bytes: Uint8Array, size: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
};

const urlset = (body: string, attributes = `xmlns="${NS}"`): string => `<?xml version="1.0" encoding="UTF-8"?>\n<urlset ${attributes}>\n${body}\n</urlset>\n`;
const locs = (outcome: Outcome): string[] => outcome.events.flatMap((event) => ('loc' in event ? [event.loc] : []));

// The examples of https://www.sitemaps.org/protocol.html, as published.
const PROTOCOL_URLSET = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
   <url>
      <loc>http://www.example.com/</loc>
      <lastmod>2005-01-01</lastmod>
      <changefreq>monthly</changefreq>
      <priority>0.8</priority>
   </url>
   <url>
      <loc>http://www.example.com/catalog?item=12&amp;desc=vacation_hawaii</loc>
      <changefreq>weekly</changefreq>
   </url>
   <url>
      <loc>http://www.example.com/catalog?item=73&amp;desc=vacation_new_zealand</loc>
      <lastmod>2004-12-23</lastmod>
      <changefreq>weekly</changefreq>
   </url>
   <url>
      <loc>http://www.example.com/catalog?item=74&amp;desc=vacation_newfoundland</loc>
      <lastmod>2004-12-23T18:00:15+00:00</lastmod>
      <priority>0.3</priority>
   </url>
</urlset>`;

const PROTOCOL_INDEX = `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
   <sitemap>
      <loc>http://www.example.com/sitemap1.xml.gz</loc>
      <lastmod>2004-10-01T18:23:17+00:00</lastmod>
   </sitemap>
   <sitemap>
      <loc>http://www.example.com/sitemap2.xml.gz</loc>
      <lastmod>2005-01-01</lastmod>
   </sitemap>
</sitemapindex>`;

const EXTENSIONS = urlset(
  `<!-- <url><loc>http://commented.example/</loc></url> -->
  <url>
    <loc>
      http://example.com/sample.html
    </loc>
    <image:image><image:loc>http://example.com/image.jpg</image:loc></image:image>
    <video:video><video:content_loc>http://example.com/v.mp4</video:content_loc><video:loc>http://example.com/v</video:loc></video:video>
  </url>
  <url><loc><![CDATA[http://example.com/cdata?a=1&b=<2>]]></loc></url>
  <url><loc>http://example.com/q?x=&lt;&gt;&quot;&apos;&#38;&#x41;</loc><lastmod> 2024-02-29 </lastmod></url>
  <url><loc>http://example.com/first</loc><loc>http://example.com/second</loc></url>
  <url><other><loc>http://example.com/nested-deeper</loc></other><loc>http://example.com/direct</loc></url>
  <url><loc>http://example.com/é/日本</loc></url>`,
  `xmlns="${NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"`,
);

const DOCUMENTS: Record<string, string> = {
  'protocol urlset': PROTOCOL_URLSET,
  'protocol index': PROTOCOL_INDEX,
  extensions: EXTENSIONS,
  text: '\uFEFFhttp://example.com/a\r\n\r\nhttp://example.com/é\n  http://example.com/c  \nhttp://example.com/d',
};

describe('sitemap: what counts as an entry', () => {
  it('reads the protocol urlset example: loc with entities decoded, lastmod or null', () => {
    const outcome = parse(encode(PROTOCOL_URLSET));
    expect(outcome.events).toEqual([
      { kind: 'url', loc: 'http://www.example.com/', lastmod: '2005-01-01' },
      { kind: 'url', loc: 'http://www.example.com/catalog?item=12&desc=vacation_hawaii', lastmod: null },
      { kind: 'url', loc: 'http://www.example.com/catalog?item=73&desc=vacation_new_zealand', lastmod: '2004-12-23' },
      { kind: 'url', loc: 'http://www.example.com/catalog?item=74&desc=vacation_newfoundland', lastmod: '2004-12-23T18:00:15+00:00' },
    ]);
    expect(outcome.summary).toEqual({ format: 'urlset', gzip: false, entries: 4, bytes: encode(PROTOCOL_URLSET).length, cut: null });
  });

  it('reads the protocol sitemap index example: child sitemaps marked as such', () => {
    const outcome = parse(encode(PROTOCOL_INDEX));
    expect(outcome.events).toEqual([
      { kind: 'sitemap', loc: 'http://www.example.com/sitemap1.xml.gz', lastmod: '2004-10-01T18:23:17+00:00' },
      { kind: 'sitemap', loc: 'http://www.example.com/sitemap2.xml.gz', lastmod: '2005-01-01' },
    ]);
    expect(outcome.summary?.format).toBe('sitemapindex');
  });

  it('ignores image:loc, video:loc, comments and deeper locs; decodes CDATA and entities; trims; first loc wins', () => {
    const outcome = parse(encode(EXTENSIONS));
    expect(outcome.error).toBeUndefined();
    expect(outcome.events).toEqual([
      { kind: 'url', loc: 'http://example.com/sample.html', lastmod: null },
      { kind: 'url', loc: 'http://example.com/cdata?a=1&b=<2>', lastmod: null },
      { kind: 'url', loc: `http://example.com/q?x=<>"'&A`, lastmod: '2024-02-29' },
      { kind: 'url', loc: 'http://example.com/first', lastmod: null },
      { kind: 'url', loc: 'http://example.com/direct', lastmod: null },
      { kind: 'url', loc: 'http://example.com/é/日本', lastmod: null },
    ]);
  });

  it('reads a prefixed sitemap namespace, and tolerates a sitemap with no namespace at all', () => {
    const prefixed = `<sm:urlset xmlns:sm="${NS}"><sm:url><sm:loc>http://a.example/</sm:loc></sm:url><url><loc>http://no-ns.example/</loc></url></sm:urlset>`;
    expect(locs(parse(encode(prefixed)))).toEqual(['http://a.example/']);
    const bare = '<urlset><url><loc>http://a.example/</loc></url><url xmlns="http://other.example/"><loc>http://b.example/</loc></url></urlset>';
    expect(locs(parse(encode(bare)))).toEqual(['http://a.example/']);
  });

  it('a root in another namespace or of another name is SITEMAP_ROOT', () => {
    for (const doc of ['<urlset xmlns="http://www.google.com/schemas/sitemap/0.84"><url><loc>x</loc></url></urlset>', '<html><body/></html>', `<feed xmlns="http://www.w3.org/2005/Atom"/>`]) {
      const outcome = parse(encode(doc));
      expect(outcome.error?.code).toBe('SITEMAP_ROOT');
      expect(outcome.events).toEqual([]);
    }
  });

  it('skips an entry with no loc, with a warning; ignores <url> in an index and <sitemap> in a urlset', () => {
    const outcome = parse(encode(urlset('<url><lastmod>2020</lastmod></url><url><loc>  </loc></url><sitemap><loc>http://s/</loc></sitemap><url><loc>http://u/</loc></url>')));
    expect(outcome.events.map((event) => event.kind)).toEqual(['skipped', 'skipped', 'url']);
    expect(locs(parse(encode(`<sitemapindex xmlns="${NS}"><url><loc>http://u/</loc></url><sitemap><loc>http://s/</loc></sitemap></sitemapindex>`)))).toEqual(['http://s/']);
  });

  it('skips a loc past 8192 characters with a warning, keeping memory bounded', () => {
    const long = `http://example.com/${'x'.repeat(9000)}`;
    const outcome = parse(encode(urlset(`<url><loc>${long}</loc></url><url><loc>http://ok/</loc></url>`)));
    expect(outcome.events.map((event) => event.kind)).toEqual(['skipped', 'url']);
    const text = parse(encode(`${long}\nhttp://ok/\n`));
    expect(text.events.map((event) => event.kind)).toEqual(['skipped', 'url']);
  });

  it('reads a text sitemap: one URL a line, BOM, CRLF, blank lines and surrounding spaces dropped', () => {
    const outcome = parse(encode(DOCUMENTS.text!));
    expect(locs(outcome)).toEqual(['http://example.com/a', 'http://example.com/é', 'http://example.com/c', 'http://example.com/d']);
    expect(outcome.summary?.format).toBe('text');
    expect(outcome.events.every((event) => event.kind === 'url' && event.lastmod === null)).toBe(true);
  });

  it('tolerates whitespace before the XML declaration; an empty body is format empty', () => {
    expect(locs(parse(encode(`\r\n  ${PROTOCOL_INDEX}`)))).toHaveLength(2);
    expect(parse(encode(' \n\t ')).summary).toEqual({ format: 'empty', gzip: false, entries: 0, bytes: 4, cut: null });
    expect(parse(new Uint8Array(0)).summary?.format).toBe('empty');
  });
});

describe('sitemap: not well-formed XML', () => {
  it.each([
    ['mismatched tags', urlset('<url><loc>http://a/</loc></url><url><loc>http://b/</lo></url>'), 3],
    ['a bare <', urlset('<url><loc>http://a/</loc></url><url><loc>http://b/?x=1<2</loc></url>'), 3],
    ['a bare &', urlset('<url><loc>http://a/</loc></url><url><loc>http://b/?x=1&y=2</loc></url>'), null], // saxes notices a bare & further on
    ['a truncated document', urlset('<url><loc>http://a/</loc></url><url><loc>http://b/</loc>').slice(0, -12), null],
    ['an undeclared prefix', urlset('<url><loc>http://a/</loc></url><url><image:loc>x</image:loc></url>'), 3],
    ['text after the root', `${urlset('<url><loc>http://a/</loc></url>')}garbage`, null],
    ['an undefined entity', urlset('<url><loc>http://a/</loc></url><url><loc>&nbsp;</loc></url>'), 3],
  ])('%s: SITEMAP_PARSE with line and column, after the entries before it', (_name, doc, line) => {
    const outcome = parse(encode(doc));
    expect(locs(outcome)).toEqual(['http://a/']);
    expect(outcome.error).toBeInstanceOf(SitemapError);
    expect(outcome.error?.code).toBe('SITEMAP_PARSE');
    expect(outcome.error?.message).toMatch(/^sitemap is not well-formed XML at line \d+, column \d+: /);
    if (line !== null) expect(outcome.error?.line).toBe(line);
    else expect(outcome.error?.line).toBeGreaterThanOrEqual(3);
    expect(outcome.error?.column).toBeGreaterThan(0);
  });

  it('gzip bytes given to the push parser are SITEMAP_GZIP, not a text sitemap of garbage', () => {
    expect(parse(gzipSync(PROTOCOL_URLSET)).error?.code).toBe('SITEMAP_GZIP');
  });
});

describe('sitemap: protocol limits', () => {
  const generated = (count: number): string => {
    const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="${NS}">\n`];
    for (let i = 0; i < count; i++) parts.push(`<url><loc>https://example.com/page/${i}</loc><lastmod>2024-01-01</lastmod></url>\n`);
    parts.push('</urlset>\n');
    return parts.join('');
  };

  it('cuts a 50,001-entry sitemap after 50,000 entries with a cut warning (urls), keeping those before', async () => {
    const bytes = encode(generated(50_001));
    const outcome = await read(chunks(pieces(bytes, 16 * 1024)));
    const entries = outcome.events.filter((event) => event.kind === 'url');
    expect(entries).toHaveLength(50_000);
    expect(locs(outcome).at(-1)).toBe('https://example.com/page/49999');
    expect(outcome.events.at(-1)).toMatchObject({ kind: 'cut', limit: 'urls' });
    expect(outcome.summary).toMatchObject({ format: 'urlset', entries: 50_000, cut: 'urls' });
  });

  it('reads exactly 50,000 entries with no warning', () => {
    const outcome = parse(encode(generated(50_000)));
    expect(outcome.events).toHaveLength(50_000);
    expect(outcome.summary?.cut).toBeNull();
  });

  it('cuts a text sitemap at the URL limit too', () => {
    const lines = Array.from({ length: 12 }, (_, i) => `http://example.com/${i}`).join('\n');
    const outcome = parse(encode(lines), [], { maxUrls: 10 });
    expect(locs(outcome)).toHaveLength(10);
    expect(outcome.summary?.cut).toBe('urls');
  });

  it('cuts at the byte limit: entries complete before it are kept, the rest of the body is not read', () => {
    const bytes = encode(generated(100));
    const outcome = parse(bytes, [100, 2000, 5000], { maxBytes: 3000 });
    expect(outcome.events.at(-1)).toMatchObject({ kind: 'cut', limit: 'bytes' });
    expect(outcome.summary).toMatchObject({ bytes: 3000, cut: 'bytes' });
    const kept = locs(outcome);
    expect(kept.length).toBeGreaterThan(20);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `https://example.com/page/${i}`));
    // A body of exactly the limit is not cut.
    expect(parse(bytes, [], { maxBytes: bytes.length }).summary?.cut).toBeNull();
  });

  it('stops a gzip bomb at 50 MiB of inflated bytes, and leaves a source that would never end', async () => {
    const padding = ' '.repeat(1024 * 1024);
    const parts = [`<urlset xmlns="${NS}"><url><loc>http://first/</loc></url>`];
    for (let i = 0; i < 51; i++) parts.push(`<!--${padding}-->`);
    const bomb = gzipSync(parts.join(''));
    expect(bomb.length).toBeLessThan(200_000);
    let returned = false;
    const endless = (async function* () {
      try {
        yield* pieces(bomb, 8192);
        await new Promise(() => {}); // never ends: the reader must not wait for it
      } finally {
        returned = true;
      }
    })();
    const outcome = await read(endless);
    expect(locs(outcome)).toEqual(['http://first/']);
    expect(outcome.summary).toMatchObject({ gzip: true, bytes: 50 * 1024 * 1024, cut: 'bytes' });
    expect(returned).toBe(false); // the source is parked in a never-settling await; that is the caller's to abort
  });

  it('validates its limits, naming the option and the value', async () => {
    expect(() => new SitemapParser({ entry() {}, warning() {}, end() {}, error() {} }, { maxUrls: 0 })).toThrow('Expected `maxUrls` to be an integer from 1 and up, got `0` (number)');
    await expect(readSitemap(chunks([]), { maxBytes: 1.5 }).next()).rejects.toThrow('Expected `maxBytes` to be an integer from 1 and up, got `1.5` (number)');
  });

  it('an exception thrown by the sink propagates out of write() and settles the parser', () => {
    const calls: string[] = [];
    const parser = new SitemapParser({
      entry: (entry) => {
        calls.push(entry.loc);
        throw new Error('consumer bug');
      },
      warning: () => calls.push('warning'),
      end: () => calls.push('end'),
      error: () => calls.push('error'),
    });
    expect(() => parser.write(encode('http://a/\nhttp://b/\n'))).toThrow('consumer bug');
    expect(parser.settled).toBe(true);
    parser.write(encode('http://c/\n'));
    parser.end();
    expect(calls).toEqual(['http://a/']);
  });
});

describe('sitemap: gzip and the async reader', () => {
  it('inflates a .gz sitemap served without Content-Encoding, even one byte at a time', async () => {
    const gz = gzipSync(PROTOCOL_URLSET);
    const whole = await read(chunks([gz]));
    const bytewise = await read(chunks(pieces(gz, 1)));
    expect(whole.summary).toMatchObject({ format: 'urlset', gzip: true, entries: 4, cut: null });
    expect(bytewise).toEqual(whole);
    expect(whole.events).toEqual(parse(encode(PROTOCOL_URLSET)).events);
  });

  it('a truncated or corrupt gzip body is SITEMAP_GZIP', async () => {
    const gz = gzipSync(urlset(Array.from({ length: 2000 }, (_, i) => `<url><loc>http://e/${i}</loc></url>`).join('')));
    const truncated = await read(chunks([gz.subarray(0, gz.length - 10)]));
    expect(truncated.error?.code).toBe('SITEMAP_GZIP');
    const corrupt = gz.slice();
    corrupt.fill(0x55, 40, 80);
    expect((await read(chunks([corrupt]))).error?.code).toBe('SITEMAP_GZIP');
    expect((await read(chunks([Uint8Array.of(0x1f, 0x8b, 0, 1, 2)]))).error?.code).toBe('SITEMAP_GZIP');
  });

  it('rethrows an error of the source unchanged, plain or gzip', async () => {
    const boom = new Error('socket hang up');
    for (const body of [encode(PROTOCOL_URLSET), gzipSync(PROTOCOL_URLSET)]) {
      const failing = (async function* () {
        yield body.subarray(0, 100);
        throw boom;
      })();
      await expect(read(failing)).rejects.toBe(boom);
    }
  });

  it('returns the source when the consumer stops early, plain or gzip', async () => {
    const body = encode(Array.from({ length: 5000 }, (_, i) => `http://example.com/${i}`).join('\n'));
    for (const bytes of [body, gzipSync(body)]) {
      let returned = false;
      const source = (async function* () {
        try {
          yield* pieces(bytes, 512);
        } finally {
          returned = true;
        }
      })();
      let seen = 0;
      for await (const event of readSitemap(source)) {
        if (event.kind === 'url' && ++seen === 3) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(returned).toBe(true);
    }
  });
});


describe('sitemap: chunk boundaries', () => {
  it.each(Object.keys(DOCUMENTS))('%s: every split into two pieces reads the same entries', (name) => {
    const bytes = encode(DOCUMENTS[name]!);
    const expected = parse(bytes);
    for (let at = 0; at <= bytes.length; at++) {
      const outcome = parse(bytes, [at]);
      expect(outcome.events, `split at ${at}`).toEqual(expected.events);
      expect(outcome.summary).toEqual(expected.summary);
    }
  });

  it.each(Object.keys(DOCUMENTS))('%s: seeded random splits into many pieces read the same entries', (name) => {
    const bytes = encode(DOCUMENTS[name]!);
    const expected = parse(bytes);
    const next = random(name.length * 7919);
    for (let round = 0; round < 200; round++) {
      const splits = Array.from({ length: 1 + Math.floor(next() * 20) }, () => Math.floor(next() * bytes.length)).sort((a, b) => a - b);
      expect(parse(bytes, splits).events).toEqual(expected.events);
    }
  });
});

describe('sitemap: fuzz (seeded): every input settles exactly once, write() never throws', () => {
  const alphabet = ['<', '>', '&', '/', '"', "'", '=', ' ', '\n', 'url', 'loc', 'urlset', '<![CDATA[', ']]>', '<!--', '-->', '&amp;', '&#', ';', 'é', '\uFEFF', '\u0000', 'xmlns', ':', '?', '!'];
  const seeds = [...Object.values(DOCUMENTS).map(encode), encode(PROTOCOL_URLSET.repeat(2))];

  function mutate(next: () => number): Uint8Array {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const roll = next();
    if (roll < 0.15) return Uint8Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256));
    if (roll < 0.3) return encode(Array.from({ length: Math.floor(next() * 80) }, () => pick(alphabet)).join(''));
    const bytes = Array.from(pick(seeds));
    const edits = 1 + Math.floor(next() * 6);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(next() * (bytes.length + 1));
      const kind = next();
      if (kind < 0.25) bytes.length = at; // truncate
      else if (kind < 0.5) bytes.splice(at, Math.floor(next() * 20)); // delete
      else if (kind < 0.75) bytes.splice(at, 0, ...encode(pick(alphabet))); // insert markup
      else if (at < bytes.length) bytes[at] = Math.floor(next() * 256); // garble a byte
    }
    return Uint8Array.from(bytes);
  }

  it('push parser: 3,000 random, garbled and truncated inputs in random pieces', () => {
    const next = random(20);
    let errors = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = mutate(next);
      const splits = Array.from({ length: Math.floor(next() * 6) }, () => Math.floor(next() * (bytes.length + 1))).sort((a, b) => a - b);
      const outcome = parse(bytes, splits, next() < 0.2 ? { maxUrls: 2, maxBytes: 200 } : undefined);
      if (outcome.error) {
        errors += 1;
        expect(outcome.error).toBeInstanceOf(SitemapError);
        expect(['SITEMAP_PARSE', 'SITEMAP_ROOT', 'SITEMAP_GZIP']).toContain(outcome.error.code);
      }
    }
    expect(errors).toBeGreaterThan(300); // the fuzz does reach the failure paths
  });

  it('async reader: 400 inputs, half gzipped, some gzip bytes garbled or cut; each returns or throws a SitemapError', async () => {
    const next = random(21);
    for (let round = 0; round < 400; round++) {
      let bytes = mutate(next);
      if (next() < 0.5) {
        bytes = Uint8Array.from(gzipSync(bytes));
        if (next() < 0.5) {
          const copy = Array.from(bytes);
          const at = Math.floor(next() * copy.length);
          if (next() < 0.5) copy.length = at;
          else copy[at] = Math.floor(next() * 256);
          bytes = Uint8Array.from(copy);
        }
      }
      const size = 1 + Math.floor(next() * 64);
      const outcome = await Promise.race([
        read(chunks(pieces(bytes, size))),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`round ${round} did not settle`)), 5000)),
      ]);
      expect(outcome.summary !== undefined || outcome.error !== undefined).toBe(true);
    }
  });
});

describe('parseLastmod', () => {
  it.each([
    ['2005', Date.UTC(2005, 0, 1)],
    ['2005-02', Date.UTC(2005, 1, 1)],
    ['2005-01-01', Date.UTC(2005, 0, 1)],
    ['  2004-12-23\n', Date.UTC(2004, 11, 23)],
    ['2004-12-23T18:00:15+00:00', Date.UTC(2004, 11, 23, 18, 0, 15)],
    ['2004-10-01T18:23:17Z', Date.UTC(2004, 9, 1, 18, 23, 17)],
    ['2004-10-01T18:23Z', Date.UTC(2004, 9, 1, 18, 23)],
    ['1997-07-16T19:20:30.45+01:00', Date.UTC(1997, 6, 16, 18, 20, 30, 450)],
    ['1997-07-16T19:20-05:30', Date.UTC(1997, 6, 17, 0, 50)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2024-05-01T10:00:00', Date.UTC(2024, 4, 1, 10)], // no TZD: read as UTC
    ['0050-01-01', -60589296000000], // not 1950
  ])('%j -> %d', (value, expected) => {
    expect(parseLastmod(value)).toBe(expected);
  });

  it.each(['', 'yesterday', '2005-1-1', '05-01-01', '2005-13-01', '2005-00-10', '2023-02-29', '2005-04-31', '2005-01-01T25:00Z', '2005-01-01T10:60Z', '2005-01-01T10:00:61Z', '2005-01-01T10Z', '2005-01-01 10:00:00Z', '2005-01-01T10:00+0100', '2005-01-01T10:00+24:00', 'Tue, 01 Jan 2005 00:00:00 GMT', '2005-01-01Z'])(
    '%j -> null',
    (value) => {
      expect(parseLastmod(value)).toBeNull();
    },
  );
});

describe('sitemapsInRobots', () => {
  it('reads Sitemap lines in any case, anywhere, each once, without comments', () => {
    const robots = [
      '\uFEFFUser-agent: *',
      'Disallow: /private',
      'Sitemap: https://example.com/sitemap.xml',
      'sitemap:https://example.com/news.xml # the news',
      '  SITEMAP :  https://example.com/sitemap.xml  ',
      '',
      'User-agent: bot',
      'Sitemaps: https://example.com/not-a-field.xml',
      '# Sitemap: https://example.com/commented.xml',
      'Sitemap:',
      'sitemap: https://cdn.example.net/s.xml.gz\r',
    ].join('\r\n');
    expect(sitemapsInRobots(robots)).toEqual(['https://example.com/sitemap.xml', 'https://example.com/news.xml', 'https://cdn.example.net/s.xml.gz']);
    expect(sitemapsInRobots('')).toEqual([]);
  });
});
