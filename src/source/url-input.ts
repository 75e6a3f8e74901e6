import { FetchError, redactUrl } from '../errors.js';

/** A URL taken from the source, numbered in input order. Either `url` is set, or `error` says why it cannot be fetched. */
export interface UrlItem {
  index: number;
  /** The line as given, trimmed (only its first {@link ECHO_CHARS} characters when it is too long to be a URL). */
  input: string;
  url: URL | null;
  error: FetchError | null;
}

/**
 * Longest line or string taken as a URL, in UTF-8 bytes. Real URLs stay far below (servers answer 414 past a few
 * KiB); past this it is a binary file or a runaway line, and becomes an INVALID_URL result that echoes only its start.
 */
export const MAX_URL_BYTES = 64 * 1024;

/** How much of a bad input a result's `url` and message echo. */
export const ECHO_CHARS = 200;

/**
 * A line longer than {@link MAX_URL_BYTES}, as the line reader hands it over: its first characters and its length,
 * never the whole line (a 50 MB line must not become a 50 MB string, nor a 50 MB result).
 */
export class OverlongLine {
  constructor(
    /** The first {@link ECHO_CHARS} characters. */
    readonly head: string,
    /** The whole line's length in bytes, without the line break. */
    readonly bytes: number,
  ) {}
}

/** What a URL list yields: a line, or the stub of one too long to be a URL. */
export type SourceLine = string | OverlongLine;

/** The text of a source line: the line, or the start of an overlong one. */
export function textOf(line: SourceLine): string {
  return typeof line === 'string' ? line : line.head;
}

/** The first `n` UTF-16 units, not cutting a surrogate pair in half. */
export function headOf(text: string, n = ECHO_CHARS): string {
  if (text.length <= n) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

function tooLong(index: number, head: string, bytes: number): UrlItem {
  const message = `${bytes} bytes is too long for a URL (the limit is ${MAX_URL_BYTES / 1024} KiB); url shows the first ${ECHO_CHARS} characters`;
  return { index, input: headOf(head.trim()), url: null, error: new FetchError('INVALID_URL', message) };
}

/** WHATWG URL parsing; only http(s) goes on. A bad line becomes an item with an error, never an exception. */
export function toUrlItem(raw: unknown, index: number): UrlItem {
  if (raw instanceof OverlongLine) return tooLong(index, raw.head, raw.bytes);
  if (typeof raw !== 'string') {
    return { index, input: String(raw), url: null, error: new FetchError('INVALID_URL', `not a string: ${typeof raw}`) };
  }
  // Only a string that may be that long is measured: the common case costs one comparison.
  if (raw.length > MAX_URL_BYTES / 3) {
    const bytes = Buffer.byteLength(raw);
    if (bytes > MAX_URL_BYTES) return tooLong(index, raw.trimStart().slice(0, ECHO_CHARS * 2), bytes);
  }
  const input = raw.trim();
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { index, input, url: null, error: new FetchError('INVALID_URL', `not a valid absolute URL: ${JSON.stringify(redactUrl(input.slice(0, ECHO_CHARS)))}`) };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { index, input, url: null, error: new FetchError('UNSUPPORTED_SCHEME', `only http and https are fetched, not ${url.protocol.slice(0, -1)}`) };
  }
  // The fragment never reaches the server; dropping it keeps "same page" URLs equal for de-duplication.
  // (Only when there is one: the setter re-serialises the URL, a measurable cost per URL on big lists.)
  if (url.hash !== '') url.hash = '';
  return { index, input, url, error: null };
}
