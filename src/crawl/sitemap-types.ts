/** The sitemap namespace of the protocol (https://www.sitemaps.org/protocol.html). */
export const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';

/** The protocol's limits for one sitemap file: 50,000 URLs and 50 MiB (52,428,800 bytes) uncompressed. */
export const SITEMAP_MAX_URLS = 50_000;
export const SITEMAP_MAX_BYTES = 50 * 1024 * 1024;

/**
 * The longest `<loc>` (or text line) kept, in UTF-16 code units. The protocol asks for fewer than 2,048 characters;
 * longer ones exist in the wild, so the cap is looser, but it is a cap: memory stays flat on a hostile file.
 */
export const SITEMAP_MAX_LOC_CHARS = 8192;

/**
 * One entry of a sitemap: a page (`url`, from a `<urlset>` or a text sitemap) or a child sitemap (`sitemap`, from a
 * `<sitemapindex>`). `loc` is trimmed, entities and CDATA decoded, and NOT validated: the caller's URL checks apply.
 */
export interface SitemapEntry {
  kind: 'url' | 'sitemap';
  loc: string;
  /** The `<lastmod>` text, trimmed, or null when absent or empty; `parseLastmod()` turns it into epoch ms. */
  lastmod: string | null;
}

/** A protocol limit was reached: reading stopped there and the entries before it were kept. */
export interface SitemapCut {
  kind: 'cut';
  limit: 'urls' | 'bytes';
  message: string;
}

/** An entry that was dropped: a `<url>`/`<sitemap>` with no `<loc>`, or a loc or text line past the length cap. */
export interface SitemapSkipped {
  kind: 'skipped';
  reason: 'no-loc' | 'loc-too-long';
  message: string;
}

export type SitemapWarning = SitemapCut | SitemapSkipped;

/** What `readSitemap()` yields: entries and warnings, in document order. */
export type SitemapEvent = SitemapEntry | SitemapWarning;

/** What a sitemap turned out to be; `empty` is a body with nothing but whitespace. */
export type SitemapFormat = 'urlset' | 'sitemapindex' | 'text' | 'empty';

/** How a sitemap that did not fail ended. */
export interface SitemapSummary {
  format: SitemapFormat;
  gzip: boolean;
  /** Entries emitted. */
  entries: number;
  /** Decompressed bytes read (at most `maxBytes`). */
  bytes: number;
  /** The limit that cut the file short, or null when it was read to its end. */
  cut: 'urls' | 'bytes' | null;
}

/**
 * Stable codes of a sitemap that could not be read: `SITEMAP_PARSE` not well-formed XML (mismatched or unclosed
 * tags, a bare `<` or `&`, a truncated document, an undeclared prefix); `SITEMAP_ROOT` well-formed XML whose root is
 * not a `<urlset>` or `<sitemapindex>` of the sitemap namespace; `SITEMAP_GZIP` gzip bytes that do not inflate.
 */
export type SitemapErrorCode = 'SITEMAP_PARSE' | 'SITEMAP_ROOT' | 'SITEMAP_GZIP';

/** A sitemap that could not be read. Entries before the failure were already emitted. */
export class SitemapError extends Error {
  readonly code: SitemapErrorCode;
  /** 1-based position of the failure in the decoded text, when known. */
  readonly line: number | null;
  readonly column: number | null;

  constructor(code: SitemapErrorCode, message: string, extra: { line?: number; column?: number; cause?: unknown } = {}) {
    super(message, { cause: extra.cause });
    this.name = 'SitemapError';
    this.code = code;
    this.line = extra.line ?? null;
    this.column = extra.column ?? null;
  }
}

/** User options of the sitemap reader. */
export interface SitemapOptions {
  /**
   * Entries read from one file before it is cut.
   * @default 50_000 (the protocol's limit)
   */
  maxUrls?: number;
  /**
   * Decompressed bytes read from one file before it is cut.
   * @default 52_428_800 (50 MiB, the protocol's limit)
   */
  maxBytes?: number;
}

export interface NormalizedSitemapOptions {
  maxUrls: number;
  maxBytes: number;
}

/** Validates the options of a public entry point and fills in the protocol's limits. */
export function normalizeSitemapOptions(options: SitemapOptions = {}): NormalizedSitemapOptions {
  const maxUrls = options.maxUrls ?? SITEMAP_MAX_URLS;
  const maxBytes = options.maxBytes ?? SITEMAP_MAX_BYTES;
  for (const [name, value] of [['maxUrls', maxUrls], ['maxBytes', maxBytes]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`Expected \`${name}\` to be an integer from 1 and up, got \`${String(value)}\` (${typeof value})`);
    }
  }
  return { maxUrls, maxBytes };
}
