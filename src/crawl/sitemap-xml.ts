import { SaxesParser, type SaxesTagNS } from 'saxes';
import { SITEMAP_MAX_LOC_CHARS, SITEMAP_NS, SitemapError } from './sitemap-types.js';

/** What the XML layer reports to the sitemap parser that owns it (which counts, limits and settles). */
export interface XmlSitemapHost {
  /** The root element was read and is a sitemap root. */
  root(format: 'urlset' | 'sitemapindex'): void;
  entry(kind: 'url' | 'sitemap', loc: string, lastmod: string | null): void;
  skipped(reason: 'no-loc' | 'loc-too-long', message: string): void;
  fail(error: SitemapError): void;
  /** True once the host has ended or failed: later events are ignored. */
  isSettled(): boolean;
}

/**
 * The XML half of the sitemap reader: saxes (strict, namespace-aware, streaming) turned into entries.
 *
 * Which elements count: the root must be `<urlset>` or `<sitemapindex>`, either in the sitemap namespace or in no
 * namespace at all. The protocol requires the namespace, but a sitemap that forgot its `xmlns` is still plainly a
 * sitemap and crawlers read it (Scrapy strips namespaces; Google reads them), so it is tolerated; a root in any OTHER
 * namespace (an Atom feed, XHTML) is `SITEMAP_ROOT`. Below it, only a `<url>`/`<sitemap>` child of the root and its
 * own `<loc>`/`<lastmod>` children count, all in the root's namespace: `<image:loc>`, `<video:loc>`, a `<loc>` nested
 * deeper, or one inside a comment are not entries. The first `<loc>` of an entry wins. Text and CDATA concatenate;
 * entities are decoded by saxes; the value is trimmed.
 */
export class XmlSitemapReader {
  readonly #host: XmlSitemapHost;
  readonly #sax: SaxesParser<{ xmlns: true; position: true }>;
  #depth = 0;
  #ns = '';
  #itemName = '';
  #kind: 'url' | 'sitemap' = 'url';
  #inItem = false;
  #field: 'loc' | 'lastmod' | null = null;
  #text = '';
  #tooLong = false;
  #loc: string | null = null;
  #lastmod: string | null = null;
  #locSkipped = false;

  constructor(host: XmlSitemapHost) {
    this.#host = host;
    this.#sax = new SaxesParser({ xmlns: true, position: true });
    this.#sax.on('error', (error) => this.#syntaxError(error));
    this.#sax.on('opentag', (tag) => this.#open(tag));
    this.#sax.on('closetag', () => this.#close());
    this.#sax.on('text', (text) => this.#appendText(text));
    this.#sax.on('cdata', (text) => this.#appendText(text));
  }

  write(text: string): void {
    this.#sax.write(text);
  }

  end(): void {
    this.#sax.close();
  }

  #syntaxError(error: Error): void {
    if (this.#host.isSettled()) return;
    const line = this.#sax.line;
    const column = this.#sax.column + 1;
    // saxes prefixes its message with "line:column: "; ours says it in words.
    const detail = error.message.replace(/^\d+:\d+: /, '');
    this.#host.fail(new SitemapError('SITEMAP_PARSE', `sitemap is not well-formed XML at line ${line}, column ${column}: ${detail}`, { line, column, cause: error }));
  }

  #open(tag: SaxesTagNS): void {
    if (this.#host.isSettled()) return;
    this.#depth += 1;
    if (this.#depth === 1) {
      const uri = tag.uri;
      if ((uri === SITEMAP_NS || uri === '') && (tag.local === 'urlset' || tag.local === 'sitemapindex')) {
        this.#ns = uri;
        this.#itemName = tag.local === 'urlset' ? 'url' : 'sitemap';
        this.#kind = tag.local === 'urlset' ? 'url' : 'sitemap';
        this.#host.root(tag.local);
        return;
      }
      const line = this.#sax.line;
      const column = this.#sax.column + 1;
      const named = uri ? `{${uri}}${tag.local}` : tag.local;
      this.#host.fail(new SitemapError('SITEMAP_ROOT', `not a sitemap: the root element is <${named}>, not <urlset> or <sitemapindex> of ${SITEMAP_NS}`, { line, column }));
      return;
    }
    if (tag.uri !== this.#ns) return;
    if (this.#depth === 2 && tag.local === this.#itemName) {
      this.#inItem = true;
      this.#loc = null;
      this.#lastmod = null;
      this.#locSkipped = false;
    } else if (this.#depth === 3 && this.#inItem && (tag.local === 'loc' || tag.local === 'lastmod')) {
      if (tag.local === 'loc' ? this.#loc !== null : this.#lastmod !== null) return; // the first one wins
      this.#field = tag.local;
      this.#text = '';
      this.#tooLong = false;
    }
  }

  #appendText(text: string): void {
    // Only text directly inside the <loc>/<lastmod> being read (depth 3), not inside a child element of it.
    if (this.#field === null || this.#depth !== 3 || this.#tooLong) return;
    if (this.#text.length + text.length > SITEMAP_MAX_LOC_CHARS) {
      this.#tooLong = true;
      this.#text = '';
      return;
    }
    this.#text += text;
  }

  #close(): void {
    if (this.#host.isSettled()) return;
    const depth = this.#depth;
    this.#depth -= 1;
    if (depth === 3 && this.#field !== null) {
      const value = this.#tooLong ? '' : this.#text.trim();
      if (this.#field === 'lastmod') {
        this.#lastmod = value;
      } else {
        this.#loc = value;
        if (this.#tooLong) {
          this.#locSkipped = true;
          this.#host.skipped('loc-too-long', `a <loc> longer than ${SITEMAP_MAX_LOC_CHARS} characters was skipped (line ${this.#sax.line})`);
        }
      }
      this.#field = null;
      this.#text = '';
    } else if (depth === 2 && this.#inItem) {
      this.#inItem = false;
      const loc = this.#loc;
      if (loc) {
        this.#host.entry(this.#kind, loc, this.#lastmod || null);
      } else if (!this.#locSkipped) {
        this.#host.skipped('no-loc', `a <${this.#itemName}> with no <loc> was skipped (line ${this.#sax.line})`);
      }
    }
  }
}
