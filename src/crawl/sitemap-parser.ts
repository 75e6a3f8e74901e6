import { XmlSitemapReader, type XmlSitemapHost } from './sitemap-xml.js';
import {
  normalizeSitemapOptions,
  SITEMAP_MAX_LOC_CHARS,
  SitemapError,
  type NormalizedSitemapOptions,
  type SitemapEntry,
  type SitemapFormat,
  type SitemapOptions,
  type SitemapSummary,
  type SitemapWarning,
} from './sitemap-types.js';

/** Where a `SitemapParser` delivers what it reads. Exactly one of `end` and `error` is called, exactly once. */
export interface SitemapSink {
  entry(entry: SitemapEntry): void;
  warning(warning: SitemapWarning): void;
  end(summary: SitemapSummary): void;
  error(error: SitemapError): void;
}

/**
 * A push parser for the DECOMPRESSED bytes of one sitemap (https://www.sitemaps.org/protocol.html): `write()` the
 * bytes as they arrive, `end()` at the end of the body. Entries go to the sink as soon as they are complete (an
 * entry is complete at its `</url>`), so memory stays flat however long the file is.
 *
 * The format is sniffed from the first non-whitespace character after an optional BOM: `<` is XML (a `<urlset>` or
 * a `<sitemapindex>`, parsed strictly by saxes: see `XmlSitemapReader` for which elements count), anything else a
 * text sitemap (one URL a line, blank lines skipped), a body of only whitespace is `empty`. Leading whitespace before
 * `<?xml` is tolerated. Bytes are decoded as UTF-8, which the protocol requires (an `encoding` in the XML
 * declaration is not honoured). Gzip bytes (a `.gz` served without Content-Encoding) are `SITEMAP_GZIP` here:
 * `readSitemap()` inflates them.
 *
 * Past `maxUrls` entries or `maxBytes` bytes the parser stops, sends a `cut` warning and ends: entries before the
 * limit are kept, as the protocol's limits are per file. Not well-formed XML fails with `SITEMAP_PARSE` and its line
 * and column; entries before the error were already delivered. After the parser settles, `write()` and `end()` do
 * nothing. Neither ever throws for any input; an exception thrown BY the sink propagates, and settles the parser.
 */
export class SitemapParser {
  readonly #sink: SitemapSink;
  readonly #options: NormalizedSitemapOptions;
  readonly #gzip: boolean;
  readonly #decoder = new TextDecoder('utf-8');
  readonly #host: XmlSitemapHost;
  #format: SitemapFormat | null = null;
  #xml: XmlSitemapReader | null = null;
  #settled = false;
  #bytes = 0;
  #entries = 0;
  #line = '';
  #lineTooLong = false;

  /** `gzip` only marks the summary: the bytes written must already be inflated. */
  constructor(sink: SitemapSink, options?: SitemapOptions & { gzip?: boolean }) {
    this.#sink = sink;
    this.#options = normalizeSitemapOptions(options);
    this.#gzip = options?.gzip === true;
    this.#host = {
      root: (format) => {
        this.#format = format;
      },
      entry: (kind, loc, lastmod) => this.#entry(kind, loc, lastmod),
      skipped: (reason, message) => this.#warn({ kind: 'skipped', reason, message }),
      fail: (error) => this.#fail(error),
      isSettled: () => this.#settled,
    };
  }

  /** True once `end` or `error` has been delivered. */
  get settled(): boolean {
    return this.#settled;
  }

  write(chunk: Uint8Array): void {
    if (this.#settled) return;
    const room = this.#options.maxBytes - this.#bytes;
    const over = chunk.length > room;
    const piece = over ? chunk.subarray(0, room) : chunk;
    this.#bytes += piece.length;
    this.#guard(() => this.#text(this.#decoder.decode(piece, { stream: true })));
    if (over && !this.#settled) {
      this.#warn({ kind: 'cut', limit: 'bytes', message: `sitemap cut at ${this.#options.maxBytes} bytes (the limit of one sitemap file); the entries before it are kept` });
      this.#finish('bytes');
    }
  }

  end(): void {
    if (this.#settled) return;
    this.#guard(() => {
      this.#text(this.#decoder.decode());
      if (this.#settled) return;
      if (this.#xml) this.#xml.end();
      else if (this.#format === 'text') this.#finishLine();
    });
    if (!this.#settled) this.#finish(null);
  }

  /** Runs parser work; an exception from inside it (a parser bug, never the input) becomes SITEMAP_PARSE. */
  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      if (this.#settled) throw error; // the sink threw: the caller's exception, the parser is already settled
      this.#fail(new SitemapError('SITEMAP_PARSE', `sitemap parser failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }

  #text(text: string): void {
    if (text.length === 0 || this.#settled) return;
    if (this.#format === null) {
      const start = text.search(/\S/);
      if (start === -1) return; // still only whitespace
      text = text.slice(start);
      if (text.charCodeAt(0) === 0x1f) {
        this.#fail(new SitemapError('SITEMAP_GZIP', 'sitemap bytes are gzip-compressed: inflate them first (readSitemap() does)'));
        return;
      }
      if (text[0] === '<') {
        this.#format = 'urlset'; // provisional until the root element is read
        this.#xml = new XmlSitemapReader(this.#host);
      } else {
        this.#format = 'text';
      }
    }
    if (this.#xml) this.#xml.write(text);
    else this.#textLines(text);
  }

  #textLines(text: string): void {
    let start = 0;
    while (!this.#settled) {
      const newline = text.indexOf('\n', start);
      const part = newline === -1 ? text.slice(start) : text.slice(start, newline);
      if (!this.#lineTooLong) {
        if (this.#line.length + part.length > SITEMAP_MAX_LOC_CHARS) {
          this.#lineTooLong = true;
          this.#line = '';
        } else {
          this.#line += part;
        }
      }
      if (newline === -1) return;
      this.#finishLine();
      start = newline + 1;
    }
  }

  #finishLine(): void {
    if (this.#lineTooLong) {
      this.#warn({ kind: 'skipped', reason: 'loc-too-long', message: `a line longer than ${SITEMAP_MAX_LOC_CHARS} characters was skipped` });
    } else {
      const loc = this.#line.trim();
      if (loc) this.#entry('url', loc, null);
    }
    this.#line = '';
    this.#lineTooLong = false;
  }

  #entry(kind: 'url' | 'sitemap', loc: string, lastmod: string | null): void {
    if (this.#settled) return;
    if (this.#entries === this.#options.maxUrls) {
      this.#warn({ kind: 'cut', limit: 'urls', message: `sitemap cut after ${this.#options.maxUrls} entries (the limit of one sitemap file); the entries before it are kept` });
      this.#finish('urls');
      return;
    }
    this.#entries += 1;
    this.#toSink(() => this.#sink.entry({ kind, loc, lastmod }));
  }

  #warn(warning: SitemapWarning): void {
    this.#toSink(() => this.#sink.warning(warning));
  }

  /** A sink that throws settles the parser (nothing more is delivered) and its exception propagates to the caller. */
  #toSink(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.#settled = true;
      throw error;
    }
  }

  #finish(cut: 'urls' | 'bytes' | null): void {
    this.#settled = true;
    this.#sink.end({ format: this.#format ?? 'empty', gzip: this.#gzip, entries: this.#entries, bytes: this.#bytes, cut });
  }

  #fail(error: SitemapError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#sink.error(error);
  }
}
