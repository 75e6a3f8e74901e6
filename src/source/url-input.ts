import { FetchError, redactUrl } from '../errors.js';

/** A URL taken from the source, numbered in input order. Either `url` is set, or `error` says why it cannot be fetched. */
export interface UrlItem {
  index: number;
  /** The line as given, trimmed. */
  input: string;
  url: URL | null;
  error: FetchError | null;
}

/** True for lines that carry no URL: blanks and `#` comments. */
export function isSkippable(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** WHATWG URL parsing; only http(s) goes on. A bad line becomes an item with an error, never an exception. */
export function toUrlItem(raw: unknown, index: number): UrlItem {
  if (typeof raw !== 'string') {
    return { index, input: String(raw), url: null, error: new FetchError('INVALID_URL', `not a string: ${typeof raw}`) };
  }
  const input = raw.trim();
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { index, input, url: null, error: new FetchError('INVALID_URL', `not a valid absolute URL: ${JSON.stringify(redactUrl(input.slice(0, 200)))}`) };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { index, input, url: null, error: new FetchError('UNSUPPORTED_SCHEME', `only http and https are fetched, not ${url.protocol.slice(0, -1)}`) };
  }
  // The fragment never reaches the server; dropping it keeps "same page" URLs equal for de-duplication.
  // (Only when there is one: the setter re-serialises the URL, a measurable cost per URL on big lists.)
  if (url.hash !== '') url.hash = '';
  return { index, input, url, error: null };
}
