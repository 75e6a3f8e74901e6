import { STATUS_CODES } from 'node:http';
import { HeadersMultiMap, StatusAndHeaders } from 'warcio';

/** Header fields as undici gives them (`set-cookie` as an array), or as ordered name/value pairs. */
export type HeaderFields = Record<string, string | string[] | undefined> | readonly (readonly [string, string])[];

export type HeaderPairs = [string, string][];

/**
 * undici reads header values as latin1, one character per byte. A value whose bytes are valid UTF-8 (a
 * `Content-Disposition` with a UTF-8 file name) is turned back into those characters, so the archive, which
 * warcio writes as UTF-8, holds the bytes that came over the wire; other values keep their latin1 reading.
 * CR, LF and NUL never reach the archive: they would end the header block early.
 */
function cleanValue(value: string): string {
  let out = value;
  if (/^[\u0000-\u00ff]*$/u.test(value) && /[\u0080-\u00ff]/u.test(value)) {
    try {
      out = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
    } catch {
      // Not UTF-8: latin1 it was.
    }
  }
  return out.replace(/[\r\n\u0000]+/gu, ' ');
}

/** A header name is an RFC 9110 token; anything else could not have come from a parser and is dropped. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/u;

export function headerPairs(fields: HeaderFields): HeaderPairs {
  const entries: (readonly [string, string | string[] | undefined])[] = Array.isArray(fields) ? fields : Object.entries(fields);
  const out: HeaderPairs = [];
  for (const [name, value] of entries) {
    if (value === undefined || !TOKEN.test(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, cleanValue(String(v))]);
  }
  return out;
}

/**
 * Header fields written exactly as listed, in order, repeated fields as separate lines. warcio's own
 * HeadersMultiMap joins repeats with `,,,` and splits any value containing `,,,` on output, and throws on a repeated
 * `WARC-*` name: a server's headers must not be able to change or stop what is archived.
 */
class ExactHeaders extends HeadersMultiMap {
  readonly #pairs: HeaderPairs;
  constructor(pairs: HeaderPairs) {
    super();
    this.#pairs = pairs;
    for (const [name, value] of pairs) if (!this.has(name)) this.set(name, value);
  }
  override *[Symbol.iterator](): IterableIterator<[string, string]> {
    yield* this.#pairs;
  }
}

export function httpBlock(statusline: string, pairs: HeaderPairs): StatusAndHeaders {
  return new StatusAndHeaders({ statusline, headers: new ExactHeaders(pairs) });
}

/** `1.1`, `2`, `HTTP/1.1` → `HTTP/1.1`, `HTTP/2`. */
export function protocol(httpVersion: string): string {
  return httpVersion.startsWith('HTTP/') ? httpVersion : `HTTP/${httpVersion}`;
}

export function responseStatusLine(httpVersion: string, status: number, statusText: string): string {
  const reason = cleanValue(statusText || STATUS_CODES[status] || '');
  return `${protocol(httpVersion)} ${status}${reason ? ` ${reason}` : ''}`;
}

/** `content-encoding` → `Content-Encoding`, for the names volley adds. */
function titleCase(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/gu, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Responses whose Content-Length describes the representation, not a body in this message (RFC 9110 §8.6). */
function hasNoBody(method: string, status: number): boolean {
  return method.toUpperCase() === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
}

/**
 * The response's header fields, adjusted to describe the payload as stored: decoded, so `Content-Encoding` goes
 * (when `contentEncoding` says the payload was decoded from it), `Transfer-Encoding` goes (the payload is
 * de-chunked), and `Content-Length` is the stored length. Each original value is kept, in place, as
 * `X-Volley-Original-<Name>`, so nothing the server said is lost and a replay serves the bytes described.
 */
export function adjustedResponseHeaders(
  pairs: HeaderPairs,
  options: { method: string; status: number; payloadLength: number; decodedFrom: string | null },
): HeaderPairs {
  const fixLength = !hasNoBody(options.method, options.status);
  const length = String(options.payloadLength);
  const out: HeaderPairs = [];
  let lengthWritten = false;
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (lower === 'transfer-encoding' || (lower === 'content-encoding' && options.decodedFrom !== null)) {
      out.push([`X-Volley-Original-${titleCase(name)}`, value]);
    } else if (lower === 'content-length' && fixLength) {
      if (value.trim() !== length) out.push([`X-Volley-Original-${titleCase(name)}`, value]);
      if (!lengthWritten) out.push([name, length]);
      lengthWritten = true;
    } else {
      out.push([name, value]);
    }
  }
  if (fixLength && !lengthWritten) out.push(['Content-Length', length]);
  return out;
}

/** The request's header fields with `Host` first when the caller's list lacks it (undici adds it on the wire). */
export function requestHeaderPairs(url: URL, fields: HeaderFields): HeaderPairs {
  const pairs = headerPairs(fields);
  return pairs.some(([name]) => name.toLowerCase() === 'host') ? pairs : [['Host', url.host], ...pairs];
}
