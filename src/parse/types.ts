/** Fields pulled out of one HTML page; only those the extraction spec asked for are set. */
export interface ParsedFields {
  /** `<title>`, whitespace collapsed; null when absent or not parsed. */
  title: string | null;
  /** `<meta name="description">` content; null when absent or not parsed. */
  description: string | null;
  /** Present when `extract.canonical` is on. */
  canonical?: string | null;
  /** Present when `extract.lang` is on. */
  lang?: string | null;
  /** Present when `extract.links` is on: absolute http(s) URLs, de-duplicated, in document order. */
  links?: string[];
  /**
   * Present when `extract.metaRobots` is on: the `content` of `<meta name="robots">` (anywhere in the page, name
   * ASCII case-insensitive), trimmed; several are joined with ", ". Null when the page has none with a non-blank
   * content. `robotsNofollow()` reads it.
   */
  metaRobots?: string | null;
  /**
   * Present when `extract.followSelect` is set: the absolute http(s) URLs of the `<a href>` / `<area href>` it
   * matches or that sit inside what it matches, resolved as `links` are (`<base href>`, fragment dropped),
   * de-duplicated, in document order; `[]` when nothing matched.
   */
  followLinks?: string[];
  /** Present when selectors were asked for: each name's value (null when nothing matched). */
  data?: Record<string, string | string[] | null>;
}

/** A page handed to the parse stage. */
export interface Page {
  /**
   * Transferred to a thread when `owned` and big (≥ 32 KiB, pool.ts SMALL_PAGE_BYTES; the caller must not touch it
   * afterwards); otherwise copied, with the other small pages of its batch, into one buffer that is.
   */
  body: Uint8Array;
  /** The body is the whole of an ArrayBuffer that nothing else references (HttpResponse.bodyOwned). */
  owned?: boolean;
  contentType: string | null;
  /** The final URL, which relative links resolve against (after `<base href>`). */
  url: string;
}

/**
 * The parse stage's seam: the pipeline knows only this. Rejects with a FetchError (PARSE or CANCELLED);
 * `destroy()` releases every thread so nothing keeps the process alive.
 */
export interface PageParser {
  parse(page: Page, signal: AbortSignal): Promise<ParsedFields>;
  destroy(): Promise<void>;
}
