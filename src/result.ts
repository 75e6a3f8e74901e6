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
  /** Body size in bytes after decompression. */
  bytes: number;
  /** From the first attempt's start to the result, retries and parsing included. */
  elapsedMs: number;
  /** Requests made for this URL, retries and HEAD→GET fallbacks included (0: never requested). */
  attempts: number;
  /** Redirects followed on the last attempt. */
  redirects: number;
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
    bytes: 0,
    elapsedMs: 0,
    attempts: 0,
    redirects: 0,
    title: null,
    description: null,
    ...extra,
  };
}
