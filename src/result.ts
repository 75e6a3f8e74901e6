import type { ResultError } from './errors.js';
import { FetchError } from './errors.js';
import type { ParsedFields } from './parse/types.js';

/** One result per input URL: the JSONL line format. Failures are results too, with `ok: false` and an `error`. */
export interface FetchResult extends ParsedFields {
  /** The URL as given (trimmed). */
  url: string;
  /** The request object's `meta`, untouched (the same value); absent for URL strings and requests without one. */
  meta?: unknown;
  /** Where the last response came from, after redirects; null when no response arrived. */
  finalUrl: string | null;
  /** True when the final response is 2xx and its body was read (and parsed, for HTML). */
  ok: boolean;
  /** Final HTTP status, or null when no response arrived. */
  status: number | null;
  /** null, or `{ code, message }` with a stable code (see the README). */
  error: ResultError | null;
  contentType: string | null;
  /** The final response's `ETag`, as sent (quotes and `W/` included); null when it sent none or no response arrived (for a 304 to --since, the stored one when the server left it out). */
  etag: string | null;
  /** The final response's `Last-Modified`, as sent; null when it sent none or no response arrived. */
  lastModified: string | null;
  /** Body size in bytes after decompression. */
  bytes: number;
  /** From the first attempt's start to the result, retries and parsing included. */
  elapsedMs: number;
  /** Requests made for this URL, retries and HEAD→GET fallbacks included (0: never requested). */
  attempts: number;
  /** Redirects followed on the last attempt. */
  redirects: number;
  /** A crawl: links followed from a seed to reach this URL, by the shortest path (seeds are 0). */
  depth?: number;
  /** A crawl: the page where the link to this URL was first found at its depth; null for a seed. */
  referrer?: string | null;
  /** A URL read from a sitemap: its `<lastmod>` as the sitemap wrote it, or null. */
  lastmod?: string | null;
  /** The row of a sitemap that could not be fetched or parsed (`ok: false`, its code in `error`). */
  sitemap?: true;
  /**
   * A crawl: this URL redirects to one requested already in the run, which is not requested again; `status` is the
   * redirect's. The row of that URL is the page's.
   */
  duplicateOf?: string;
  /** Present (true) when the server answered 304 to the validators of an earlier run: nothing new, nothing parsed. */
  notModified?: true;
  /**
   * With `responseHeaders: true`: the final response's header fields, names lower-cased, a repeated field as an
   * array (so `set-cookie` stays whole). Absent when no response arrived.
   */
  headers?: Record<string, string | string[]>;
  /**
   * With `body: 'text'` the body as a string, with `body: 'bytes'` as a Uint8Array (decompressed). Set on 2xx
   * responses that have a body (HEAD responses have none); `fetchAll`'s and `fetchEach`'s types narrow it to the form asked for.
   */
  body?: string | Uint8Array;
  /** With `body: 'json'`: the body parsed, when the response is JSON (`application/json`, `text/json`, any `+json` type); else null. */
  json?: unknown;
  /** With `save`: where the body was written, relative to `save.dir` (`/`-separated). Set only once the file is complete. */
  savedAs?: string;
  /** With `save`: the hex SHA-256 of the bytes written. */
  sha256?: string;
}

/** The plain-data form of a failure, `stage` kept only where it is set (CANCELLED). */
export function toResultError(error: FetchError | ResultError): ResultError {
  return error.stage ? { code: error.code, message: error.message, stage: error.stage } : { code: error.code, message: error.message };
}

/** A result for a URL that never got (or lost) its response. */
export function failedResult(url: string, error: FetchError | ResultError, extra: Partial<FetchResult> = {}): FetchResult {
  const status = error instanceof FetchError ? error.status : null;
  return {
    url,
    finalUrl: null,
    ok: false,
    status,
    error: toResultError(error),
    contentType: null,
    etag: null,
    lastModified: null,
    bytes: 0,
    elapsedMs: 0,
    attempts: 0,
    redirects: 0,
    title: null,
    description: null,
    ...extra,
  };
}
