import { FetchError } from '../errors.js';
import { contentCodings } from './content-encoding.js';
import type { HeaderFields } from './headers.js';

/** Why a recorded payload is not the whole body: the values of `WARC-Truncated` (WARC 1.1 §5.13). */
export type Truncation = 'length' | 'time' | 'disconnect' | 'unspecified';

/**
 * One request and the response it got, as `ClientSettings.onExchange` hands it over: what a WARC `request` and
 * `response` record pair is made of (see keep/warc.ts, whose `WarcExchange` this fits). Every response received is
 * one: redirect hops and error statuses too, whose bodies are then read (up to `maxBytes`) instead of drained.
 */
export interface Exchange {
  /** The URL requested. */
  url: string;
  method: string;
  /** The header fields sent (undici adds `Host`). */
  requestHeaders: Record<string, string>;
  /** When the request started. */
  date: Date;
  status: number;
  statusText: string;
  /** undici's `request()` does not say; volley's requests are HTTP/1.1 unless `http2` is on. */
  httpVersion: string;
  /** As received: lower-cased names, a repeated field as an array. */
  responseHeaders: HeaderFields;
  /** The body with its Content-Encoding undone: what the result and `save` see. */
  payload: Uint8Array;
  /** The Content-Encoding the payload was decoded from; null when it is as received. */
  contentEncoding: string | null;
  /** Set when `payload` is not the whole body. */
  truncated: Truncation | null;
}

/** Why reading a body stopped, as WARC-Truncated says it. */
export function truncationOf(err: unknown, timedOut: boolean): Truncation {
  if (err instanceof FetchError && err.code === 'TOO_LARGE') return 'length';
  if (timedOut) return 'time';
  if (err instanceof FetchError && err.code === 'DECODE') return 'unspecified';
  return 'disconnect';
}

/** The Content-Encoding a decoded payload came from, or null when nothing was decoded. */
export function decodedFrom(contentEncoding: string | null): string | null {
  return contentCodings(contentEncoding).length > 0 ? contentEncoding : null;
}
